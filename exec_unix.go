//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vault-credential-process/vault-credential-process/process"
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
// command gets the core dump limit this process started with (see
// childCommand). It returns the command's exit status, 128 + the signal's
// number when a signal ended it.
func runChild(path string, argv, env []string) (int, error) {
	cmd := childCommand(path, argv, env)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
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
	err := cmd.Wait()
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

// The core dump limit of exec --server's command. This process, which
// holds the credentials, never raises its own limit again, not even for
// the instant of starting the command (a crash of any of its goroutines
// then would dump them). Instead the child starts as a copy of this
// binary, with the limit of 0 it inherits: it raises its own limit to the
// one the helper started with and replaces itself with the command, in
// init, before anything else runs. The command's process id, arguments
// and environment are as if it had been started directly.
const (
	coreTrampolineArg = "--exec-with-core-limit"
	coreTrampolineEnv = "VAULT_CREDENTIAL_PROCESS_CORE_LIMIT"
)

// childCommand is the command to start for path with argv and env: the
// command itself when core dumps were off at start anyway, else through
// the trampoline. Where this binary cannot be found again, the command
// starts with dumps off rather than this process turning them on.
func childCommand(path string, argv, env []string) *exec.Cmd {
	self, err := selfPath()
	if startCoreLimit == nil || err != nil {
		cmd := exec.Command(path, argv[1:]...)
		cmd.Args, cmd.Env = argv, env
		return cmd
	}
	cmd := exec.Command(self, append([]string{coreTrampolineArg, path}, argv...)...)
	cmd.Args[0] = name
	cmd.Env = append(removeVars(env, coreTrampolineEnv), coreTrampolineEnv+"="+fmt.Sprint(startCoreLimit.Cur))
	return cmd
}

// selfPath is this binary, for starting it again: on Linux through /proc,
// which stays right when the file was replaced or removed since.
func selfPath() (string, error) {
	if runtime.GOOS == "linux" {
		return "/proc/self/exe", nil
	}
	return os.Executable()
}

// init is the trampoline's part: when started as one, it sets the core
// dump limit it was given (never above the hard limit) and replaces itself
// with the command; nothing else of the helper runs.
func init() {
	limit, ok := os.LookupEnv(coreTrampolineEnv)
	if !ok || len(os.Args) < 4 || os.Args[1] != coreTrampolineArg {
		return
	}
	path, argv := os.Args[2], os.Args[3:]
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_CORE, &lim) == nil {
		if _, err := fmt.Sscan(limit, &lim.Cur); err == nil { // Cur's type differs between systems
			lim.Cur = min(lim.Cur, lim.Max)
			_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &lim)
		}
	}
	err := syscall.Exec(path, argv, removeVars(os.Environ(), coreTrampolineEnv))
	fmt.Fprintf(os.Stderr, "%s: error: exec: run %s: %v\n", name, argv[0], err)
	os.Exit(process.ExitFailure)
}
