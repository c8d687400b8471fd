//go:build unix

package process

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
)

// TestAppendAuditRefuses: the audit log is appended to only when it is a regular
// file; a FIFO (with or without a reader), a symlink or a folder is refused at once
// with an error saying what is there, and nothing is written through it.
func TestAppendAuditRefuses(t *testing.T) {
	rec := AuditRecord{Command: "credential_process", Role: "r", AccessKeyID: "AKIAEXAMPLE", PID: 1}
	line, _ := json.Marshal(rec)
	tests := []struct {
		name  string
		setup func(t *testing.T, log, elsewhere string)
		want  string // in the error; "" for an append that must succeed
		had   string // the log's content before, for a successful append
	}{
		{"new log", func(t *testing.T, log, elsewhere string) {}, "", ""},
		{"existing log", func(t *testing.T, log, elsewhere string) {
			if err := os.WriteFile(log, []byte("{}\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "", "{}\n"},
		{"FIFO without a reader", func(t *testing.T, log, elsewhere string) { mkfifo(t, log) }, "it is a FIFO, not a regular file", ""},
		{"FIFO with a reader", func(t *testing.T, log, elsewhere string) {
			mkfifo(t, log)
			r, err := os.OpenFile(log, os.O_RDONLY|syscall.O_NONBLOCK, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				buf := make([]byte, 4096)
				if n, _ := r.Read(buf); n > 0 {
					t.Errorf("the reader of the FIFO got %q", buf[:n])
				}
				r.Close()
			})
		}, "it is a FIFO, not a regular file", ""},
		{"symlink to a file", func(t *testing.T, log, elsewhere string) {
			if err := os.WriteFile(elsewhere, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(elsewhere, log); err != nil {
				t.Fatal(err)
			}
		}, "it is a symlink, not a regular file", ""},
		{"dangling symlink", func(t *testing.T, log, elsewhere string) {
			if err := os.Symlink(elsewhere, log); err != nil {
				t.Fatal(err)
			}
		}, "it is a symlink, not a regular file", ""},
		{"folder", func(t *testing.T, log, elsewhere string) {
			if err := os.Mkdir(log, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "it is a folder, not a regular file", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			log, elsewhere := filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "elsewhere")
			tt.setup(t, log, elsewhere)
			err := testenv.Within(t, "AppendAudit", func() error { return AppendAudit(log, rec) })
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("AppendAudit: %v, want an error with %q", err, tt.want)
				}
				if data, err := os.ReadFile(elsewhere); err == nil && len(data) > 0 {
					t.Errorf("written through the symlink: %q", data)
				} else if tt.name == "dangling symlink" && err == nil {
					t.Errorf("the symlink's target was created")
				}
				return
			}
			if err != nil {
				t.Fatalf("AppendAudit: %v", err)
			}
			data, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.had + string(line) + "\n"; !bytes.Equal(data, []byte(want)) {
				t.Errorf("log holds %q, want %q", data, want)
			}
			if fi, _ := os.Stat(log); tt.had == "" && fi.Mode().Perm() != 0o600 {
				t.Errorf("new log has mode %04o, want 0600", fi.Mode().Perm())
			}
		})
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
}
