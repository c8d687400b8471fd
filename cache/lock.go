package cache

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// Lock takes the exclusive lock of key's entry, waiting until ctx is done.
// The lock is on a separate file that is never renamed, so it stays valid
// while the entry is replaced; the OS releases it if the holder dies.
func (s *Store) Lock(ctx context.Context, key string) (unlock func(), err error) {
	lf := flock.New(filepath.Join(s.dir, key+lockSuffix), flock.SetPermissions(0o600))
	ok, err := lf.TryLockContext(ctx, 10*time.Millisecond)
	if err != nil || !ok {
		if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("wait for cache lock: %w", context.DeadlineExceeded)
		}
		return nil, fmt.Errorf("lock cache entry: %w", err)
	}
	return func() { _ = lf.Unlock() }, nil
}
