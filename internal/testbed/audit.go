package testbed

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// auditEntry is the part of a Vault file audit device line the bed looks at. With
// log_raw=false, secrets are HMAC'd but type, operation and path are plain.
type auditEntry struct {
	Type    string `json:"type"` // "request" or "response"
	Request struct {
		Operation string `json:"operation"` // "read", "update", "list", ...
		Path      string `json:"path"`      // without /v1/, e.g. "aws/creds/iam"
	} `json:"request"`
}

// auditPath is the file audit log of the bed's Vault.
func (b *Bed) auditPath() string {
	return filepath.Join(b.Dir, "audit.log")
}

// AuditCount counts the request entries in Vault's audit log for path (such as
// "aws/creds/iam", without /v1/) and method, Vault's operation name: "read" for GET,
// "update" for POST and PUT, "list", "delete"; "" counts any operation, and a path of ""
// any path. Vault writes the entry before it answers, so a count taken after a response
// includes that request.
func (b *Bed) AuditCount(method, path string) (int, error) {
	f, err := os.Open(b.auditPath())
	if err != nil {
		return 0, fmt.Errorf("open audit log: %w", err)
	}
	defer f.Close()
	n, err := countAudit(f, method, path)
	if err != nil {
		return 0, fmt.Errorf("read audit log %s: %w", b.auditPath(), err)
	}
	return n, nil
}

// countAudit counts request entries for method and path in a JSON-lines audit log. A
// last line without its newline is still being written and is not counted.
func countAudit(r io.Reader, method, path string) (int, error) {
	br := bufio.NewReader(r)
	n := 0
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var e auditEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return 0, fmt.Errorf("line %d: %w", lineNo, err)
		}
		if e.Type == "request" && (path == "" || e.Request.Path == path) && (method == "" || e.Request.Operation == method) {
			n++
		}
	}
}
