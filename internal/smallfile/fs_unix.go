//go:build unix

package smallfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// CheckPrivate refuses fi, the file or folder at path, with an
// *UnsafeError unless the current user owns it and it has none of the
// permission bits in bad (0o077 for a file of secrets, 0o022 for a folder
// of them).
func CheckPrivate(path string, fi fs.FileInfo, bad fs.FileMode) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Geteuid() {
		return &UnsafeError{Path: path, Reason: fmt.Sprintf("is owned by uid %d, not by the current user", st.Uid)}
	}
	if fi.Mode().Perm()&bad != 0 {
		return &UnsafeError{Path: path, Reason: fmt.Sprintf("has mode %04o, open to other users", fi.Mode().Perm())}
	}
	return nil
}

// openNoFollow opens path for reading unless it is a symlink. O_NONBLOCK
// keeps a FIFO in the file's place from blocking the open; ReadPrivate
// then refuses it as not a regular file.
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
