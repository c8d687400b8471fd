package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// entry is one file of a tar: its name (slash-separated; a folder's ends
// with a slash), its permission bits and its content.
type entry struct {
	name string
	mode fs.FileMode
	data []byte
}

// layerTarGz writes entries, whose names are absolute paths in the image,
// as a layer: a gzip'd tar of relative names, with an entry for every
// folder on the way to a file (mode 0755), sorted so each folder comes
// before what it holds. The gzip header has no name and no time; gzip's
// best compression, as Go writes it, gives the same bytes for the same
// tar.
func layerTarGz(entries []entry, mtime time.Time) ([]byte, error) {
	var files []entry
	folders := map[string]bool{}
	for _, e := range entries {
		name := strings.TrimPrefix(path.Clean(e.name), "/")
		if !path.IsAbs(e.name) || name == "" || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("%q: give an absolute path in the image", e.name)
		}
		files = append(files, entry{name: name, mode: e.mode.Perm(), data: e.data})
		for f := path.Dir(name); f != "." && !folders[f]; f = path.Dir(f) {
			folders[f] = true
			files = append(files, entry{name: f + "/", mode: fs.ModeDir | 0o755})
		}
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if err := writeTar(zw, files, mtime); err != nil {
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
			entries = append(entries, entry{name: name + "/", mode: fs.ModeDir | 0o755})
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s: not a regular file", p)
		}
		data, err := os.ReadFile(p)
		entries = append(entries, entry{name: name, mode: 0o644, data: data})
		return err
	})
	if err != nil {
		return err
	}
	return writeTar(w, entries, mtime)
}

// writeTar writes entries sorted by name, each dated mtime and owned by
// 0:0 without names, in the USTAR format (seconds only; no access or
// change times), and closes the tar (not w).
func writeTar(w io.Writer, entries []entry, mtime time.Time) error {
	entries = slices.Clone(entries)
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	tw := tar.NewWriter(w)
	for _, e := range entries {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: int64(e.mode.Perm()),
			Size: int64(len(e.data)), ModTime: mtime, Format: tar.FormatUSTAR}
		if e.mode.IsDir() {
			hdr.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("tar %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return fmt.Errorf("tar %s: %w", e.name, err)
		}
	}
	return tw.Close()
}
