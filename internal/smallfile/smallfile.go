// Package smallfile owns the small files of this program: the bounded read
// of a file the helper is pointed at (Read), the private read of a file of
// its own (ReadPrivate), the owner and mode check behind it, and the one
// atomic writer (WriteFile) that every file it replaces goes through: cache
// entries, login tokens, the server's token file, ~/.aws/config, the
// browser's redirect page.
package smallfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// Read returns the contents of the regular file at path, at most limit
// bytes; a larger file is an error, as is anything but a regular file.
// It is for the files the helper is pointed at (a JWT, a client
// certificate, a secret id, the AWS credentials file, a server's token
// file), where what is there may be anything: a FIFO in its place is not
// blocked on. Symlinks are followed: Kubernetes mounts its projected
// tokens as links.
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

// UnsafeError is a file refused because it is not what a private file must
// be: a regular file (or folder) of the current user's that others cannot
// open. Its message is the quoted path and the reason, for the caller to
// name what the file is ("cache entry " + err).
type UnsafeError struct {
	Path   string
	Reason string // "is a symlink", "has mode 0644, open to other users", ...
}

func (e *UnsafeError) Error() string { return strconv.Quote(e.Path) + " " + e.Reason }

// errTooLarge marks a file ReadPrivate did not read because it is larger
// than its bound.
var errTooLarge = errors.New("file too large")

// ReadPrivate reads a file of the program's own, at most limit bytes,
// without following a symlink or blocking on a FIFO. A symlink, a file that
// is not regular, not the current user's or readable by others is refused
// with an *UnsafeError; a missing or unreadable file is the error of the
// open or read, a larger one errTooLarge.
func ReadPrivate(path string, limit int64) ([]byte, error) {
	f, err := openNoFollow(path)
	if err != nil {
		if isSymlinkErr(err) {
			return nil, &UnsafeError{Path: path, Reason: "is a symlink"}
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, &UnsafeError{Path: path, Reason: "is not a regular file"}
	}
	if err := CheckPrivate(path, fi, 0o077); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

// FileKind names what a file that is not a regular one is ("a FIFO",
// "a symlink", ...), for errors about files that must be regular.
func FileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
