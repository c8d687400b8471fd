//go:build unix

package main

import "syscall"

// pause and resume stop and continue a process: a Vault that hangs.
func pause(pid int) error  { return syscall.Kill(pid, syscall.SIGSTOP) }
func resume(pid int) error { return syscall.Kill(pid, syscall.SIGCONT) }

// fdBudget is how many connections a flood may open: the soft limit of open
// files (Go raises it to the hard limit at start-up) less room for the rest.
func fdBudget() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Cur < 512 {
		return 256
	}
	return int(min(l.Cur-256, 1<<20))
}
