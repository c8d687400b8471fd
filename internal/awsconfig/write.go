package awsconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vault-credential-process/vault-credential-process/internal/smallfile"
)

// WriteProfile sets awsProfile's credential_process to command in the AWS
// config file at path, as upsert does, through Rewrite.
func WriteProfile(path, awsProfile, command string, force bool) (file string, changed bool, err error) {
	return Rewrite(path, func(data []byte) ([]byte, bool, error) {
		return upsert(data, awsProfile, command, force)
	})
}

// Rewrite reads the AWS config file at path, hands its data to edit, and
// when edit says it changed replaces the file atomically with
// smallfile.WriteFile: the one way aws-config writes the file, for one profile
// (WriteProfile) and for all (Sync).
//
// A symlink at path is followed (dotfile managers link ~/.aws/config) so
// that the file it leads to is rewritten rather than the link replaced;
// file is that file, or path itself, and is set with every error after it
// is known, edit's included. A file that exists keeps its permission bits;
// a new one gets 0600 in a folder made 0700. A file that does not exist is
// handed to edit as empty. A dry run is an edit that says nothing changed.
func Rewrite(path string, edit func(data []byte) (out []byte, changed bool, err error)) (file string, changed bool, err error) {
	file = path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		file = real
	}
	data, perm, err := read(file)
	if err != nil {
		return file, false, fmt.Errorf("read %s: %w", file, err)
	}
	out, changed, err := edit(data)
	if err != nil || !changed {
		return file, false, err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return file, false, err
	}
	if err := smallfile.WriteFile(file, out, perm); err != nil {
		return file, false, fmt.Errorf("write %s: %w", file, err)
	}
	return file, true, nil
}

// read returns the AWS config file's data and permission bits; a file that
// does not exist is empty, with the mode a new one gets.
func read(file string) ([]byte, fs.FileMode, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0o600, nil
	}
	if err != nil {
		return nil, 0, err
	}
	fi, err := os.Stat(file)
	if err != nil {
		return nil, 0, err
	}
	return data, fi.Mode().Perm(), nil
}
