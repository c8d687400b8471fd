//go:build unix

package smallfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadPrivate: a private file of the current user's is read; a
// symlink (even to such a file), a FIFO, a folder and a file others may
// read are refused as unsafe, at once; a missing or oversized file is an
// error that is not UnsafeError, so that the cache can take it for a miss.
func TestReadPrivate(t *testing.T) {
	dir := t.TempDir()
	put := func(name, data string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // whatever the umask
			t.Fatal(err)
		}
		return p
	}
	private := put("private", "secret", 0o600)
	groupRead := put("group", "secret", 0o640)
	big := put("big", strings.Repeat("x", 2048), 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(private, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path       string
		want       string
		wantUnsafe string // the reason, when refused as unsafe
		wantErr    error  // another error
	}{
		{path: private, want: "secret"},
		{path: link, wantUnsafe: "is a symlink"},
		{path: fifo, wantUnsafe: "is not a regular file"},
		{path: dir, wantUnsafe: "is not a regular file"},
		{path: groupRead, wantUnsafe: "has mode 0640, open to other users"},
		{path: big, wantErr: errTooLarge},
		{path: filepath.Join(dir, "missing"), wantErr: os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			got, err := ReadPrivate(tt.path, 1024)
			var unsafe *UnsafeError
			isUnsafe := errors.As(err, &unsafe)
			switch {
			case tt.wantUnsafe != "":
				if !isUnsafe || unsafe.Reason != tt.wantUnsafe || unsafe.Path != tt.path || got != nil {
					t.Errorf("ReadPrivate = %q, %v; want refused: %s", got, err, tt.wantUnsafe)
				}
				if want := `"` + tt.path + `" ` + tt.wantUnsafe; err.Error() != want {
					t.Errorf("error %q, want %q", err, want)
				}
			case tt.wantErr != nil:
				if isUnsafe || !errors.Is(err, tt.wantErr) || got != nil {
					t.Errorf("ReadPrivate = %q, %v; want %v", got, err, tt.wantErr)
				}
			default:
				if err != nil || string(got) != tt.want {
					t.Errorf("ReadPrivate = %q, %v; want %q", got, err, tt.want)
				}
			}
		})
	}
}

// TestWriteFileReplacesFIFO: a FIFO where the file goes is replaced, never
// opened (which would block until a reader came).
func TestWriteFileReplacesFIFO(t *testing.T) {
	target := filepath.Join(t.TempDir(), "target")
	if err := syscall.Mkfifo(target, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(target, []byte("new data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadPrivate(target, 1024); err != nil || string(data) != "new data" {
		t.Errorf("after WriteFile: %q, %v; want a regular file holding %q", data, err, "new data")
	}
}
