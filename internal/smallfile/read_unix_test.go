//go:build unix

package smallfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	big := filepath.Join(dir, "big")
	fifo := filepath.Join(dir, "fifo")
	link := filepath.Join(dir, "link")
	if err := os.WriteFile(small, []byte("token"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, []byte(strings.Repeat("x", 2048)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(small, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path    string
		want    string
		wantErr string
	}{
		{small, "token", ""},
		{link, "token", ""},
		{big, "", "larger than 1 KiB"},
		{fifo, "", "not a regular file"}, // refused at once, never blocked on
		{dir, "", "not a regular file"},
		{filepath.Join(dir, "missing"), "", "no such file"},
	}
	for _, tt := range tests {
		got, err := Read(tt.path, 1024)
		if string(got) != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Read(%s) = %q, %v; want %q, %q", filepath.Base(tt.path), got, err, tt.want, tt.wantErr)
		}
	}
}
