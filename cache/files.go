package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/vault-credential-process/vault-credential-process/internal/smallfile"
)

// The cache's files are read with smallfile.ReadPrivate and written with
// smallfile.WriteFile; this file says what the cache makes of them.

// testHookMidWrite, when set (by a build-tagged test hook), runs when half
// of the temporary file of a cache entry is written.
var testHookMidWrite func(tmp string)

// tempPattern matches every temporary file of the folder (see
// smallfile.TempPrefix): List and Load never match them.
const tempPattern = smallfile.TempPrefix + "*"

// writeAtomic replaces a cache entry or blob at path with data: WriteFile
// with mode 0600 (entries hold secrets) and the test hook that stops the
// write halfway.
func writeAtomic(path string, data []byte) error {
	if err := smallfile.WriteFileHook(path, data, 0o600, testHookMidWrite); err != nil {
		return fmt.Errorf("write cache entry: %w", err)
	}
	return nil
}

// readPrivate reads a file of the cache folder, at most limit bytes. A
// missing, unreadable or oversized file is (nil, nil), a miss; a symlink, a
// file that is not regular, not the current user's or readable by others is
// refused with an error wrapping ErrUnsafe. what names the file in errors.
func readPrivate(path, what string, limit int64) ([]byte, error) {
	data, err := smallfile.ReadPrivate(path, limit)
	var unsafe *smallfile.UnsafeError
	if errors.As(err, &unsafe) {
		return nil, unsafeError(what, unsafe)
	}
	if err != nil {
		return nil, nil
	}
	return data, nil
}

// checkPrivate refuses fi, what at path, unless the current user owns it
// and it has none of the permission bits in bad; the error wraps
// ErrUnsafe.
func checkPrivate(what, path string, fi fs.FileInfo, bad fs.FileMode) error {
	if err := smallfile.CheckPrivate(path, fi, bad); err != nil {
		return unsafeError(what, err)
	}
	return nil
}

// unsafeError names the file err refused ("cache entry \"...\" is a
// symlink") and marks it with ErrUnsafe.
func unsafeError(what string, err error) error {
	return fmt.Errorf("%s %w: %w", what, err, ErrUnsafe)
}

// tempTarget is the file the temporary file named name was to replace, or
// "" when name is not a temporary file.
func tempTarget(name string) string {
	target, _ := smallfile.TempTarget(filepath.Base(name))
	return target
}
