//go:build unix && !linux

package testbed

import "syscall"

// sysProcAttr puts the child in its own process group. Only Linux has a parent-death
// signal; elsewhere a test binary killed without running Stop leaves the bed running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
