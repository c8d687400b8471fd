//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/tty/ptytest"
)

// TestLoginPasswordPrompt runs the binary with a pseudo-terminal as its controlling
// terminal and /dev/null as stdin, as an AWS client started from a shell would: with
// neither password_env nor password_file, it asks on the terminal, without echo, and
// logs in with what is typed there.
func TestLoginPasswordPrompt(t *testing.T) {
	b := requireBed(t)
	authSetup(t, b)
	env := authEnv(t, b, "[vault.auth]\nmethod = \"userpass\"\nusername = \"alice\"\n", nil)

	master, slave := ptytest.Open(t)
	ctx, cancel := context.WithTimeout(runCtx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binaryUnderTest(t), assumeArgs(15)...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, &stdout, &stderr
	cmd.ExtraFiles = []*os.File{slave} // fd 3 in the child
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 3}
	before := auditCount(t, b, "update", "auth/userpass/login/"+authUser)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()

	// What the terminal shows, chunk by chunk, until the child closes it.
	chunks := make(chan []byte, 64)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 1024)
			n, err := master.Read(buf)
			if n > 0 {
				chunks <- buf[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	var screen bytes.Buffer
	prompt := "Vault password for alice (userpass at auth/userpass): "
	timeout := time.After(30 * time.Second)
	for !strings.Contains(screen.String(), prompt) {
		select {
		case c, ok := <-chunks:
			if !ok {
				t.Fatalf("the terminal closed without a prompt; it showed %q; stderr %q", screen.String(), stderr.String())
			}
			screen.Write(c)
		case <-timeout:
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("no password prompt on the terminal; it shows %q; stderr %q", screen.String(), stderr.String())
		}
	}
	if _, err := master.Write([]byte(authBed.password + "\r")); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	master.Close()
	for c := range chunks {
		screen.Write(c)
	}
	if err != nil {
		t.Fatalf("%v; stderr:\n%s\nterminal: %q", err, stderr.String(), screen.String())
	}
	parseDocument(t, stdout.String())
	if got := auditCount(t, b, "update", "auth/userpass/login/"+authUser) - before; got != 1 {
		t.Errorf("%d logins, want 1", got)
	}
	if strings.Contains(screen.String(), authBed.password) {
		t.Errorf("the password was echoed on the terminal: %q", screen.String())
	}
	assertNoSecret(t, "stderr", stderr.String())
	_, token := loginToken(t, env)
	assertNoSecret(t, "terminal", screen.String())
	if strings.Contains(screen.String(), token) {
		t.Errorf("the terminal shows the login token")
	}
}
