//go:build unix

package browser

import (
	"os/exec"
	"syscall"
)

// detach puts the browser command in a process group of its own: a Ctrl-C
// at the terminal while the page waits then ends this program, not a
// browser the command started.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// newSession puts the command in a session of its own: the terminal's
// Ctrl-C does not reach it, and it cannot take the terminal.
func newSession(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}
