package smallfile

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestWriteFile: the file gets the data and the mode asked for, a symlink in
// its place is replaced rather than followed, and no temporary file stays
// behind, whether the write succeeds or fails after the temporary file was
// made.
func TestWriteFile(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) // what is in the folder before
		perm    os.FileMode
		wantErr bool
		keep    []string // names that must stay as they were
	}{
		{name: "new file", perm: 0o600},
		{name: "replaces a file, mode as asked", perm: 0o644, setup: func(t *testing.T, dir string) {
			putFile(t, filepath.Join(dir, "target"), "old", 0o600)
		}},
		{name: "replaces a symlink, not its target", perm: 0o600, keep: []string{"elsewhere"}, setup: func(t *testing.T, dir string) {
			putFile(t, filepath.Join(dir, "elsewhere"), "theirs", 0o600)
			if err := os.Symlink("elsewhere", filepath.Join(dir, "target")); err != nil {
				t.Skipf("no symlinks here: %v", err)
			}
		}},
		// The rename fails: the temporary file was written and must go.
		{name: "a folder in the way", perm: 0o600, wantErr: true, keep: []string{"target/inside"}, setup: func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "target"), 0o700); err != nil {
				t.Fatal(err)
			}
			putFile(t, filepath.Join(dir, "target", "inside"), "theirs", 0o600)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			before := snapshot(t, dir, tt.keep)
			target := filepath.Join(dir, "target")
			err := WriteFile(target, []byte("new data"), tt.perm)
			if (err != nil) != tt.wantErr {
				t.Fatalf("WriteFile: %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), target) {
				t.Errorf("error %q does not name %s", err, target)
			}
			if names := tempNames(t, dir); len(names) != 0 {
				t.Errorf("temporary files left behind: %v", names)
			}
			if after := snapshot(t, dir, tt.keep); !slices.Equal(after, before) {
				t.Errorf("changed what it should leave: %q, was %q", after, before)
			}
			if tt.wantErr {
				return
			}
			fi, err := os.Lstat(target)
			if err != nil {
				t.Fatal(err)
			}
			if !fi.Mode().IsRegular() {
				t.Errorf("%s is %v, want a regular file", target, fi.Mode())
			}
			if runtime.GOOS != "windows" && fi.Mode().Perm() != tt.perm {
				t.Errorf("mode %04o, want %04o", fi.Mode().Perm(), tt.perm)
			}
			if data, err := os.ReadFile(target); err != nil || string(data) != "new data" {
				t.Errorf("content %q (%v), want %q", data, err, "new data")
			}
		})
	}
}

// TestWriteFileNoFolder fails before any temporary file exists, and says where.
func TestWriteFileNoFolder(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "missing", "target")
	if err := WriteFile(target, []byte("x"), 0o600); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "missing")) {
		t.Fatalf("WriteFile into a missing folder: %v, want an error naming it", err)
	}
	if names := tempNames(t, dir); len(names) != 0 {
		t.Errorf("left behind: %v", names)
	}
}

func putFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

// snapshot is the content of each of names in dir.
func snapshot(t *testing.T, dir string, names []string) []string {
	t.Helper()
	var out []string
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n+"="+string(data))
	}
	return out
}

// tempNames lists the temporary files in dir.
func tempNames(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, TempPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestTempTarget(t *testing.T) {
	dir := t.TempDir()
	f, err := os.CreateTemp(dir, filepath.Base(TempGlob(dir, "abc.json")))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	tests := []struct {
		name, want string
		ok         bool
	}{
		{filepath.Base(f.Name()), "abc.json", true}, // what WriteFile names them
		{".tmp-login-0a.token-123", "login-0a.token", true},
		{".tmp-123", "", false}, // an older version's: no target
		{"abc.json", "", false},
		{".tmp--1", "", false},
	}
	for _, tt := range tests {
		if got, ok := TempTarget(tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("TempTarget(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
