//go:build unix

package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAppendAuditFolder: a log whose folder does not exist gets the folder,
// 0700, and the file, 0600; a folder that cannot be created is an error that
// says once what failed and how to create it.
func TestAppendAuditFolder(t *testing.T) {
	rec := AuditRecord{Command: "credential_process", Role: "r", AccessKeyID: "AKIAEXAMPLE", PID: 1}
	t.Run("missing folders are created", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b")
		log := filepath.Join(dir, "audit.log")
		if err := AppendAudit(log, rec); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
		for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Dir(dir): 0o700, log: 0o600} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s: mode %04o, want %04o", path, fi.Mode().Perm(), want)
			}
		}
		if data, _ := os.ReadFile(log); !strings.Contains(string(data), `"access_key_id":"AKIAEXAMPLE"`) {
			t.Errorf("log holds %q", data)
		}
	})
	t.Run("folder cannot be created", func(t *testing.T) {
		// A dangling symlink where the folder goes: the log is not there,
		// and no folder can be made in its place (root included).
		dir := filepath.Join(t.TempDir(), "logs")
		if err := os.Symlink(filepath.Join(t.TempDir(), "gone"), dir); err != nil {
			t.Fatal(err)
		}
		err := AppendAudit(filepath.Join(dir, "audit.log"), rec)
		want := "cannot create its folder: file exists; create it (mkdir -p -m 700 " + dir + ") or set another path"
		if err == nil || err.Error() != want {
			t.Errorf("AppendAudit: %v, want %q", err, want)
		}
	})
}
