//go:build unix

package child

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// ownGroup makes cmd the leader of a new process group and has the
// context's end kill that group, so the child's own children die with it.
//
// The group is not the terminal's foreground group: an mfa_command that
// reads the terminal itself is stopped (SIGTTIN) until --timeout. The
// built-in prompt asks at the terminal instead.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Setpgid made the group id the child's pid; a negative pid
		// signals the whole group. The id stays taken while any member
		// lives; were they all gone and reaped this instant, the id
		// would have to come round again for a stranger to be hit.
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
}
