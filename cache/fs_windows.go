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
