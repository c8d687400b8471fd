package cache

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// testHookMidWrite, when set (by a build-tagged test hook), runs when half
// of the temporary file of a cache entry is written.
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

// WriteFile replaces the file at path with data, atomically: a reader sees
// the old file or the new one, never a mix, and after a crash the new one
// is either complete on disk or absent. It writes a temporary file
// ".tmp-<name>-<random>" in path's folder, fsyncs it, renames it over path
// and fsyncs the folder; the temporary file is removed on every error path.
// The temporary file is created with mode 0600 and set to perm, whatever
// the umask, before any data goes in. A symlink at path is replaced, not
// followed: resolve it first to write through it.
//
// It is the one atomic writer of this program: cache entries use it with
// perm 0600, and so does anything else that replaces a file.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return writeFile(path, data, perm, nil)
}

// writeAtomic replaces a cache entry or blob at path with data: WriteFile
// with mode 0600 (entries hold secrets) and the test hook that stops the
// write halfway.
func writeAtomic(path string, data []byte) error {
	if err := writeFile(path, data, 0o600, testHookMidWrite); err != nil {
		return fmt.Errorf("write cache entry: %w", err)
	}
	return nil
}

// writeFile is WriteFile; midWrite, if not nil, runs when half of the
// temporary file is written.
func writeFile(path string, data []byte, perm fs.FileMode, midWrite func(tmp string)) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp uses 0600; Chmod says what the file gets, unmasked.
	if err = f.Chmod(perm); err != nil {
		return err
	}
	half := len(data) / 2
	if _, err = f.Write(data[:half]); err != nil {
		return err
	}
	if midWrite != nil {
		midWrite(tmp)
	}
	if _, err = f.Write(data[half:]); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if err = syncDir(dir); err != nil {
		return fmt.Errorf("sync folder: %w", err)
	}
	return nil
}
