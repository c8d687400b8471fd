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
