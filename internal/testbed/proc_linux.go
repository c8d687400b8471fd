//go:build linux

package testbed

import "syscall"

// sysProcAttr puts the child in its own process group and has the kernel kill it when
// the test binary dies without running Stop (a -timeout panic, SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
