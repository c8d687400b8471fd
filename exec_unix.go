//go:build unix

package main

import "syscall"

// runCommand replaces this process with the command, so the command gets
// the signals and its exit status is the one the caller sees. It returns
// only if the exec fails.
func runCommand(path string, argv, env []string) (int, error) {
	return 0, syscall.Exec(path, argv, env)
}
