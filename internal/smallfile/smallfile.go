// Package smallfile reads the small files the helper is pointed at (a JWT, a
// client certificate, a secret id, the AWS credentials file, a server's
// token file), where what is there may be anything: a FIFO in its place is
// not blocked on, anything but a regular file is refused, and no more than
// a bound is read. Symlinks are followed: Kubernetes mounts its projected
// tokens as links.
package smallfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Read returns the contents of the regular file at path, at most limit
// bytes; a larger file is an error, as is anything but a regular file.
func Read(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errors.New("not a regular file")}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("larger than %d KiB", max(limit>>10, 1))}
	}
	return b, nil
}
