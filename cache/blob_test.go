//go:build unix

package cache

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBlobRoundTrip(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	const name = "login-0123abcd.token"
	if got, err := s.LoadBlob(name); got != nil || err != nil {
		t.Fatalf("LoadBlob of a missing blob = %q, %v, want a miss", got, err)
	}
	for _, data := range [][]byte{[]byte(`{"token":"first"}`), []byte(`{"token":"second, longer"}`)} {
		if err := s.SaveBlob(name, data); err != nil {
			t.Fatalf("SaveBlob: %v", err)
		}
		got, err := s.LoadBlob(name)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("LoadBlob = %q, %v, want %q", got, err, data)
		}
	}
	fi, err := os.Stat(filepath.Join(s.Dir(), name))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("blob mode %04o under umask 0, want 0600", fi.Mode().Perm())
	}
	if tmp, _ := filepath.Glob(filepath.Join(s.Dir(), tempPattern)); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	// Blobs are not entries: List does not show them.
	if l, err := s.List(); err != nil || len(l) != 0 {
		t.Errorf("List = %v, %v, want no entries", l, err)
	}
}

func TestBlobNames(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for _, name := range []string{"", ".hidden", "../escape", "a/b", "key.json", "key.lock", "spa ce", strings.Repeat("x", 201)} {
		if err := s.SaveBlob(name, []byte("x")); err == nil {
			t.Errorf("SaveBlob(%q) succeeded", name)
		}
		if _, err := s.LoadBlob(name); err == nil {
			t.Errorf("LoadBlob(%q) succeeded", name)
		}
	}
	if err := s.SaveBlob("ok-name_1.token", bytes.Repeat([]byte("x"), maxBlobSize+1)); err == nil {
		t.Errorf("SaveBlob of an oversized blob succeeded")
	}
}

func TestLoadBlobRefusesUnsafeFiles(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	outside := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(outside, []byte("token"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup func(path string) error
	}{
		{"symlink", func(path string) error { return os.Symlink(outside, path) }},
		{"readable by others", func(path string) error {
			if err := os.WriteFile(path, []byte("token"), 0o600); err != nil {
				return err
			}
			return os.Chmod(path, 0o644)
		}},
		{"a folder", func(path string) error { return os.Mkdir(path, 0o700) }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "blob-" + string(rune('a'+i)) + ".token"
			path := filepath.Join(s.Dir(), name)
			if err := tt.setup(path); err != nil {
				t.Fatal(err)
			}
			got, err := s.LoadBlob(name)
			if !errors.Is(err, ErrUnsafe) {
				t.Fatalf("LoadBlob = %q, %v, want ErrUnsafe", got, err)
			}
			// Named as what it is, whatever the reason: a login token is no entry.
			if want := "cache file " + strconv.Quote(path) + " "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q, want it to start with %q", err, want)
			}
		})
	}
	t.Run("oversized is a miss", func(t *testing.T) {
		path := filepath.Join(s.Dir(), "big.token")
		if err := os.WriteFile(path, bytes.Repeat([]byte("x"), maxBlobSize+1), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := s.LoadBlob("big.token"); got != nil || err != nil {
			t.Errorf("LoadBlob = %d bytes, %v, want a miss", len(got), err)
		}
	})
}

// TestBlobLock: a blob's writers take the same per-name lock as entries.
func TestBlobLock(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	unlock, err := s.Lock(context.Background(), "login-abc")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(ctx, "login-abc"); err == nil {
		t.Errorf("a second Lock of a held name succeeded")
	}
	unlock()
	again, err := s.Lock(context.Background(), "login-abc")
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	again()
}
