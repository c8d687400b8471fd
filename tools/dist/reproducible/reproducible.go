// Package reproducible holds what the programs of `make dist` share so
// that the same input gives the same bytes: tars whose times, owners,
// modes and order are fixed (Entry, WithFolders, WriteTar), and the JSON
// spec tools/dist hands to tools/linuxpkg and tools/ociimage, read
// strictly (ReadSpec).
//
// It is part of the main module and uses the standard library only, so
// that those two modules can import it (their go.mod requires the main
// module, replaced by ../..) without a dependency of their own: one writer
// of tars, where before the image's and the archives' were two copies of
// the same rules.
package reproducible

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// Entry is one file of a tar: its name (slash-separated, relative; a
// folder's ends with a slash), its mode (fs.ModeDir for a folder, and the
// permission bits) and its content.
type Entry struct {
	Name string
	Mode fs.FileMode
	Data []byte
}

// WithFolders returns entries with an entry (mode 0755) for every folder
// on the way to one of them that is not there already, sorted by name: a
// folder comes before what it holds, so that an unpacked folder has the
// tar's mode, not the umask's.
func WithFolders(entries []Entry) []Entry {
	out := slices.Clone(entries)
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Name] = true
	}
	for _, e := range entries {
		for f := path.Dir(strings.TrimSuffix(e.Name, "/")); f != "." && f != "/" && !have[f+"/"]; f = path.Dir(f) {
			have[f+"/"] = true
			out = append(out, Entry{Name: f + "/", Mode: fs.ModeDir | 0o755})
		}
	}
	sortByName(out)
	return out
}

// WriteTar writes entries to w as a tar, sorted by name whatever their
// order, and closes the tar (not w). Every field that would carry the
// machine, the user or the moment of the build is fixed: each entry is
// dated mtime and owned by 0:0 without names, its mode is its permission
// bits alone, and the USTAR format keeps seconds only, with no access or
// change times.
func WriteTar(w io.Writer, entries []Entry, mtime time.Time) error {
	entries = slices.Clone(entries)
	sortByName(entries)
	tw := tar.NewWriter(w)
	for _, e := range entries {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: e.Name, Mode: int64(e.Mode.Perm()),
			Size: int64(len(e.Data)), ModTime: mtime, Format: tar.FormatUSTAR}
		if e.Mode.IsDir() {
			hdr.Typeflag, hdr.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("tar %s: %w", e.Name, err)
		}
		if _, err := tw.Write(e.Data); err != nil {
			return fmt.Errorf("tar %s: %w", e.Name, err)
		}
	}
	return tw.Close()
}

func sortByName(entries []Entry) {
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
}

// ReadSpec reads the JSON file at path, written by tools/dist, into v. A
// field v does not know is an error: a spec of another version of
// tools/dist is refused rather than half understood.
func ReadSpec(path string, v any) error {
	if path == "" {
		return errors.New("-spec: give the JSON file tools/dist wrote")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
