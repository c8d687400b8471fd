//go:build windows

package cache

import (
	"fmt"
	"io/fs"
	"os"
)

// checkOwner relies on the per-user profile folder's ACLs on Windows, where
// Unix mode bits carry no meaning.
func checkOwner(path string, fi fs.FileInfo, isDir bool) error { return nil }

// checkMode, like checkOwner, leaves access to the folder's ACLs.
func checkMode(what, path string, fi fs.FileInfo, bad fs.FileMode) error { return nil }

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

func openNoFollow(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, errSymlink
	}
	return os.Open(path)
}

var errSymlink = fmt.Errorf("symlink")

func isSymlinkErr(err error) bool { return err == errSymlink }

// syncDir is a no-op: Windows cannot open a folder for syncing, and
// MoveFileEx (os.Rename) is durable on NTFS once it returns.
func syncDir(string) error { return nil }
