//go:build unix

package cache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLockRefusesUnsafeFiles puts hostile things at an entry's lock path: each is
// refused with ErrUnsafe, at once, without touching what a symlink points to.
func TestLockRefusesUnsafeFiles(t *testing.T) {
	const key = "k"
	tests := []struct {
		name  string
		setup func(t *testing.T, lock, elsewhere string)
		want  string // in the error; "" for a lock that must be granted
	}{
		{"no lock file yet", func(t *testing.T, lock, elsewhere string) {}, ""},
		{"private lock file", func(t *testing.T, lock, elsewhere string) { write(t, lock, 0o600) }, ""},
		{"FIFO", func(t *testing.T, lock, elsewhere string) { mkfifo(t, lock) }, "is a FIFO"},
		{"symlink to a file", func(t *testing.T, lock, elsewhere string) {
			write(t, elsewhere, 0o600)
			symlink(t, elsewhere, lock)
		}, "is a symlink"},
		{"dangling symlink", func(t *testing.T, lock, elsewhere string) { symlink(t, elsewhere, lock) }, "is a symlink"},
		{"symlink to a FIFO", func(t *testing.T, lock, elsewhere string) {
			mkfifo(t, elsewhere)
			symlink(t, elsewhere, lock)
		}, "is a symlink"},
		{"folder", func(t *testing.T, lock, elsewhere string) {
			if err := os.Mkdir(lock, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "is a folder"},
		{"group-readable", func(t *testing.T, lock, elsewhere string) { write(t, lock, 0o640) }, "has mode 0640"},
		{"other-writable", func(t *testing.T, lock, elsewhere string) { write(t, lock, 0o602) }, "has mode 0602"},
		{"another user's", func(t *testing.T, lock, elsewhere string) {
			if os.Geteuid() != 0 {
				t.Skip("only root can give a file to another user")
			}
			write(t, lock, 0o600)
			if err := os.Chown(lock, 4242, 4242); err != nil {
				t.Fatal(err)
			}
		}, "owned by uid 4242"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(filepath.Join(t.TempDir(), "cache"))
			if err != nil {
				t.Fatal(err)
			}
			lock := filepath.Join(s.Dir(), key+lockSuffix)
			elsewhere := filepath.Join(t.TempDir(), "target")
			tt.setup(t, lock, elsewhere)
			before, _ := os.Lstat(elsewhere)

			unlock, err := lockWithin(t, s, key)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Lock: %v", err)
				}
				unlock()
				if fi, err := os.Lstat(lock); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
					t.Errorf("lock file %v, %v; want a regular file of mode 0600", fi, err)
				}
				return
			}
			if err == nil {
				unlock()
				t.Fatalf("Lock granted; want a refusal mentioning %q", tt.want)
			}
			if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), lock) {
				t.Errorf("Lock: %v; want ErrUnsafe naming %s and mentioning %q", err, lock, tt.want)
			}
			after, _ := os.Lstat(elsewhere)
			if (before == nil) != (after == nil) || (before != nil && (before.Size() != after.Size() || !after.ModTime().Equal(before.ModTime()))) {
				t.Errorf("the symlink's target changed: %v -> %v", before, after)
			}
		})
	}
}

// TestLockRefusalReleases: a lock refused after it was taken (here, on a file others
// may read) is not left held, so fixing the mode is all it takes.
func TestLockRefusalReleases(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(s.Dir(), "k"+lockSuffix)
	write(t, lock, 0o644)
	if _, err := lockWithin(t, s, "k"); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("Lock on a 0644 file: %v, want ErrUnsafe", err)
	}
	if err := os.Chmod(lock, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	unlock, err := s.Lock(ctx, "k")
	if err != nil {
		t.Fatalf("Lock after chmod 0600: %v", err)
	}
	unlock()
}

// lockWithin calls Lock with a context that ends in a few seconds, and fails the
// test if Lock has not returned well after that: the bug was an open(2) that no
// context could end.
func lockWithin(t *testing.T, s *Store, key string) (func(), error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	type result struct {
		unlock func()
		err    error
	}
	done := make(chan result, 1)
	go func() {
		u, err := s.Lock(ctx, key)
		done <- result{u, err}
	}()
	select {
	case r := <-done:
		return r.unlock, r.err
	case <-time.After(20 * time.Second):
		t.Fatalf("Lock(%q) still blocked 15 s after its context ended", key)
		return nil, nil
	}
}

func write(t *testing.T, path string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, nil, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // whatever the umask
		t.Fatal(err)
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
