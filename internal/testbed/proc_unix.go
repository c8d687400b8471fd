//go:build unix

package testbed

import (
	"io/fs"
	"os"
	"syscall"
)

// killGroup kills the process group the child leads, then the child itself in case
// the group is already gone.
func killGroup(p *os.Process) {
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	_ = p.Kill()
}

func isExecutable(fi fs.FileInfo) bool {
	return fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
