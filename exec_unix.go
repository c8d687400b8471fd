//go:build unix

package main

import (
	"fmt"
	"syscall"
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
