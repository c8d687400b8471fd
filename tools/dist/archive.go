package main

import (
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/vault-credential-process/vault-credential-process/tools/dist/reproducible"
)

// entry is one file of an archive: its name inside the archive's folder,
// its permission bits and its content.
type entry = reproducible.Entry

// tree returns the entries under the folder dir, with an entry for dir
// and for every folder between it and a file (so an unpacked folder has
// the archive's mode, not the umask's), ordered by name: a folder comes
// before what it holds, and the archive does not depend on the order the
// entries were gathered in.
func tree(dir string, entries []entry) []entry {
	out := make([]entry, 0, len(entries))
	for _, e := range entries {
		out = append(out, entry{Name: path.Join(dir, e.Name), Mode: e.Mode.Perm(), Data: e.Data})
	}
	return reproducible.WithFolders(out)
}

// writeTarGz writes the folder dir holding entries as a gzip'd tar. Every
// field that would carry the machine, the user or the moment of the build
// is fixed: times (the gzip header's too) are mtime, owners are 0:0 with no
// names, modes are the entries' own (folders 0755), and entries come
// sorted (reproducible.WriteTar).
func writeTarGz(w io.Writer, dir string, entries []entry, mtime time.Time) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	zw.ModTime = mtime
	if err := reproducible.WriteTar(zw, tree(dir, entries), mtime); err != nil {
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
		hdr := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: mtime.UTC()}
		if e.Mode.IsDir() {
			hdr.Method = zip.Store
		}
		hdr.SetMode(e.Mode)
		f, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("zip %s: %w", hdr.Name, err)
		}
		if _, err := f.Write(e.Data); err != nil {
			return fmt.Errorf("zip %s: %w", hdr.Name, err)
		}
	}
	return zw.Close()
}
