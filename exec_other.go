//go:build !unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
)

// runCommand runs the command as a child and returns its exit status. The
// child shares the console, so Ctrl+C reaches it directly; the helper only
// keeps itself from dying of it while it waits.
func runCommand(path string, argv, env []string) (int, error) {
	cmd := exec.Command(path, argv[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signal.Ignore(os.Interrupt)
	defer signal.Reset(os.Interrupt)
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	return 0, err
}

// runChild is runCommand: on Windows exec always runs the command as a
// child, and exec --server's process stays alive while it waits.
func runChild(path string, argv, env []string) (int, error) {
	return runCommand(path, argv, env)
}
