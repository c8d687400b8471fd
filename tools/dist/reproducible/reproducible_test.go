package reproducible

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestWithFolders: every folder on the way to an entry is added once, at
// 0755, a folder given is kept as it is, and all comes sorted by name.
func TestWithFolders(t *testing.T) {
	got := WithFolders([]Entry{
		{Name: "d/docs/img/flow.svg", Mode: 0o644},
		{Name: "d/bin", Mode: 0o755},
		{Name: "d/docs/", Mode: fs.ModeDir | 0o700},
		{Name: "d/docs/usage.md", Mode: 0o644},
	})
	want := []Entry{
		{Name: "d/", Mode: fs.ModeDir | 0o755},
		{Name: "d/bin", Mode: 0o755},
		{Name: "d/docs/", Mode: fs.ModeDir | 0o700},
		{Name: "d/docs/img/", Mode: fs.ModeDir | 0o755},
		{Name: "d/docs/img/flow.svg", Mode: 0o644},
		{Name: "d/docs/usage.md", Mode: 0o644},
	}
	if !slices.EqualFunc(got, want, func(a, b Entry) bool { return a.Name == b.Name && a.Mode == b.Mode }) {
		t.Errorf("WithFolders = %v, want %v", got, want)
	}
}

// TestWriteTar: the same entries give the same bytes whatever their order
// and the time zone; each entry is dated mtime, owned by 0:0 without
// names, with its permission bits alone, in the USTAR format.
func TestWriteTar(t *testing.T) {
	mtime := time.Unix(1764480000, 0)
	entries := []Entry{
		{Name: "etc/", Mode: fs.ModeDir | 0o755},
		{Name: "etc/ca.crt", Mode: 0o644, Data: []byte("roots")},
		{Name: "bin", Mode: fs.ModeSetuid | 0o755, Data: []byte("binary")},
	}
	write := func(entries []Entry, mtime time.Time) []byte {
		var buf bytes.Buffer
		if err := WriteTar(&buf, entries, mtime); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	data := write(entries, mtime)
	if again := write([]Entry{entries[2], entries[0], entries[1]}, mtime.In(time.FixedZone("far", 13*3600))); !bytes.Equal(data, again) {
		t.Error("the same entries in another order or time zone give other bytes")
	}
	tr := tar.NewReader(bytes.NewReader(data))
	want := map[string]int64{"bin": 0o755, "etc/": 0o755, "etc/ca.crt": 0o644}
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(mtime) ||
			!h.AccessTime.IsZero() || !h.ChangeTime.IsZero() || h.Mode != want[h.Name] {
			t.Errorf("%s: owner %d:%d (%q:%q), time %v (access %v, change %v), mode %o",
				h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime, h.AccessTime, h.ChangeTime, h.Mode)
		}
		if isDir := strings.HasSuffix(h.Name, "/"); isDir != (h.Typeflag == tar.TypeDir) {
			t.Errorf("%s: type %c", h.Name, h.Typeflag)
		}
	}
	if !slices.Equal(names, []string{"bin", "etc/", "etc/ca.crt"}) {
		t.Errorf("entries %q, want them sorted by name", names)
	}
}

// TestReadSpec: the spec is read into v; no path, or a field v does not
// know, is an error saying so.
func TestReadSpec(t *testing.T) {
	dir := t.TempDir()
	good, unknown := filepath.Join(dir, "good.json"), filepath.Join(dir, "unknown.json")
	for p, text := range map[string]string{good: `{"epoch": 7}`, unknown: `{"epoch": 7, "epoc": 8}`} {
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var s struct {
		Epoch int64 `json:"epoch"`
	}
	if err := ReadSpec(good, &s); err != nil || s.Epoch != 7 {
		t.Errorf("ReadSpec = %v, epoch %d; want nil, 7", err, s.Epoch)
	}
	for _, tt := range []struct{ path, want string }{
		{"", "-spec: give the JSON file"},
		{unknown, `unknown field "epoc"`},
		{filepath.Join(dir, "none.json"), "no such file"},
	} {
		if err := ReadSpec(tt.path, &s); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadSpec(%q) = %v, want an error with %q", tt.path, err, tt.want)
		}
	}
}
