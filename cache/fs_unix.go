//go:build unix

package cache

import (
	"os"
	"runtime"
	"syscall"
)

// lockFlag opens a lock file for flock without following a symlink and
// without blocking on a FIFO put in its place; Lock checks the file once it
// holds it. Where flock takes fcntl locks (AIX, Solaris, illumos), an
// exclusive lock needs the file open for writing, as flock.New knows.
func lockFlag() int {
	flag := os.O_CREATE | syscall.O_NOFOLLOW | syscall.O_NONBLOCK
	switch runtime.GOOS {
	case "aix", "solaris", "illumos":
		return flag | os.O_RDWR
	}
	return flag | os.O_RDONLY
}

// beforeLock has nothing to check: lockFlag refuses symlinks itself.
func beforeLock(string) error { return nil }
