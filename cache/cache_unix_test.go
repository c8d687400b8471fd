//go:build unix

package cache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// withUmask sets the process umask for the test's duration. Tests using it
// must not run in parallel.
func withUmask(t *testing.T, mask int) {
	t.Helper()
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestOpenCreatesPrivateFolder(t *testing.T) {
	for _, mask := range []int{0, 0o022, 0o077} {
		t.Run("umask "+fs.FileMode(mask).String(), func(t *testing.T) {
			withUmask(t, mask)
			parent := filepath.Join(t.TempDir(), "xdg-cache")
			dir := filepath.Join(parent, "vault-credential-process")
			s, err := Open(dir)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if s.Dir() != dir {
				t.Errorf("Dir = %q, want %q", s.Dir(), dir)
			}
			if m := mode(t, dir); m != 0o700 {
				t.Errorf("cache folder mode %04o, want 0700", m)
			}
			if m := mode(t, parent); m&0o077 != 0 {
				t.Errorf("created parent folder mode %04o is open to others", m)
			}

			// An entry written under this umask is 0600 too.
			key := Key("mode")
			if err := s.Save(key, entryFor(base, time.Hour)); err != nil {
				t.Fatalf("Save: %v", err)
			}
			if m := mode(t, s.path(key)); m != 0o600 {
				t.Errorf("entry mode %04o, want 0600", m)
			}
			if got, err := s.Load(key); got == nil || err != nil {
				t.Errorf("Load = %+v, %v", got, err)
			}

			// Opening an existing private folder works.
			if _, err := Open(dir); err != nil {
				t.Errorf("second Open: %v", err)
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	withUmask(t, 0o022)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) // makes dir unsafe
	}{
		{"symlinked folder", func(t *testing.T, dir string) {
			real := dir + "-real"
			if err := os.Mkdir(real, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, dir); err != nil {
				t.Fatal(err)
			}
		}},
		{"dangling symlink", func(t *testing.T, dir string) {
			if err := os.Symlink(dir+"-nowhere", dir); err != nil {
				t.Fatal(err)
			}
		}},
		{"group-writable folder", func(t *testing.T, dir string) {
			mkdirMode(t, dir, 0o770)
		}},
		{"other-writable folder", func(t *testing.T, dir string) {
			mkdirMode(t, dir, 0o703)
		}},
		{"world-writable sticky folder", func(t *testing.T, dir string) {
			mkdirMode(t, dir, 0o777)
			if err := os.Chmod(dir, 0o777|fs.ModeSticky); err != nil {
				t.Fatal(err)
			}
		}},
		{"a file, not a folder", func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			tt.setup(t, dir)
			s, err := Open(dir)
			if s != nil {
				t.Errorf("Open returned a store for an unsafe folder")
			}
			if !errors.Is(err, ErrUnsafe) {
				t.Fatalf("Open error %v, want one wrapping ErrUnsafe", err)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the folder", err)
			}
		})
	}
	t.Run("control: a readable but private-write folder is accepted", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "cache")
		mkdirMode(t, dir, 0o755)
		if _, err := Open(dir); err != nil {
			t.Errorf("Open: %v", err)
		}
	})
}

func mkdirMode(t *testing.T, dir string, m fs.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, m); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRefusesUnsafeEntries(t *testing.T) {
	withUmask(t, 0o022)
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	good := encode(t, entryFor(base, time.Hour))
	outside := filepath.Join(t.TempDir(), "elsewhere.json")
	if err := os.WriteFile(outside, good, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
	}{
		{"symlink to a good entry", func(t *testing.T, path string) {
			if err := os.Symlink(outside, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"dangling symlink", func(t *testing.T, path string) {
			if err := os.Symlink(outside+"-gone", path); err != nil {
				t.Fatal(err)
			}
		}},
		{"readable by others", func(t *testing.T, path string) {
			writeMode(t, path, good, 0o604)
		}},
		{"readable by group", func(t *testing.T, path string) {
			writeMode(t, path, good, 0o640)
		}},
		{"writable by group", func(t *testing.T, path string) {
			writeMode(t, path, good, 0o620)
		}},
		{"a folder", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := Key(tt.name)
			tt.setup(t, s.path(key))
			got, err := s.Load(key)
			if got != nil {
				t.Errorf("Load returned an entry from an unsafe file: %+v", got)
			}
			if !errors.Is(err, ErrUnsafe) {
				t.Errorf("Load error %v, want one wrapping ErrUnsafe", err)
			}
		})
	}
	t.Run("control: a 0600 entry loads", func(t *testing.T) {
		key := Key("control")
		writeMode(t, s.path(key), good, 0o600)
		if got, err := s.Load(key); got == nil || err != nil {
			t.Errorf("Load = %+v, %v", got, err)
		}
	})
	t.Run("unsafe entries are listed as broken", func(t *testing.T) {
		ls, err := s.List()
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		var ok int
		for _, l := range ls {
			if l.Entry != nil {
				ok++
				if l.Key != Key("control") {
					t.Errorf("List loaded unsafe entry %s", l.Key)
				}
			}
		}
		if ok != 1 {
			t.Errorf("List loaded %d entries, want 1", ok)
		}
	})
}

func writeMode(t *testing.T, path string, data []byte, m fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, m); err != nil {
		t.Fatal(err)
	}
}

func TestLockFileIsPrivate(t *testing.T) {
	withUmask(t, 0)
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	key := Key("lockmode")
	unlock, err := s.Lock(t.Context(), key)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer unlock()
	if m := mode(t, filepath.Join(s.Dir(), key+lockSuffix)); m&0o077 != 0 {
		t.Errorf("lock file mode %04o is open to others", m)
	}
}

func TestSaveLeavesNoTempFileOnError(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	// The entry's name is a folder, so the rename fails after the
	// temporary file was written.
	key := Key("blocked")
	if err := os.Mkdir(s.path(key), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.path(key), "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(key, entryFor(base, time.Hour)); err == nil {
		t.Fatal("Save over a non-empty folder succeeded")
	}
	des, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", de.Name())
		}
	}
}

// TestLoadRefusesFIFO puts a FIFO where an entry belongs: Load must refuse it
// at once rather than block waiting for a writer.
func TestLoadRefusesFIFO(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := Key("fifo")
	if err := syscall.Mkfifo(filepath.Join(dir, key+".json"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Load(key)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnsafe) {
			t.Errorf("Load of a FIFO: %v, want ErrUnsafe", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Load blocked on a FIFO")
	}
}
