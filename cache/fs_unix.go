//go:build unix

package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"syscall"
)

// checkOwner refuses a path not owned by the current user, and one that
// others may write to (folders) or read (entries).
func checkOwner(path string, fi fs.FileInfo, isDir bool) error {
	if isDir {
		return checkMode("cache folder", path, fi, 0o022)
	}
	return checkMode("cache entry", path, fi, 0o077)
}

// checkMode refuses fi, what at path, unless the current user owns it and
// it has none of the permission bits in bad.
func checkMode(what, path string, fi fs.FileInfo, bad fs.FileMode) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s %q is owned by uid %d, not by the current user: %w", what, path, st.Uid, ErrUnsafe)
	}
	if fi.Mode().Perm()&bad != 0 {
		return fmt.Errorf("%s %q has mode %04o, open to other users: %w", what, path, fi.Mode().Perm(), ErrUnsafe)
	}
	return nil
}

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
