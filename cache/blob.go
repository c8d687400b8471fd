package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
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
	return readPrivate(filepath.Join(s.dir, name), "cache file", maxBlobSize)
}

// Blobs lists the names of the blobs whose names start with prefix, and
// of those with only an unfinished write.
func (s *Store) Blobs(prefix string) ([]string, error) {
	return s.written(func(name string) string {
		if strings.HasPrefix(name, prefix) && checkBlobName(name) == nil {
			return name
		}
		return ""
	})
}

// RemoveBlob deletes the blob name, if it exists, and any unfinished write
// of it.
func (s *Store) RemoveBlob(name string) error {
	if err := checkBlobName(name); err != nil {
		return err
	}
	if _, err := s.removeTemps(name); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove cache file: %w", err)
	}
	return nil
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
	s.removeTemps(name)
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
