//go:build windows

package smallfile

import (
	"errors"
	"io/fs"
	"os"
)

// CheckPrivate relies on the per-user profile folder's ACLs on Windows,
// where Unix mode bits carry no meaning.
func CheckPrivate(path string, fi fs.FileInfo, bad fs.FileMode) error { return nil }

// openNoFollow opens path unless it is a symlink. A symlink made in the
// instant between the check and the open is not caught: Windows has no
// O_NOFOLLOW.
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

var errSymlink = errors.New("symlink")

func isSymlinkErr(err error) bool { return err == errSymlink }

// syncDir is a no-op: Windows cannot open a folder for syncing, and
// MoveFileEx (os.Rename) is durable on NTFS once it returns.
func syncDir(string) error { return nil }
