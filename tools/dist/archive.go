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

// sorted returns the entries ordered by name, so the archive does not
// depend on the order they were gathered in.
func sorted(entries []entry) []entry {
	s := slices.Clone(entries)
	slices.SortFunc(s, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	return s
}

// writeTarGz writes the folder dir holding entries as a gzip'd tar. Every
// field that would carry the machine, the user or the moment of the build
// is fixed: times (the gzip header's too) are mtime, owners are 0:0 with no
// names, modes are the entries' own, and entries come sorted after the
// folder. The USTAR format keeps seconds only and has no access or change
// times.
func writeTarGz(w io.Writer, dir string, entries []entry, mtime time.Time) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	zw.ModTime = mtime
	tw := tar.NewWriter(zw)
	hdr := &tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: mtime, Format: tar.FormatUSTAR}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("tar %s: %w", hdr.Name, err)
	}
	for _, e := range sorted(entries) {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: path.Join(dir, e.name), Mode: int64(e.mode.Perm()),
			Size: int64(len(e.data)), ModTime: mtime, Format: tar.FormatUSTAR}
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
// Unix modes, entries sorted after the folder.
func writeZip(w io.Writer, dir string, entries []entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	folder := &zip.FileHeader{Name: dir + "/", Method: zip.Store, Modified: mtime.UTC()}
	folder.SetMode(fs.ModeDir | 0o755)
	if _, err := zw.CreateHeader(folder); err != nil {
		return fmt.Errorf("zip %s: %w", folder.Name, err)
	}
	for _, e := range sorted(entries) {
		hdr := &zip.FileHeader{Name: path.Join(dir, e.name), Method: zip.Deflate, Modified: mtime.UTC()}
		hdr.SetMode(e.mode.Perm())
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
