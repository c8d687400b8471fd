//go:build unix

package process

import (
	"os/exec"
	"syscall"
)

// detach starts the browser launcher in a session of its own: the
// terminal's Ctrl-C does not reach it, and it cannot take the terminal.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
