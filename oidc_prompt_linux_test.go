//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/tty/ptytest"
)

// terminalRun is the binary under test running with a pseudo-terminal as its
// controlling terminal and /dev/null as stdin, as under an AWS client started from a
// shell.
type terminalRun struct {
	cmd            *exec.Cmd
	master         *os.File
	stdout, stderr bytes.Buffer
	chunks         chan []byte
	screen         bytes.Buffer
}

func startOnTerminal(t *testing.T, env []string, args ...string) *terminalRun {
	t.Helper()
	master, slave := ptytest.Open(t)
	ctx, cancel := context.WithTimeout(runCtx, time.Minute)
	t.Cleanup(cancel)
	tr := &terminalRun{cmd: exec.CommandContext(ctx, binaryUnderTest(t), args...), master: master, chunks: make(chan []byte, 64)}
	tr.cmd.Env = env
	tr.cmd.Stdout, tr.cmd.Stderr = &tr.stdout, &tr.stderr
	tr.cmd.ExtraFiles = []*os.File{slave} // fd 3 in the child
	tr.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 3}
	if err := tr.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	go func() {
		defer close(tr.chunks)
		for {
			buf := make([]byte, 1024)
			n, err := master.Read(buf)
			if n > 0 {
				tr.chunks <- buf[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	return tr
}

// waitScreen returns once the terminal has shown want.
func (tr *terminalRun) waitScreen(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for !strings.Contains(tr.screen.String(), want) {
		select {
		case c, ok := <-tr.chunks:
			if !ok {
				t.Fatalf("the terminal closed without %q; it showed %q; stderr %q", want, tr.screen.String(), tr.stderr.String())
			}
			tr.screen.Write(c)
		case <-timeout:
			_ = tr.cmd.Process.Kill()
			_ = tr.cmd.Wait()
			t.Fatalf("the terminal does not show %q; it shows %q; stderr %q", want, tr.screen.String(), tr.stderr.String())
		}
	}
}

func (tr *terminalRun) typeLine(t *testing.T, line string) {
	t.Helper()
	if _, err := tr.master.Write([]byte(line + "\r")); err != nil {
		t.Fatal(err)
	}
}

// wait waits for the run to end and returns its result, the terminal complete.
func (tr *terminalRun) wait(t *testing.T) result {
	t.Helper()
	err := tr.cmd.Wait()
	tr.master.Close()
	for c := range tr.chunks {
		tr.screen.Write(c)
	}
	r := result{stdout: tr.stdout.String(), stderr: tr.stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "stderr", r.stderr)
	return r
}

// TestOIDCPasteOnTerminal: on a remote machine the browser cannot come back to the
// listener; the person pastes the address it ended at at the terminal prompt instead.
// An address of another login is refused there; the right one logs in. The lines
// for the user go to the terminal, not stderr.
func TestOIDCPasteOnTerminal(t *testing.T) {
	b := requireBed(t)
	c := newOIDCCase(t, b, "print", "")
	back := filepath.Join(t.TempDir(), "back.url")
	env := append(c.env, "VCP_BROWSER_OUT="+back)
	callbacks := auditCount(t, b, "read", oidcCallbackPath)

	tr := startOnTerminal(t, env, assumeArgs(15)...)
	tr.waitScreen(t, "or, from another machine, paste the address the browser ends at ("+c.redirect+"?...): ")
	if !strings.Contains(tr.screen.String(), name+": log in to Vault (oidc at auth/oidc, role R) in your browser within ") {
		t.Errorf("the terminal does not say what is happening: %q", tr.screen.String())
	}
	c.browser.wait(t, "printed", 1)
	data, err := os.ReadFile(back)
	if err != nil {
		t.Fatal(err)
	}
	tr.typeLine(t, c.redirect+"?state=st_another-login&code=not-this-one")
	tr.waitScreen(t, "that is not the address of this login")
	tr.typeLine(t, string(data))
	r := tr.wait(t)
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s\nterminal: %q", r.code, r.stderr, tr.screen.String())
	}
	parseDocument(t, r.stdout)
	assertWarning(t, r.stderr, "")
	if got := auditCount(t, b, "read", oidcCallbackPath) - callbacks; got != 1 {
		t.Errorf("%d callbacks reached Vault, want 1", got)
	}
	if got := c.browser.count("callback"); got != 0 {
		t.Errorf("the browser came back to the listener: %d", got)
	}
	_, token := loginToken(t, env)
	if strings.Contains(tr.screen.String(), token) {
		t.Errorf("the terminal shows the login token")
	}
}

// TestOIDCInterruptRemovesThePage: Ctrl-C (SIGINT) or SIGTERM while the helper waits
// for the browser ends the run with an error line, and the sign-in page (it holds the
// URL with the login's state) goes before the program does.
func TestOIDCInterruptRemovesThePage(t *testing.T) {
	b := requireBed(t)
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			c := newOIDCCase(t, b, "none", "")
			ctx, cancel := context.WithTimeout(runCtx, time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, binaryUnderTest(t), assumeArgs(15)...)
			cmd.Env = c.env
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no terminal: the lines go to stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The browser is started once the page is written.
			c.browser.wait(t, "open", 1)
			if n := len(loginPages(t, c.tmp)); n != 1 {
				t.Fatalf("%d sign-in pages while the login waits, want 1", n)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Errorf("the run ended with %v, want exit status 1; stderr:\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), errorPrefix+"log in to Vault with oidc at auth/oidc, role R: interrupted while waiting for the browser\n") {
				t.Errorf("stderr does not say the login was interrupted:\n%s", stderr.String())
			}
			if left := loginPages(t, c.tmp); len(left) != 0 {
				t.Errorf("the sign-in page is left behind: %v", left)
			}
		})
	}
}
