//go:build windows

package cache

import (
	"os"
)

// lockFlag is flock's own: Windows has no O_NOFOLLOW (beforeLock stands in)
// and no FIFOs in the file system.
func lockFlag() int { return os.O_CREATE | os.O_RDONLY }

// beforeLock refuses a lock path that is a symlink, which opening the lock
// file would follow. A symlink made in the instant between is not caught.
func beforeLock(path string) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().IsRegular() {
		return nil
	}
	return checkLock(path, fi)
}
