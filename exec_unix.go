//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// runCommand replaces this process with the command, so the command gets
// the signals and its exit status is the one the caller sees. The command
// gets the core dump limit this process started with, not the 0 main set
// for itself. It returns only if the exec fails.
func runCommand(path string, argv, env []string) (int, error) {
	if err := restoreCoreDumps(); err != nil {
		return 0, fmt.Errorf("restore the core dump limit: %w", err)
	}
	err := syscall.Exec(path, argv, env)
	disableCoreDumps() // still this process, still holding the credentials
	return 0, err
}

// runChild runs the command as a child, for exec --server, whose process
// must live on to serve the credentials. It passes on the signals that
// would end or steer the command, except those the terminal sent to the
// whole foreground process group: the command got that one already, and a
// second Ctrl-C means "stop now" to programs such as terraform. The
// command gets the core dump limit this process started with; this
// process, which holds the credentials, goes back to none as soon as the
// command has started. It returns the command's exit status, 128 + the
// signal's number when a signal ended it.
func runChild(path string, argv, env []string) (int, error) {
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args = argv
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if err := restoreCoreDumps(); err != nil {
		return 0, fmt.Errorf("restore the core dump limit: %w", err)
	}
	err := cmd.Start()
	disableCoreDumps()
	if err != nil {
		return 0, err
	}
	stopForwarding := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-sigs:
				if !(fromTerminal(sig) && inForeground()) {
					_ = cmd.Process.Signal(sig)
				}
			case <-stopForwarding:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(stopForwarding)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return 0, err
}

// forwarded are the signals exec --server passes on to the command.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// fromTerminal reports whether sig is one the terminal sends to its whole
// foreground process group (Ctrl-C, Ctrl-\, a hang-up, a resize).
func fromTerminal(sig os.Signal) bool {
	return sig == syscall.SIGINT || sig == syscall.SIGQUIT || sig == syscall.SIGHUP || sig == syscall.SIGWINCH
}

// inForeground reports whether this process is in the foreground process
// group of its controlling terminal, where the terminal's signals reach the
// command too (it shares the group). Without a terminal it is not.
func inForeground() bool {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false
	}
	defer tty.Close()
	pgrp, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}
