package smallfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Temporary files are named TempPrefix + the name of the file they will
// replace + "-" + a random suffix, so that whoever owns a folder (the
// cache, under an entry's lock) can find and remove what a killed writer
// left behind.
const TempPrefix = ".tmp-"

// TempGlob matches the temporary files of the file named target in dir.
func TempGlob(dir, target string) string {
	return filepath.Join(dir, TempPrefix+target+"-*")
}

// TempTarget returns the name of the file that the temporary file named
// name was to replace, and whether name is a temporary file of this
// naming at all.
func TempTarget(name string) (target string, ok bool) {
	rest, ok := strings.CutPrefix(name, TempPrefix)
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return "", false
	}
	return rest[:i], true
}

// WriteFile replaces the file at path with data, atomically: a reader sees
// the old file or the new one, never a mix, and after a crash the new one
// is either complete on disk or absent. It writes a temporary file
// ".tmp-<name>-<random>" in path's folder, fsyncs it, renames it over path
// and fsyncs the folder; the temporary file is removed on every error path.
// The temporary file is created with mode 0600 and set to perm, whatever
// the umask, before any data goes in. A symlink or FIFO at path is
// replaced, not followed or blocked on: resolve a symlink first to write
// through it.
//
// It is the one atomic writer of this program: cache entries use it with
// perm 0600, and so does anything else that replaces a file.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return WriteFileHook(path, data, perm, nil)
}

// WriteFileHook is WriteFile with midWrite, when not nil, run once half of
// the temporary file is written: the cache's test hook stops a write there
// to have it killed.
func WriteFileHook(path string, data []byte, perm fs.FileMode, midWrite func(tmp string)) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, TempPrefix+filepath.Base(path)+"-*")
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
