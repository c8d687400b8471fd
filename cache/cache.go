// Package cache keeps credential entries on disk between runs: one JSON
// file per request, written atomically, guarded by a per-entry lock file so
// that many processes missing at once make one upstream request. It knows
// nothing of Vault: an entry is credentials, times and opaque metadata.
package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/smallfile"
)

// Version is the entry format written by this build. Entries of any other
// version are misses and get overwritten.
const Version = 1

const (
	entrySuffix = ".json"
	lockSuffix  = ".lock"
	// maxEntrySize bounds what Load reads: a real entry is about 1 KB, 3 KB
	// with a session token, which the process package lets grow to 64 KiB.
	maxEntrySize = 256 << 10
)

// Entry is one cached set of credentials.
type Entry struct {
	Version         int       `json:"version"`
	AccessKeyID     string    `json:"access_key_id"`
	SecretAccessKey string    `json:"secret_access_key"`
	SessionToken    string    `json:"session_token,omitempty"`
	AccountID       string    `json:"account_id,omitempty"`
	Expiration      time.Time `json:"expiration"`
	IssuedAt        time.Time `json:"issued_at"`
	LeaseID         string    `json:"lease_id,omitempty"`
	LeaseDuration   int64     `json:"lease_duration_seconds,omitempty"`
	Renewable       bool      `json:"renewable,omitempty"`
	// TokenAccessor is the accessor (never the token) of the Vault token
	// that minted credentials with a lease: the lease may be renewed only
	// under that token, since Vault revokes it when that token goes.
	TokenAccessor string `json:"token_accessor,omitempty"`
	// MinterDigest is a one-way digest (never the token) of that same
	// token: a later run that holds it and hears from Vault that it is no
	// longer valid knows the lease went with it.
	MinterDigest string `json:"minter_digest,omitempty"`
	// Source says how the credentials were obtained ("vault", "renewal").
	Source string `json:"source"`
	// Request holds the non-secret fields of the request, for listing:
	// opaque to the cache, kept as the caller wrote it (the process
	// package's StoredRequest).
	Request json.RawMessage `json:"request,omitempty"`
}

// Lifetime is how long the credentials were valid for when issued.
func (e *Entry) Lifetime() time.Duration { return e.Expiration.Sub(e.IssuedAt) }

func (e *Entry) valid() bool {
	return e.Version == Version && e.AccessKeyID != "" && e.SecretAccessKey != "" &&
		!e.Expiration.IsZero() && !e.IssuedAt.IsZero() && e.IssuedAt.Before(e.Expiration)
}

// Key derives an entry's file name from the fields that identify a request.
// Each part is length-prefixed, so no two different lists share an encoding.
func Key(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// isKey reports whether s is what Key returns: 64 lower-case hex digits.
func isKey(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// Store is a cache folder.
type Store struct {
	dir string
}

// ErrUnsafe marks a cache folder or entry that the cache refuses to use
// because someone other than the current user could have written or read it.
var ErrUnsafe = errors.New("unsafe cache path")

// Open creates the folder if needed (0700, whatever the umask) and checks
// that it is safe to keep credentials in: a real folder, not a symlink,
// owned by the current user and not writable or readable by others.
func Open(dir string) (*Store, error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		// Mkdir applies the umask; Chmod makes it 0700 whatever the umask.
		if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
			return nil, fmt.Errorf("create cache folder %q: %w", filepath.Dir(dir), err)
		}
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create cache folder %q: %w", dir, err)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create cache folder %q: %w", dir, err)
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("check cache folder %q: %w", dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("cache folder %q is a symlink: %w", dir, ErrUnsafe)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("cache folder %q is not a folder: %w", dir, ErrUnsafe)
	}
	if err := checkPrivate("cache folder", dir, fi, 0o022); err != nil {
		return nil, err
	}
	return &Store{dir: dir}, nil
}

// Dir is the folder the store keeps its entries in.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(key string) string { return filepath.Join(s.dir, key+entrySuffix) }

// Load returns the entry stored under key. A missing, unreadable, corrupt,
// incomplete or other-version entry is a miss (nil, nil): the caller fetches
// new credentials and Save overwrites it. An entry that is not a regular
// file of the current user's, or that others can read, is refused with an
// error wrapping ErrUnsafe.
func (s *Store) Load(key string) (*Entry, error) {
	data, err := readPrivate(s.path(key), "cache entry", maxEntrySize)
	if data == nil || err != nil {
		return nil, err
	}
	return decode(data), nil
}

// decode parses an entry, returning nil for anything that is not a
// complete entry of the current version.
func decode(data []byte) *Entry {
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil || !e.valid() {
		return nil
	}
	return &e
}

// Save writes e under key atomically: a temporary file in the same folder is
// written, synced and renamed over the entry, then the folder is synced. A
// reader sees the old entry or the new one, never a part of either. The
// caller holds the entry's lock, so any other temporary file of the entry
// is a dead writer's and is removed.
func (s *Store) Save(key string, e *Entry) error {
	e.Version = Version
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode cache entry: %w", err)
	}
	if err := writeAtomic(s.path(key), data); err != nil {
		return err
	}
	s.removeTemps(key + entrySuffix)
	s.removeStaleTemps()
	return nil
}

// staleTemp is how old a temporary file that no entry or blob name claims
// (one of an older version's) must be before Save removes it.
const staleTemp = 10 * time.Minute

func (s *Store) removeStaleTemps() {
	names, _ := filepath.Glob(filepath.Join(s.dir, tempPattern))
	for _, n := range names {
		if fi, err := os.Lstat(n); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > staleTemp {
			_ = os.Remove(n)
		}
	}
}

// removeTemps removes the temporary files of the file named target and
// says how many there were. Only the holder of target's lock may call it:
// a temporary file of a live writer would be removed under its feet.
func (s *Store) removeTemps(target string) (int, error) {
	names, _ := filepath.Glob(smallfile.TempGlob(s.dir, target))
	n := 0
	for _, name := range names {
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("remove unfinished write %s: %w", filepath.Base(name), err)
		}
		n++
	}
	return n, nil
}

// RemoveTemps removes what killed writers of key's entry left behind (they
// may hold half an entry's secrets) and says how many files that was. The
// caller holds the entry's lock.
func (s *Store) RemoveTemps(key string) (int, error) {
	return s.removeTemps(key + entrySuffix)
}

// Remove deletes the file stored under key, whatever it holds (a corrupt or
// refused entry too), and any unfinished write of it, and reports whether
// there was an entry. The caller holds the entry's lock.
func (s *Store) Remove(key string) (removed bool, err error) {
	if _, err := s.RemoveTemps(key); err != nil {
		return false, err
	}
	err = os.Remove(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove cache entry: %w", err)
	}
	return true, nil
}

// Keys returns the keys that have an entry or an unfinished write in the
// folder, sorted: what `cache clear --all` must visit.
func (s *Store) Keys() ([]string, error) {
	return s.written(func(name string) string {
		if key, ok := strings.CutSuffix(name, entrySuffix); ok && isKey(key) {
			return key
		}
		return ""
	})
}

// written is what pick makes of the names of the files in the folder,
// sorted, each once; pick returns "" for a name it does not want. A
// temporary file (.tmp-<name>-<random>) counts as the file it was to
// replace: an unfinished write may hold half a secret, and whoever clears
// that file must find it.
func (s *Store) written(pick func(name string) string) ([]string, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("read cache folder: %w", err)
	}
	seen := map[string]bool{}
	for _, de := range des {
		name := de.Name()
		if target := tempTarget(name); target != "" {
			name = target
		}
		if v := pick(name); v != "" {
			seen[v] = true
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// RemoveStrayTemps removes temporary files that belong to no entry or blob
// name of this version (an older version's, named .tmp-<random>) and says
// how many there were.
func (s *Store) RemoveStrayTemps() (int, error) {
	names, _ := filepath.Glob(filepath.Join(s.dir, tempPattern))
	n := 0
	for _, name := range names {
		target := tempTarget(name)
		if target != "" && checkBlobName(target) == nil {
			continue // a blob's
		}
		if target != "" && strings.HasSuffix(target, entrySuffix) {
			continue // an entry's
		}
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("remove unfinished write %s: %w", filepath.Base(name), err)
		}
		n++
	}
	return n, nil
}

// Listed is an entry as List finds it.
type Listed struct {
	Key   string
	Entry *Entry // nil when the file is not a readable entry
}

// List returns the entries in the folder, sorted by key.
func (s *Store) List() ([]Listed, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("read cache folder: %w", err)
	}
	var out []Listed
	for _, de := range des {
		key, ok := strings.CutSuffix(de.Name(), entrySuffix)
		if !ok || !isKey(key) {
			continue // not an entry: List never shows or hands out other files
		}
		e, err := s.Load(key)
		if err != nil {
			e = nil
		}
		out = append(out, Listed{Key: key, Entry: e})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
