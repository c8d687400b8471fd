package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPackageVersion: every shape of git describe becomes a version dpkg
// and rpm accept and order like the commits; anything else is refused.
func TestPackageVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v1.2.3-dirty", "1.2.3+dirty"},
		{"v1.2.3-rc.1", "1.2.3~rc.1"},
		{"v1.2.3-rc-1", "1.2.3~rc.1"},
		{"v1.2.3-4-gabc1234", "1.2.3+4.gabc1234"},
		{"v1.2.3-4-gabc1234-dirty", "1.2.3+4.gabc1234.dirty"},
		{"v1.2.3-rc.1-4-gabc1234", "1.2.3~rc.1+4.gabc1234"},
		{"v2", "2"},
		{"76d3eae", "0.0.0+g76d3eae"},
		{"76d3eae-dirty", "0.0.0+g76d3eae.dirty"},
		{"1234567", "0.0.0+g1234567"}, // an all-digit hash is no tag
		{"dev", ""},
		{"release-1", ""},
		{"v1.2.3-", ""},
		{"v1..2", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := packageVersion(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("packageVersion(%q) = %q, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("packageVersion(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestPackageFiles: what each format holds, where, with which mode and
// RPM file type; zsh's folder is the one each family's zsh reads.
func TestPackageFiles(t *testing.T) {
	const doc = "/usr/share/doc/vault-credential-process"
	common := map[string]fs.FileMode{
		"/usr/bin/vault-credential-process":                                  0o755,
		"/usr/share/bash-completion/completions/vault-credential-process":    0o644,
		"/usr/share/fish/vendor_completions.d/vault-credential-process.fish": 0o644,
		doc:                fs.ModeDir | 0o755,
		doc + "/README.md": 0o644,
		doc + "/LICENSE":   0o644,
	}
	pages := map[string]fs.FileMode{
		doc + "/docs":              fs.ModeDir | 0o755,
		doc + "/docs/img":          fs.ModeDir | 0o755,
		doc + "/docs/img/flow.txt": 0o644,
		doc + "/docs/usage.md":     0o644,
	}
	const man = "/usr/share/man/man1/vault-credential-process.1.gz"
	tests := []struct {
		format string
		d      docSet
		zsh    string
		types  map[string]string // by destination; the rest have none
	}{
		{"deb", docSet{}, "/usr/share/zsh/vendor-completions/_vault-credential-process",
			map[string]string{doc: "dir"}},
		{"deb", testDocSet, "/usr/share/zsh/vendor-completions/_vault-credential-process",
			map[string]string{doc: "dir", doc + "/docs": "dir", doc + "/docs/img": "dir"}},
		{"rpm", docSet{}, "/usr/share/zsh/site-functions/_vault-credential-process",
			map[string]string{doc: "dir", doc + "/README.md": "doc", doc + "/LICENSE": "license"}},
		{"rpm", testDocSet, "/usr/share/zsh/site-functions/_vault-credential-process",
			map[string]string{doc: "dir", doc + "/README.md": "doc", doc + "/LICENSE": "license", man: "doc",
				doc + "/docs": "dir", doc + "/docs/img": "dir", doc + "/docs/img/flow.txt": "doc", doc + "/docs/usage.md": "doc"}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			files := packageFiles(tt.format, "/w/bin", "/w/shared", tt.d)
			want := merge(common, map[string]fs.FileMode{tt.zsh: 0o644})
			if tt.d.man {
				want[man] = 0o644
			}
			if len(tt.d.pages) > 0 {
				want = merge(want, pages)
			}
			var got []string
			for _, f := range files {
				got = append(got, f.Dst)
				mode, ok := want[f.Dst]
				if !ok {
					t.Errorf("%s: not expected in the %s package", f.Dst, tt.format)
					continue
				}
				if mode.IsDir() {
					if f.Type != "dir" || f.Src != "" || f.Mode != mode.Perm() {
						t.Errorf("%s: folder with source %q, mode %o", f.Dst, f.Src, f.Mode)
					}
				} else if f.Mode != mode || (f.Src != "/w/bin" && f.Src != filepath.Join("/w/shared", strings.TrimPrefix(f.Dst, doc+"/")) &&
					filepath.Dir(f.Src) != "/w/shared") {
					t.Errorf("%s: mode %o (want %o), source %q", f.Dst, f.Mode, mode, f.Src)
				}
				if f.Type != tt.types[f.Dst] {
					t.Errorf("%s: type %q, want %q", f.Dst, f.Type, tt.types[f.Dst])
				}
			}
			if len(got) != len(want) {
				t.Errorf("the %s package holds %q, want the %d of %v", tt.format, got, len(want), want)
			}
		})
	}
}

// merge merges maps into a new one.
func merge(ms ...map[string]fs.FileMode) map[string]fs.FileMode {
	out := map[string]fs.FileMode{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// fakeHost writes a shell script that prints a completion script the way
// the real binary does, so the packaging can be tested without building
// it.
func fakeHost(t *testing.T) string {
	t.Helper()
	host := filepath.Join(t.TempDir(), "vault-credential-process")
	script := "#!/bin/sh\n[ \"$1\" = completion ] || exit 2\necho \"# $2 completion for vault-credential-process\"\n"
	if err := os.WriteFile(host, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return host
}

// TestWriteShared: the completions are what the binary prints for each
// shell, the docs are copied, and the man page is gzip'd without a name or
// a time, so it is the same bytes on every run.
func TestWriteShared(t *testing.T) {
	host := fakeHost(t)
	docs := testDocs
	man := []byte(".TH VAULT-CREDENTIAL-PROCESS 1\n")
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	for _, dir := range []string{a, b} {
		if err := writeShared(dir, host, docs, man); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{sharedBash: "# bash completion", sharedZsh: "# zsh completion",
		sharedFish: "# fish completion", "README.md": "readme", "LICENSE": "license",
		"docs/usage.md": "# Usage", "docs/img/flow.txt": "a -> b"}
	for name, prefix := range want {
		data, err := os.ReadFile(filepath.Join(a, name))
		if err != nil || !strings.HasPrefix(string(data), prefix) {
			t.Errorf("%s: %q, %v; want it to start with %q", name, data, err, prefix)
		}
	}
	gz, err := os.ReadFile(filepath.Join(a, sharedMan))
	if err != nil {
		t.Fatal(err)
	}
	if got, zh := gunzip(t, gz); !bytes.Equal(got, man) || zh.Name != "" || !zh.ModTime.Equal(time.Time{}) {
		t.Errorf("man page %q, gzip header name %q, time %v; want %q with neither", got, zh.Name, zh.ModTime, man)
	}
	for _, name := range []string{sharedBash, sharedMan} {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs", name)
		}
	}
	if err := writeShared(filepath.Join(t.TempDir(), "c"), host, docs, nil); err != nil {
		t.Fatal(err)
	}
}

// TestWriteSharedBinaryFails: a binary that cannot print a script stops
// the packaging rather than shipping an empty completion file.
func TestWriteSharedBinaryFails(t *testing.T) {
	for name, script := range map[string]string{"exit 1": "#!/bin/sh\nexit 1\n", "silent": "#!/bin/sh\nexit 0\n"} {
		t.Run(name, func(t *testing.T) {
			host := filepath.Join(t.TempDir(), "host")
			if err := os.WriteFile(host, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := writeShared(t.TempDir(), host, nil, nil); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// TestFindManPage: the man page is optional, and found in the root folder
// before docs/.
func TestFindManPage(t *testing.T) {
	t.Chdir(t.TempDir())
	if p, err := findManPage(); p != "" || err != nil {
		t.Fatalf("no man page: got %q, %v", p, err)
	}
	for _, p := range []string{"docs/vault-credential-process.1", "vault-credential-process.1"} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(".TH\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := findManPage(); got != p || err != nil {
			t.Errorf("with %s: got %q, %v", p, got, err)
		}
	}
	if !slices.Equal(manPages[:2], []string{"vault-credential-process.1", "docs/vault-credential-process.1"}) {
		t.Errorf("manPages = %q", manPages)
	}
}
