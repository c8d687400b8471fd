//go:build !unix

package testbed

import (
	"io/fs"
	"os"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(p *os.Process) { _ = p.Kill() }

func isExecutable(fi fs.FileInfo) bool { return fi.Mode().IsRegular() }
