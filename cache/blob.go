package cache

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// maxBlobSize bounds what LoadBlob reads.
const maxBlobSize = 64 << 10

// Blobs are opaque files kept beside the entries, with the same safety: an
// atomic write of a 0600 file, the same owner and mode checks when read,
// and Lock for one writer at a time. The caller owns their format (the
// process package keeps Vault login tokens in them).

// LoadBlob returns the content of the blob name, or nil when there is none
// or it cannot be read (a miss). Like Load, it refuses with an error
// wrapping ErrUnsafe a blob that is a symlink, not a regular file of the
// current user's, or readable by others.
func (s *Store) LoadBlob(name string) ([]byte, error) {
	if err := checkBlobName(name); err != nil {
		return nil, err
	}
	path := filepath.Join(s.dir, name)
	f, err := openNoFollow(path)
	if err != nil {
		if isSymlinkErr(err) {
			return nil, fmt.Errorf("cache file %q is a symlink: %w", path, ErrUnsafe)
		}
		return nil, nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("cache file %q is not a regular file: %w", path, ErrUnsafe)
	}
	if err := checkOwner(path, fi, false); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxBlobSize+1))
	if err != nil || len(data) > maxBlobSize {
		return nil, nil
	}
	return data, nil
}

// SaveBlob replaces the blob name with data atomically, as Save does.
func (s *Store) SaveBlob(name string, data []byte) error {
	if err := checkBlobName(name); err != nil {
		return err
	}
	if len(data) > maxBlobSize {
		return fmt.Errorf("write cache file %s: %d bytes is too large", name, len(data))
	}
	if err := writeAtomic(filepath.Join(s.dir, name), data); err != nil {
		return err
	}
	s.removeStaleTemps()
	return nil
}

// checkBlobName accepts a plain file name of letters, digits, '.', '_' and
// '-' that cannot be taken for an entry, a lock or a temporary file.
func checkBlobName(name string) error {
	if name == "" || len(name) > 200 || name[0] == '.' || !allowedName(name) ||
		strings.HasSuffix(name, entrySuffix) || strings.HasSuffix(name, lockSuffix) {
		return fmt.Errorf("invalid cache file name %q", name)
	}
	return nil
}

func allowedName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '.' || c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
