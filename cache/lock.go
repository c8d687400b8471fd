package cache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/vault-credential-process/vault-credential-process/internal/smallfile"
)

// Lock takes the exclusive lock of key's entry, waiting until ctx is done.
// The lock is on a separate file that is never renamed, so it stays valid
// while the entry is replaced; the OS releases it if the holder dies.
//
// A lock file that is not a regular file of the current user's, closed to
// others, is refused with an error wrapping ErrUnsafe: a FIFO would block
// the open (and with it the run, past any timeout), a symlink would lock
// and create files elsewhere, a file others can open lets them hold the
// lock for ever.
func (s *Store) Lock(ctx context.Context, key string) (unlock func(), err error) {
	path := filepath.Join(s.dir, key+lockSuffix)
	if err := beforeLock(path); err != nil {
		return nil, err
	}
	lf := flock.New(path, flock.SetFlag(lockFlag()), flock.SetPermissions(0o600))
	ok, err := lf.TryLockContext(ctx, 10*time.Millisecond)
	if err != nil || !ok {
		if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("wait for cache lock: %w", context.DeadlineExceeded)
		}
		// The open failed: say why when what is there is the reason (a
		// symlink under O_NOFOLLOW, a socket, a file of another user).
		if fi, lerr := os.Lstat(path); lerr == nil {
			if uerr := checkLock(path, fi); uerr != nil {
				return nil, uerr
			}
		}
		return nil, fmt.Errorf("lock cache entry: %w", err)
	}
	// Check the file the lock is held on, not the path: it is the one
	// that counts, and it cannot change under the open descriptor.
	fi, err := lf.Stat()
	if err == nil {
		err = checkLock(path, fi)
	}
	if err != nil {
		_ = lf.Unlock()
		return nil, err
	}
	return func() { _ = lf.Unlock() }, nil
}

// checkLock refuses a lock file that is not a regular file, or not the
// current user's alone.
func checkLock(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("cache lock file %q is %s, not a regular file: %w", path, smallfile.FileKind(fi.Mode()), ErrUnsafe)
	}
	return checkPrivate("cache lock file", path, fi, 0o077)
}
