package cache

import (
	"fmt"
	"os"
	"path/filepath"
)

// testHookMidWrite, when set (by a build-tagged test hook), runs when half
// of the temporary file is written.
var testHookMidWrite func(tmp string)

// Temporary files are named tempPrefix + the name of the file they will
// replace + "-" + a random suffix, so that whoever holds an entry's lock
// can find and remove what a killed writer of that entry left behind. List
// and Load never match them.
const (
	tempPrefix  = ".tmp-"
	tempPattern = tempPrefix + "*"
)

// tempGlob matches the temporary files of the file named target.
func tempGlob(dir, target string) string {
	return filepath.Join(dir, tempPrefix+target+"-*")
}

// writeAtomic replaces path with data: temporary file in the same folder,
// write, fsync, close, rename, fsync the folder. The temporary file is
// removed on every error path.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write cache entry: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp uses 0600, but say so: entries hold secrets.
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("write cache entry: %w", err)
	}
	half := len(data) / 2
	if _, err = f.Write(data[:half]); err != nil {
		return fmt.Errorf("write cache entry: %w", err)
	}
	if testHookMidWrite != nil {
		testHookMidWrite(tmp)
	}
	if _, err = f.Write(data[half:]); err != nil {
		return fmt.Errorf("write cache entry: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write cache entry: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write cache entry: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write cache entry: %w", err)
	}
	if err = syncDir(dir); err != nil {
		return fmt.Errorf("write cache entry: sync folder: %w", err)
	}
	return nil
}
