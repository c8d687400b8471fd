//go:build unix

package main

import (
	"os/exec"
	"syscall"
	"time"
)

// setProcAttr puts the run in a session or process group of its own, as
// opts says; a group is killed whole when the run's bound ends.
func setProcAttr(cmd *exec.Cmd, o runOpts) {
	switch {
	case o.detached:
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	case o.group:
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	default:
		return
	}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
}
