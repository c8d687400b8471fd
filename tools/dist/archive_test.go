package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	testMtime   = time.Unix(1764480000, 0)
	testEntries = []entry{
		{Name: "vault-credential-process", Mode: 0o755, Data: []byte("binary")},
		{Name: "README.md", Mode: 0o644, Data: []byte("readme")},
		{Name: "LICENSE", Mode: 0o644, Data: []byte("license")},
	}
	// wantNames: the folder first, then the entries by name.
	wantNames = []string{"d/", "d/LICENSE", "d/README.md", "d/vault-credential-process"}
)

type writeFunc func(io.Writer, string, []entry, time.Time) error

// TestArchivesReproducible: the same files give the same bytes whatever
// their order and the time zone of the build, and a different time gives
// different bytes (so the time is really in there).
func TestArchivesReproducible(t *testing.T) {
	for name, write := range map[string]writeFunc{"tar.gz": writeTarGz, "zip": writeZip} {
		t.Run(name, func(t *testing.T) {
			reversed := []entry{testEntries[2], testEntries[1], testEntries[0]}
			a := archive(t, write, testEntries, testMtime)
			local := time.Local
			time.Local = time.FixedZone("far", 13*3600)
			b := archive(t, write, reversed, testMtime.In(time.Local))
			time.Local = local
			if !bytes.Equal(a, b) {
				t.Error("the same files in another order or time zone give other bytes")
			}
			if bytes.Equal(a, archive(t, write, testEntries, testMtime.Add(time.Hour))) {
				t.Error("another time gives the same bytes")
			}
		})
	}
}

func archive(t *testing.T, write writeFunc, entries []entry, mtime time.Time) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf, "d", entries, mtime); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTarGzHeaders: entries sorted after the folder, owned by 0:0 without
// names, with their modes and the given time; the gzip header has it too.
func TestTarGzHeaders(t *testing.T) {
	tarData, zh := gunzip(t, archive(t, writeTarGz, testEntries, testMtime))
	if !zh.ModTime.Equal(testMtime) || zh.Name != "" {
		t.Errorf("gzip header: time %v, name %q", zh.ModTime, zh.Name)
	}
	entries := readTar(t, tarData)
	var names []string
	for _, e := range entries {
		names = append(names, e.hdr.Name)
	}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("entries %q, want the order %q", names, wantNames)
	}
	for _, e := range entries {
		h := e.hdr
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(testMtime) {
			t.Errorf("%s: owner %d:%d (%q:%q), time %v", h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime)
		}
		if want := wantMode(h.Name); fs.FileMode(h.Mode) != want.Perm() {
			t.Errorf("%s: mode %o, want %o", h.Name, h.Mode, want.Perm())
		}
	}
}

// TestZipHeaders: the same for the Windows zip, whose DOS time has no zone.
func TestZipHeaders(t *testing.T) {
	data := archive(t, writeZip, testEntries, testMtime)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(wantNames) {
		t.Fatalf("%d entries, want %d", len(zr.File), len(wantNames))
	}
	for i, f := range zr.File {
		if f.Name != wantNames[i] {
			t.Fatalf("entry %d is %q, want the order %q", i, f.Name, wantNames)
		}
		if !f.Modified.Equal(testMtime) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, testMtime)
		}
		if want := wantMode(f.Name); f.Mode() != want {
			t.Errorf("%s: mode %v, want %v", f.Name, f.Mode(), want)
		}
	}
}

func wantMode(name string) fs.FileMode {
	switch {
	case strings.HasSuffix(name, "/"):
		return fs.ModeDir | 0o755
	case name == "d/vault-credential-process":
		return 0o755
	}
	return 0o644
}

// TestArchivePages: every file under docs/ lands in the archives under
// the folder's docs/, with its folders, byte for byte; hidden files and
// folders stay out; no docs folder is no pages; a symbolic link is refused.
func TestArchivePages(t *testing.T) {
	t.Chdir(t.TempDir())
	if pages, err := readPages(docsFolder); pages != nil || err != nil {
		t.Fatalf("no docs folder: %d pages, %v", len(pages), err)
	}
	files := map[string]string{
		"docs/usage.md":         "# Usage\n",
		"docs/configuration.md": "# Configuration\n",
		"docs/img/flow.svg":     "<svg/>",
		"docs/.draft.md":        "hidden",
		"docs/.git/HEAD":        "hidden",
	}
	for name, data := range files {
		if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pages, err := readPages(docsFolder)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"d/", "d/LICENSE", "d/README.md", "d/docs/", "d/docs/configuration.md", "d/docs/img/",
		"d/docs/img/flow.svg", "d/docs/usage.md", "d/vault-credential-process"}
	for name, write := range map[string]writeFunc{"tar.gz": writeTarGz, "zip": writeZip} {
		t.Run(name, func(t *testing.T) {
			got := readArchive(t, name, archive(t, write, slices.Concat(testEntries, pages), testMtime))
			if names := keysInOrder(got); !slices.Equal(names, want) {
				t.Fatalf("entries %q, want %q", names, want)
			}
			for _, f := range got {
				if f.mode != wantMode(f.name) {
					t.Errorf("%s: mode %v, want %v", f.name, f.mode, wantMode(f.name))
				}
				if src, ok := strings.CutPrefix(f.name, "d/"); ok && files[src] != "" && string(f.data) != files[src] {
					t.Errorf("%s: %q, want %q", f.name, f.data, files[src])
				}
			}
		})
	}
	if err := os.Symlink("/etc/passwd", "docs/passwd.md"); err != nil {
		t.Fatal(err)
	}
	if _, err := readPages(docsFolder); err == nil || !strings.Contains(err.Error(), "passwd.md") {
		t.Errorf("a symbolic link in docs/: %v, want an error naming it", err)
	}
}

// archived is one entry read back from an archive.
type archived struct {
	name string
	mode fs.FileMode
	data []byte
}

// readArchive reads a tar.gz or zip (format) into its entries, in order.
func readArchive(t *testing.T, format string, data []byte) []archived {
	t.Helper()
	var out []archived
	if format == "zip" {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			content, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, archived{name: f.Name, mode: f.Mode(), data: content})
		}
		return out
	}
	tarData, _ := gunzip(t, data)
	for _, e := range readTar(t, tarData) {
		out = append(out, archived{name: e.hdr.Name, mode: e.hdr.FileInfo().Mode(), data: e.data})
	}
	return out
}

// tarEntry is one entry read back from a tar: its header and its content.
type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

// readTar reads a tar into its entries, in order. Every tar the tests look
// at (archives, package tarballs, image layers and layouts) is read here.
func readTar(t *testing.T, data []byte) []tarEntry {
	t.Helper()
	var out []tarEntry
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{hdr: h, data: content})
	}
}

// tarByName is readTar by name; a name twice in one tar fails the test.
func tarByName(t *testing.T, data []byte) map[string]tarEntry {
	t.Helper()
	out := map[string]tarEntry{}
	for _, e := range readTar(t, data) {
		if _, dup := out[e.hdr.Name]; dup {
			t.Fatalf("%s twice in a tar", e.hdr.Name)
		}
		out[e.hdr.Name] = e
	}
	return out
}

// gunzip returns what the gzip'd data holds, and its gzip header.
func gunzip(t *testing.T, data []byte) ([]byte, gzip.Header) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	content, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return content, zr.Header
}

func keysInOrder(entries []archived) []string {
	var names []string
	for _, e := range entries {
		names = append(names, e.name)
	}
	return names
}
