package main

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestServeUsageErrors: serve and exec --server refuse what their flags cannot mean
// before any network call (exit 2, one error line and a hint).
func TestServeUsageErrors(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		msg, hint string
	}{
		{"unknown format", []string{"serve", "--role", "dev", "--format", "csh"}, `unknown shell format "csh"`, "use sh, fish or powershell"},
		{"profiles twice", []string{"serve", "--profile", "a", "b"}, "either with --profile or as arguments", "for usage"},
		{"imds without server", []string{"exec", "--imds", "--role", "dev", "--", "true"}, "--imds needs --server", "for usage"},
		{"unknown flag", []string{"serve", "--listen-on", "x"}, "unknown flag --listen-on", "for usage"},
		{"listen on 0.0.0.0", []string{"serve", "--role", "dev", "--listen", "0.0.0.0:0"}, "--listen 0.0.0.0:0 listens on every address", "name one address: 127.0.0.1:PORT"},
		{"listen with no address", []string{"serve", "--role", "dev", "--listen", ":0"}, "--listen :0 listens on every address", "name one address: 127.0.0.1:PORT"},
		{"listen on a port alone", []string{"serve", "--role", "dev", "--listen", ":9911"}, "--listen :9911 listens on every address", "or a link-local or container address"},
		{"listen on [::]", []string{"serve", "--role", "dev", "--listen", "[::]:9911"}, "--listen [::]:9911 listens on every address", "name one address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runInProcess(t, fakeEnv(t, nil), tt.args...)
			assertFailure(t, r, process.ExitUsage, tt.msg, tt.hint)
		})
	}
}

// TestTokenFileGuards: --token-file never replaces a file of the user's,
// and at shutdown removes only a file that still holds this server's token.
func TestTokenFileGuards(t *testing.T) {
	dir := t.TempDir()
	precious := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(precious, []byte("my notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkTokenFile(precious); err == nil {
		t.Error("a file of the user's may be replaced")
	}
	const mine, theirs = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	old := filepath.Join(dir, "serve.token")
	if err := os.WriteFile(old, []byte(theirs), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkTokenFile(old); err != nil {
		t.Errorf("an earlier server's token file: %v", err)
	}
	if err := checkTokenFile(filepath.Join(dir, "new.token")); err != nil {
		t.Errorf("a missing file: %v", err)
	}
	removeTokenFile(old, mine) // another server's now: kept
	if _, err := os.Stat(old); err != nil {
		t.Errorf("another server's token file was removed: %v", err)
	}
	removeTokenFile(old, theirs)
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the server's own token file is still there: %v", err)
	}
}

// TestServeSquattedPort: when serve cannot bind its fixed --listen port
// (another process holds it, as after an unclean exit another user may),
// it removes the token file an earlier server left there, so that clients
// fail instead of sending their requests to the port's holder, and says so.
// A file at --token-file that is not a token file is left alone.
func TestServeSquattedPort(t *testing.T) {
	skipOnWindows(t)
	const stale = "sssssssssssssssssssssssssssssssssssssssssss"
	tests := []struct {
		name     string
		flag     bool   // --token-file
		contents string // of that file
		removed  bool
	}{
		{"default token files", false, stale, true},
		{"--token-file", true, stale, true},
		{"--token-file holding something else", true, "my notes\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unitEnv(t)
			rt := privateDir(t)
			t.Setenv("XDG_RUNTIME_DIR", rt)
			t.Setenv("VAULT_ADDR", fakeVault(t, 200, iamUserAnswer))
			t.Setenv("VAULT_TOKEN", unitToken)
			squatter, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer squatter.Close()
			addr := squatter.Addr().String()
			file := "serve-" + port(addr) + ".token"
			paths := []string{filepath.Join(rt, "vault-credential-process", file), filepath.Join(os.Getenv("XDG_CACHE_HOME"), name, file)}
			args := []string{"serve", "--role", "dev", "--listen", addr}
			if tt.flag {
				paths = []string{filepath.Join(t.TempDir(), "token")}
				args = append(args, "--token-file", paths[0])
			}
			for _, p := range paths {
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(tt.contents), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			r := runInProcess(t, os.Getenv, args...)
			msg := "address already in use"
			if tt.removed {
				msg = "an earlier server's token file, so that its clients fail instead of asking whoever holds the port"
			}
			// What serve said before it tried to listen (the warm-up's line),
			// then the failure.
			lines := strings.SplitAfter(r.stderr, "\n")
			r.stderr = strings.Join(lines[max(len(lines)-3, 0):], "")
			assertFailure(t, r, process.ExitFailure, msg, "socket activation")
			for _, p := range paths {
				_, err := os.Stat(p)
				if gone := errors.Is(err, fs.ErrNotExist); gone != tt.removed {
					t.Errorf("%s removed: %v, want %v", p, gone, tt.removed)
				}
				if tt.removed && !strings.Contains(r.stderr, p) {
					t.Errorf("the error does not name the removed %s", p)
				}
			}
		})
	}
}

// TestTokenDir: token files go to the helper's folder in $XDG_RUNTIME_DIR,
// made 0700, when that is a folder of the user's that no one else may
// enter; else to the cache folder.
func TestTokenDir(t *testing.T) {
	skipOnWindows(t)
	tests := []struct {
		name    string
		runtime func(t *testing.T) string
		inRT    bool
	}{
		{"private runtime folder", privateDir, true},
		{"none", func(*testing.T) string { return "" }, false},
		{"relative", func(*testing.T) string { return "run/user" }, false},
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "gone") }, false},
		{"open to others", func(t *testing.T) string {
			d := t.TempDir()
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
			return d
		}, false},
		{"a symlink", func(t *testing.T) string {
			d := privateDir(t)
			link := filepath.Join(t.TempDir(), "link")
			if err := os.Symlink(d, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := tt.runtime(t)
			cacheDir := filepath.Join(t.TempDir(), "cache")
			c := &cli{getenv: func(k string) string {
				if k == "XDG_RUNTIME_DIR" {
					return rt
				}
				return ""
			}}
			dir, err := c.tokenDir(cacheDir)
			if err != nil {
				t.Fatal(err)
			}
			want := cacheDir
			if tt.inRT {
				want = filepath.Join(rt, "vault-credential-process")
			}
			if dir != want {
				t.Errorf("token folder %s, want %s", dir, want)
			}
			if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("token folder %s: %v, want mode 0700", dir, err)
			}
		})
	}
}

// port is the port of host:port.
func port(hostport string) string {
	_, p, _ := net.SplitHostPort(hostport)
	return p
}

// privateDir is a new folder only the user may enter, as $XDG_RUNTIME_DIR
// is (t.TempDir's are open to others to read).
func privateDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// skipOnWindows skips a test of $XDG_RUNTIME_DIR and Unix modes: Windows
// has neither.
func skipOnWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no XDG_RUNTIME_DIR or Unix modes on Windows")
	}
}

// TestServeDetachUnderSystemd: --detach is refused (exit 2) when systemd
// runs serve (Type=notify or socket activation): the service is in the
// background already, and a second copy would escape its supervision.
func TestServeDetachUnderSystemd(t *testing.T) {
	skipOnWindows(t)
	unitEnv(t)
	t.Setenv("NOTIFY_SOCKET", "@vcp-never-listened")
	r := runInProcess(t, os.Getenv, "serve", "--role", "dev", "--detach")
	assertFailure(t, r, process.ExitUsage, "--detach under systemd", "for usage")
}
