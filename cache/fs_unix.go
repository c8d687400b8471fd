//go:build unix

package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwner refuses a path not owned by the current user, and one that
// others may write to (folders) or read (entries).
func checkOwner(path string, fi fs.FileInfo, isDir bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s %q is owned by uid %d, not by the current user: %w", kind(isDir), path, st.Uid, ErrUnsafe)
	}
	bad := fs.FileMode(0o077)
	if isDir {
		bad = 0o022
	}
	if fi.Mode().Perm()&bad != 0 {
		return fmt.Errorf("%s %q has mode %04o, open to other users: %w", kind(isDir), path, fi.Mode().Perm(), ErrUnsafe)
	}
	return nil
}

func kind(isDir bool) string {
	if isDir {
		return "cache folder"
	}
	return "cache entry"
}

// openNoFollow opens path for reading unless it is a symlink. O_NONBLOCK
// keeps a FIFO in the entry's place from blocking the open; Load then
// refuses it as not a regular file.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}

// isSymlinkErr tells a refused symlink (ELOOP under O_NOFOLLOW) from a
// plain miss.
func isSymlinkErr(err error) bool {
	return errors.Is(err, syscall.ELOOP)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
