//go:build unix

package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vault-credential-process/vault-credential-process/internal/shellenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// serve --detach, in the manner of `ssh-agent -s`: the command starts a
// second copy of itself, which runs the server, and returns once that copy
// has the credentials of every profile in memory and listens, having
// printed the variables for it; or, if it could not start, with its error
// and exit status.
//
// The copy starts in the foreground's session and process group, so that
// an MFA prompt or a login on the terminal works and Ctrl-C ends it; once
// ready, it makes a session of its own (no terminal can stop or hang it
// up), writes its log to a file instead of stderr, and sends the variables
// to the first copy through a pipe.

// Variables of serve --detach.
const (
	// envDetachedFD names the descriptor of the pipe to the first copy, in
	// the second: the only way the second knows it is one.
	envDetachedFD = "VAULT_CREDENTIAL_PROCESS_SERVE_DETACHED_FD"
	// envServePID and envServeLog are printed with the server's variables.
	envServePID = "VAULT_CREDENTIAL_PROCESS_SERVE_PID"
	envServeLog = "VAULT_CREDENTIAL_PROCESS_SERVE_LOG"
	detachedFD  = 3 // the first of ExtraFiles
)

// takeDetachPipe is, in the second copy, the pipe to the first, from now
// on closed on exec so that no process it starts holds it open; nil in any
// other process. The variable is removed either way.
func (c *cli) takeDetachPipe() *os.File {
	v := c.getenv(envDetachedFD)
	if v == "" {
		return nil
	}
	_ = os.Unsetenv(envDetachedFD)
	if v != strconv.Itoa(detachedFD) {
		return nil
	}
	syscall.CloseOnExec(detachedFD)
	return os.NewFile(detachedFD, "pipe to serve --detach")
}

// detach is the first copy: it starts the second with the same arguments,
// passes its stderr on until the second is ready, then prints what it sent
// and exits 0; else it exits with the second's status.
func (c *cli) detach() int {
	exe, err := os.Executable()
	if err != nil {
		return c.report(fmt.Errorf("serve --detach: find this program to start it again: %w", err))
	}
	ready, readyW, err := os.Pipe()
	if err != nil {
		return c.report(fmt.Errorf("serve --detach: %w", err))
	}
	defer ready.Close()
	stderr, stderrW, err := os.Pipe()
	if err != nil {
		return c.report(fmt.Errorf("serve --detach: %w", err))
	}
	defer stderr.Close()
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(removeVars(os.Environ(), envDetachedFD), envDetachedFD+"="+strconv.Itoa(detachedFD))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, stderrW // nil: /dev/null
	cmd.ExtraFiles = []*os.File{readyW}
	err = cmd.Start()
	readyW.Close()
	stderrW.Close()
	if err != nil {
		return c.report(fmt.Errorf("serve --detach: start %s: %w", exe, err))
	}
	// A signal for this process is one for the server that is starting;
	// Ctrl-C reaches both.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, stopSignals()...)
	defer signal.Stop(sigs)
	go func() {
		for sig := range sigs {
			_ = cmd.Process.Signal(sig)
		}
	}()
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(c.stderr, stderr)
		close(copied)
	}()
	env, _ := io.ReadAll(ready)
	if len(env) > 0 {
		// The second copy sent its stderr to its log before it said it was
		// ready: what it wrote before is in the pipe. A process it started
		// that still holds the pipe (none should) must not keep this one.
		_ = stderr.SetReadDeadline(time.Now().Add(time.Second))
	}
	<-copied // the second copy's stderr until it went to its log (or it ended)
	if len(env) == 0 {
		err := cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code > 0 {
			return code
		}
		return c.report(fmt.Errorf("serve --detach: the server ended before it was ready (%v)", err))
	}
	_ = cmd.Process.Release()
	if _, err := c.stdout.Write(env); err != nil {
		return c.report(err)
	}
	return process.ExitOK
}

// daemonize is the second copy becoming a background server, once it is
// ready: a session of its own, its log (stderr) in serve-PORT.log in the
// token folder. It returns the commands (in format) that set the variables
// of its pid and log.
func (c *cli) daemonize(cacheDir string, addr net.Addr, format string) (string, error) {
	dir, err := c.tokenDir(cacheDir)
	if err != nil {
		return "", &process.Error{Code: process.ExitFailure, Msg: "serve: the folder for the log: " + err.Error(), Err: err,
			Hint: "pass --cache-dir with a folder of your own"}
	}
	_, port, _ := net.SplitHostPort(addr.String())
	path := filepath.Join(dir, "serve-"+port+".log")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return "", &process.Error{Code: process.ExitFailure, Msg: "serve: open the log: " + err.Error(), Err: err}
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil { // an earlier file's mode
		return "", &process.Error{Code: process.ExitFailure, Msg: "serve: the log: " + err.Error(), Err: err}
	}
	pid := os.Getpid()
	fmt.Fprintf(c.stderr, "%s: serve: running in the background as pid %d, its log in %s; stop it with: kill %d\n", name, pid, path, pid)
	if _, err := syscall.Setsid(); err != nil {
		return "", &process.Error{Code: process.ExitFailure, Msg: "serve: start a session of its own: " + err.Error(), Err: err}
	}
	if err := unix.Dup2(int(f.Fd()), 2); err != nil {
		return "", &process.Error{Code: process.ExitFailure, Msg: "serve: send stderr to the log: " + err.Error(), Err: err}
	}
	return shellenv.ExportVars(format, []shellenv.Var{{Name: envServePID, Value: strconv.Itoa(pid)}, {Name: envServeLog, Value: path}}, nil)
}
