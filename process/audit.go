package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/smallfile"
)

// AuditRecord is one line of the audit trail: which credentials a run
// handed out and where they came from. It holds no secret: the access key
// id names the credentials, the secret key and session token stay out.
type AuditRecord struct {
	Time         time.Time        `json:"time"`
	Command      string           `json:"command"`
	Profile      string           `json:"profile,omitempty"`
	VaultAddress string           `json:"vault_address"`
	Namespace    string           `json:"vault_namespace,omitempty"`
	Mount        string           `json:"mount"`
	Role         string           `json:"role"`
	Type         string           `json:"type,omitempty"`
	Source       CredentialSource `json:"source"`
	AccessKeyID  string           `json:"access_key_id"`
	LeaseID      string           `json:"lease_id,omitempty"`
	Expiration   time.Time        `json:"expiration"`
	PID          int              `json:"pid"`
}

// NewAuditRecord describes credentials c, obtained from source, for the
// run's settings.
func (r *Runner) NewAuditRecord(command string, c *Credentials, source CredentialSource) AuditRecord {
	s := r.Settings
	return AuditRecord{
		Time: r.Now().UTC(), Command: command, Profile: s.Profile, VaultAddress: s.DisplayAddress(),
		Namespace: s.Namespace, Mount: s.Mount, Role: s.Role, Type: s.Type, Source: source,
		AccessKeyID: c.AccessKeyID, LeaseID: c.LeaseID, Expiration: c.Expiration.UTC(), PID: os.Getpid(),
	}
}

// AppendAudit appends rec to the audit log at path as one JSON line. The
// file is created 0600, and its folder 0700 if it is missing; the line goes
// out in a single O_APPEND write, so lines of parallel runs never
// interleave. Anything but a regular file at path is refused (see
// openAuditLog). The caller names the log: the errors only say what went
// wrong with it.
func AppendAudit(path string, rec AuditRecord) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("cannot encode the record: %w", err)
	}
	f, err := openAuditLog(path)
	if errors.Is(err, fs.ErrNotExist) {
		dir := filepath.Dir(path)
		if merr := os.MkdirAll(dir, 0o700); merr != nil {
			return fmt.Errorf("cannot create its folder: %s; create it (mkdir -p -m 700 %s) or set another path", config.PathReason(merr), dir)
		}
		f, err = openAuditLog(path)
	}
	if err != nil {
		return fmt.Errorf("cannot open it: %s", config.PathReason(err))
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("cannot write it: %s", config.PathReason(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write it: %s", config.PathReason(err))
	}
	return nil
}

// openAuditLog opens path for appending, creating it 0600, and refuses
// anything but a regular file: opening a FIFO blocks until someone reads
// it (O_NONBLOCK makes that an error instead), and a symlink would send
// the record wherever it points. O_NOFOLLOW is not on every system, so
// symlinks are kept out another way: O_EXCL creates the file without ever
// following one, and an existing file is checked before it is opened and
// must be the one opened.
func openAuditLog(path string) (*os.File, error) {
	const flag = os.O_WRONLY | os.O_APPEND | syscall.O_NONBLOCK
	f, err := os.OpenFile(path, flag|os.O_CREATE|os.O_EXCL, 0o600)
	if !errors.Is(err, fs.ErrExist) {
		return f, err
	}
	before, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, fmt.Errorf("it is %s, not a regular file", smallfile.FileKind(before.Mode()))
	}
	f, err = os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, err
	}
	after, err := f.Stat()
	if err == nil && !os.SameFile(before, after) {
		err = errors.New("it was replaced while being opened")
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
