// Package testenv holds what the tests of every package share: a clean
// process environment, folders that refuse writes, a watched child process
// group, bounded waits, the assert that no secret reached a text, small
// thread-safe recorders, and requests, connection counts and floods at the
// connection level for the HTTP servers' bounds (conns.go). It is imported
// by tests only.
package testenv

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// ClearVaultAWS unsets every VAULT_* and AWS_* variable of this process for
// the test's duration, so that only what the test sets reaches the code
// under test (vault/api and the AWS SDKs read them on their own).
func ClearVaultAWS(t testing.TB) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "VAULT_") || strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

// DirNames are the names in dir, sorted: what a test expects a writer to
// leave behind (and no temporary file).
func DirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Unwritable makes dir refuse new files until the test ends: mode 0500,
// and for root, who ignores modes, the immutable attribute.
func Unwritable(t testing.TB, dir string) {
	t.Helper()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	if os.Geteuid() == 0 {
		Immutable(t, dir)
	}
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, nil, 0o600); err == nil {
		os.Remove(probe)
		t.Fatalf("%s is still writable", dir)
	}
}

// Immutable sets the immutable attribute on path until the test ends (root
// only). Without chattr (e2fsprogs) the test skips, or fails with CI=true.
func Immutable(t testing.TB, path string) {
	t.Helper()
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		msg := "as root, the test needs `chattr +i` to make " + path + " unwritable: " + err.Error() + ": " + strings.TrimSpace(string(out))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
}

// WaitFor returns what ch delivers; the long bound only stops a hung test.
func WaitFor[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("gave up waiting for %s", what)
		panic("unreachable")
	}
}

// Buffer is a bytes.Buffer that goroutines may write and read at once: a
// server's log, a child's stderr.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String is what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Request is a request without a body with headers set; a "Host" header
// sets the request's Host, as the tests of Host checks need.
func Request(t testing.TB, ctx context.Context, method, url string, headers map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	return req
}
