package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// entry is one file of an archive: its name inside the archive's folder,
// its permission bits and its content.
type entry struct {
	name string
	mode fs.FileMode
	data []byte
}

// tree returns the entries under the folder dir, with an entry for dir
// and for every folder between it and a file (so an unpacked folder has
// the archive's mode, not the umask's), ordered by name: a folder comes
// before what it holds, and the archive does not depend on the order the
// entries were gathered in.
func tree(dir string, entries []entry) []entry {
	out := []entry{{name: dir + "/", mode: fs.ModeDir | 0o755}}
	folders := map[string]bool{}
	for _, e := range entries {
		name := path.Join(dir, e.name)
		out = append(out, entry{name: name, mode: e.mode.Perm(), data: e.data})
		for f := path.Dir(name); f != dir && f != "." && !folders[f]; f = path.Dir(f) {
			folders[f] = true
			out = append(out, entry{name: f + "/", mode: fs.ModeDir | 0o755})
		}
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	return out
}

// writeTarGz writes the folder dir holding entries as a gzip'd tar. Every
// field that would carry the machine, the user or the moment of the build
// is fixed: times (the gzip header's too) are mtime, owners are 0:0 with no
// names, modes are the entries' own (folders 0755), and entries come
// sorted (tree). The USTAR format keeps seconds only and has no access or
// change times.
func writeTarGz(w io.Writer, dir string, entries []entry, mtime time.Time) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	zw.ModTime = mtime
	tw := tar.NewWriter(zw)
	for _, e := range tree(dir, entries) {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: int64(e.mode.Perm()),
			Size: int64(len(e.data)), ModTime: mtime, Format: tar.FormatUSTAR}
		if e.mode.IsDir() {
			hdr.Typeflag, hdr.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("tar %s: %w", hdr.Name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return fmt.Errorf("tar %s: %w", hdr.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// writeZip writes the folder dir holding entries as a zip, for Windows.
// Modified is mtime in UTC, so both the DOS time and the extended
// timestamp field are the same in every time zone; modes are recorded as
// Unix modes, entries sorted (tree).
func writeZip(w io.Writer, dir string, entries []entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range tree(dir, entries) {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime.UTC()}
		if e.mode.IsDir() {
			hdr.Method = zip.Store
		}
		hdr.SetMode(e.mode)
		f, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("zip %s: %w", hdr.Name, err)
		}
		if _, err := f.Write(e.data); err != nil {
			return fmt.Errorf("zip %s: %w", hdr.Name, err)
		}
	}
	return zw.Close()
}
