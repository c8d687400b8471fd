//go:build unix

package process

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
)

// pipeline is a child that starts grandchildren holding its output (the shell runs
// both sides of the pipe), says so on stderr, and would run for 30 s.
const pipeline = "sleep 30 | (echo started >&2; cat)"

// groupWatch watches a child's process group through a pipe: its write end is the
// child's stderr, which the child's children inherit, and the read end sees EOF only
// once every process holding the write end has exited.
type groupWatch struct {
	W       *os.File
	r       *os.File
	out     *bufio.Reader
	started bool
}

func watchGroup(t *testing.T) *groupWatch {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	// A failure bound, not a timing assert: a survivor holds the pipe until its
	// `sleep 30` ends.
	r.SetReadDeadline(time.Now().Add(15 * time.Second))
	return &groupWatch{W: w, r: r, out: bufio.NewReader(r)}
}

// waitStarted returns once the pipeline has started.
func (g *groupWatch) waitStarted() error {
	line, err := g.out.ReadString('\n')
	if err != nil || line != "started\n" {
		return fmt.Errorf("the child did not start its pipeline: %q, %v", line, err)
	}
	g.started = true
	return nil
}

// gone reports whether the child and all its children have exited.
func (g *groupWatch) gone() error {
	g.W.Close()
	if !g.started {
		if err := g.waitStarted(); err != nil {
			return err
		}
	}
	if rest, err := io.ReadAll(g.out); err != nil {
		return fmt.Errorf("still there (%v), after writing %q", err, rest)
	}
	return nil
}

// within runs f in a goroutine and fails the test if it has not returned 20 s
// later: the bug was a run that ignored its context.
func within[T any](t *testing.T, what string, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("%s still running 20 s later", what)
		var zero T
		return zero
	}
}

// TestChildKillsItsGroup: at the deadline the child and the pipeline it started die
// together, and the error names the child and --timeout.
func TestChildKillsItsGroup(t *testing.T) {
	g := watchGroup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c := &child{what: "test child /bin/sh", timeout: 2 * time.Second, hint: "a hint", stderr: g.W}
	err := within(t, "child.run", func() error { return c.run(ctx, "/bin/sh", "-c", pipeline) })
	var e *Error
	if !errors.As(err, &e) || e.Msg != "test child /bin/sh did not answer within --timeout (2s)" ||
		e.Hint != "a hint" || e.Code != ExitFailure || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("run = %#v (%v), want an exit-1 *Error naming the child and --timeout, wrapping DeadlineExceeded", err, err)
	}
	if err := g.gone(); err != nil {
		t.Errorf("the child's pipeline outlived it: %v", err)
	}
}

// TestChildSignal: SIGTERM to this process while a child runs ends the child and its
// pipeline and comes back as an error, instead of killing this process and leaving
// the pipeline behind (it is not in our process group to get the signal itself).
func TestChildSignal(t *testing.T) {
	g := watchGroup(t)
	c := &child{what: "test child", timeout: time.Minute, stderr: g.W}
	done := make(chan error, 1)
	go func() { done <- c.run(context.Background(), "/bin/sh", "-c", pipeline) }()
	// The handler is in place before the child starts, so before it writes.
	if err := g.waitStarted(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := within(t, "child.run after SIGTERM", func() error { return <-done })
	var e *Error
	if !errors.As(err, &e) || e.Msg != "test child was stopped: interrupted by a signal" {
		t.Errorf("run = %v, want the child stopped by a signal", err)
	}
	if err := g.gone(); err != nil {
		t.Errorf("the child's pipeline outlived it: %v", err)
	}
}

// TestMFACommandTimeout: an mfa_command whose pipeline never ends is killed with
// it at --timeout; the error names mfa_command but not its text (it may hold a
// TOTP seed).
func TestMFACommandTimeout(t *testing.T) {
	g := watchGroup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r := &Runner{Settings: &config.Settings{Role: "r", MFARequired: true, MFACommand: pipeline, Timeout: 2 * time.Second},
		Stderr: g.W, Debugf: func(string, ...any) {}}
	type answer struct {
		code string
		err  error
	}
	a := within(t, "mfaCode", func() answer { c, err := r.mfaCode(ctx); return answer{c, err} })
	var e *Error
	if !errors.As(a.err, &e) || e.Msg != "mfa_command did not answer within --timeout (2s)" || e.Hint == "" {
		t.Errorf("mfaCode = %q, %v; want the mfa_command timeout error with a hint", a.code, a.err)
	}
	if a.err != nil && strings.Contains(a.err.Error()+e.Hint, "sleep") {
		t.Errorf("the error shows the command's text: %v", a.err)
	}
	if err := g.gone(); err != nil {
		t.Errorf("mfa_command's pipeline outlived it: %v", err)
	}
}

// TestTokenHelperTimeout: NewVault without VAULT_TOKEN asks the Vault CLI's token
// helper; a helper that hangs, or a FIFO where ~/.vault-token or the CLI
// configuration should be, ends the run at --timeout or at once, with an error
// naming the culprit, instead of hanging it.
func TestTokenHelperTimeout(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, home string) (want string)
		wantCode int
		wantHint string
	}{
		{"helper hangs", func(t *testing.T, home string) string {
			helper := filepath.Join(home, "helper.sh")
			if err := os.WriteFile(helper, []byte("#!/bin/sh\n"+pipeline+"\n"), 0o700); err != nil {
				t.Fatal(err)
			}
			conf := filepath.Join(home, "vault.hcl")
			if err := os.WriteFile(conf, []byte(`token_helper = "`+helper+`"`+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("VAULT_CONFIG_PATH", conf)
			return "token helper " + helper + " did not answer within --timeout (2s)"
		}, ExitFailure, "VAULT_TOKEN"},
		{"~/.vault-token is a FIFO", func(t *testing.T, home string) string {
			path := filepath.Join(home, ".vault-token")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			return "read the Vault token file: " + path + " is a FIFO, not a regular file"
		}, ExitFailure, "vault login"},
		{"VAULT_CONFIG_PATH is a FIFO", func(t *testing.T, home string) string {
			path := filepath.Join(home, "vault.hcl")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("VAULT_CONFIG_PATH", path)
			return "read the Vault CLI configuration: " + path + " is a FIFO, not a regular file"
		}, ExitUsage, "VAULT_CONFIG_PATH"},
		{"~/.vault is a FIFO", func(t *testing.T, home string) string {
			path := filepath.Join(home, ".vault")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			return "read the Vault CLI configuration: " + path + " is a FIFO, not a regular file"
		}, ExitUsage, "~/.vault"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testenv.ClearVaultAWS(t)
			home := t.TempDir()
			t.Setenv("HOME", home)
			t.Setenv("VAULT_ADDR", "http://127.0.0.1:1") // never asked: the token comes first
			want := tt.setup(t, home)
			s, err := config.Resolve(config.Inputs{Flags: map[string]string{"role": "x", "cache-dir": t.TempDir(), "timeout": "2s"}, Getenv: os.Getenv})
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			// The run's context, bounded by --timeout as cli.go bounds it.
			ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
			defer cancel()
			err = within(t, "NewVault", func() error { _, err := NewVault(ctx, s, fixedNow, (&debugLog{}).printf); return err })
			var e *Error
			if !errors.As(err, &e) || e.Msg != want || e.Code != tt.wantCode || !strings.Contains(e.Hint, tt.wantHint) {
				t.Errorf("NewVault: %#v (%v)\nwant exit %d, %q, a hint with %q", err, err, tt.wantCode, want, tt.wantHint)
			}
		})
	}
}
