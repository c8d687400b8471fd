package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/tools/dist/reproducible"
)

// entry is one file of a tar: its name, its mode and its content. The tars
// are written by reproducible.WriteTar, as the release archives are.
type entry = reproducible.Entry

// layerTarGz writes entries, whose names are absolute paths in the image,
// as a layer: a gzip'd tar of relative names, with an entry for every
// folder on the way to a file (mode 0755), sorted so each folder comes
// before what it holds. The gzip header has no name and no time; gzip's
// best compression, as Go writes it, gives the same bytes for the same
// tar.
func layerTarGz(entries []entry, mtime time.Time) ([]byte, error) {
	var files []entry
	for _, e := range entries {
		name := strings.TrimPrefix(path.Clean(e.Name), "/")
		if !path.IsAbs(e.Name) || name == "" || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("%q: give an absolute path in the image", e.Name)
		}
		files = append(files, entry{Name: name, Mode: e.Mode.Perm(), Data: e.Data})
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if err := reproducible.WriteTar(zw, reproducible.WithFolders(files), mtime); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tarFolder writes the files and folders under dir (not dir itself) as a
// tar, names relative to dir: files 0644, folders 0755, whatever they are
// on disk.
func tarFolder(w io.Writer, dir string, mtime time.Time) error {
	var entries []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			entries = append(entries, entry{Name: name + "/", Mode: fs.ModeDir | 0o755})
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s: not a regular file", p)
		}
		data, err := os.ReadFile(p)
		entries = append(entries, entry{Name: name, Mode: 0o644, Data: data})
		return err
	})
	if err != nil {
		return err
	}
	return reproducible.WriteTar(w, entries, mtime)
}
