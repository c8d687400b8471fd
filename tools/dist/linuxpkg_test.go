package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testEpoch is the SOURCE_DATE_EPOCH of the packages the tests build.
const testEpoch = 1764480000

// testDocs are the docs of the test packages: the README, the LICENSE and
// two pages, one in a folder of its own; testDocSet says so, and that
// there is a man page.
var (
	testDocs = []entry{{Name: "README.md", Data: []byte("readme")}, {Name: "LICENSE", Data: []byte("license")},
		{Name: "docs/usage.md", Data: []byte("# Usage")}, {Name: "docs/img/flow.txt", Data: []byte("a -> b")}}
	testDocSet = docSet{man: true, pages: []string{"docs/img/flow.txt", "docs/usage.md"}}
)

// testPackages builds the deb and the rpm for goarch with tools/linuxpkg
// (the test must run from the module root), from the binary bin and the
// shared folder as d says, into a new folder; the paths by format.
func testPackages(t *testing.T, o *options, goarch, bin, shared string, d docSet) map[string]string {
	t.Helper()
	out := t.TempDir()
	var pkgs []linuxPackage
	paths := map[string]string{}
	for _, f := range packageFormats {
		paths[f] = filepath.Join(out, packageName(o.version, goarch, f))
		pkgs = append(pkgs, linuxPackage{format: f, arch: goarch, bin: bin, out: paths[f]})
	}
	if err := o.writePackages(t.TempDir(), shared, d, pkgs); err != nil {
		t.Fatal(err)
	}
	return paths
}

// TestPackagesReproducible: the same files give the same package bytes
// whatever the source files' own modes and times and the time zone, and
// the .deb holds exactly packageFiles, owned by root, dated at the epoch.
// The .rpm is read with rpm(8) where it is installed (always in CI).
func TestPackagesReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tools/linuxpkg and nfpm")
	}
	t.Chdir("../..")
	host := fakeHost(t)
	o := &options{version: "v1.2.3-rc.1", epoch: testEpoch, goCmd: "go"}
	build := func(mode fs.FileMode, mtime time.Time, tz string) map[string][]byte {
		work := t.TempDir()
		shared := filepath.Join(work, "shared")
		if err := writeShared(shared, host, testDocs, []byte(".TH X 1\n")); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(work, program)
		if err := os.WriteFile(bin, []byte("the binary"), 0o700); err != nil {
			t.Fatal(err)
		}
		for _, p := range append(listFiles(t, shared), bin) {
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("TZ", tz)
		data := map[string][]byte{}
		for f, p := range testPackages(t, o, "amd64", bin, shared, testDocSet) {
			data[f] = readFile(t, p)
		}
		return data
	}
	a := build(0o644, time.Now(), "UTC")
	b := build(0o600, time.Unix(86400, 0), "Pacific/Chatham")
	for _, f := range packageFormats {
		if !bytes.Equal(a[f], b[f]) {
			t.Errorf("%s: two builds of the same files differ", f)
		}
	}
	checkDeb(t, a["deb"], packageFiles("deb", "", "", testDocSet), "1.2.3~rc.1")
	p := filepath.Join(t.TempDir(), "x.rpm")
	if err := os.WriteFile(p, a["rpm"], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("rpm"); err != nil && os.Getenv("CI") != "true" {
		t.Log("no rpm(8) here: the .rpm is read in CI")
		return
	}
	checkRPM(t, p, packageFiles("rpm", "", "", testDocSet), "1.2.3~rc.1", "x86_64")
}

// listFiles lists the files under dir, in its folders too.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// arMember is one file of an ar archive (a .deb is one).
type arMember struct {
	name     string
	mtime    int64
	uid, gid int
	data     []byte
}

// readAr reads the common ar format dpkg writes and reads.
func readAr(data []byte) ([]arMember, error) {
	rest, ok := bytes.CutPrefix(data, []byte("!<arch>\n"))
	if !ok {
		return nil, fmt.Errorf("not an ar archive")
	}
	var members []arMember
	for len(rest) > 0 {
		if len(rest) < 60 || string(rest[58:60]) != "`\n" {
			return nil, fmt.Errorf("bad ar header at %d", len(data)-len(rest))
		}
		field := func(from, to int) string { return strings.TrimSpace(string(rest[from:to])) }
		size, err := strconv.Atoi(field(48, 58))
		if err != nil || 60+size > len(rest) {
			return nil, fmt.Errorf("bad ar size %q", field(48, 58))
		}
		m := arMember{name: strings.TrimSuffix(field(0, 16), "/"), data: rest[60 : 60+size]}
		m.mtime, _ = strconv.ParseInt(field(16, 28), 10, 64)
		m.uid, _ = strconv.Atoi(field(28, 34))
		m.gid, _ = strconv.Atoi(field(34, 40))
		members = append(members, m)
		rest = rest[min(60+size+size%2, len(rest)):]
	}
	return members, nil
}

// checkDeb checks a .deb's members and both its tarballs: every entry
// dated at testEpoch and owned by root, the control file's version, and
// the data holding exactly want (with their modes) plus parent folders.
func checkDeb(t *testing.T, deb []byte, want []pkgFile, version string) {
	t.Helper()
	members, err := readAr(deb)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range members {
		names = append(names, m.name)
		if m.mtime != testEpoch || m.uid != 0 || m.gid != 0 {
			t.Errorf("ar member %s: time %d, owner %d:%d", m.name, m.mtime, m.uid, m.gid)
		}
	}
	if !slices.Equal(names, []string{"debian-binary", "control.tar.gz", "data.tar.gz"}) {
		t.Fatalf("ar members %q", names)
	}
	control := readTarGz(t, members[1].data)
	if c := string(control["./control"]); !strings.Contains(c, "\nVersion: "+version+"\n") ||
		!strings.HasPrefix(c, "Package: vault-credential-process\n") {
		t.Errorf("control file:\n%s", c)
	}
	files := readTarGz(t, members[2].data)
	for _, f := range want {
		dst := "." + f.Dst
		if f.Type == "dir" {
			dst += "/"
		}
		if _, ok := files[dst]; !ok {
			t.Errorf("the .deb lacks %s (has %q)", dst, keys(files))
		}
		delete(files, dst)
	}
	for name := range files {
		if !strings.HasSuffix(name, "/") {
			t.Errorf("the .deb has %s, which it should not", name)
		}
	}
}

// readTarGz reads a tar.gz, checks each entry's time, owner and mode
// (folders 0755, files as packageFiles says), and returns the contents by
// name.
func readTarGz(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	modes := map[string]fs.FileMode{}
	for _, f := range packageFiles("deb", "", "", testDocSet) {
		modes["."+f.Dst] = f.Mode
	}
	out := map[string][]byte{}
	tarData, _ := gunzip(t, data)
	for _, e := range readTar(t, tarData) {
		h := e.hdr
		if h.ModTime.Unix() != testEpoch || h.Uid != 0 || h.Gid != 0 || (h.Uname != "root" && h.Uname != "") ||
			(h.Gname != "root" && h.Gname != "") || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: time %v (access %v, change %v), owner %d:%d (%s:%s)", h.Name, h.ModTime,
				h.AccessTime, h.ChangeTime, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		want, ok := modes[strings.TrimSuffix(h.Name, "/")]
		switch {
		case h.Typeflag == tar.TypeDir && fs.FileMode(h.Mode) != 0o755,
			h.Typeflag == tar.TypeReg && ok && fs.FileMode(h.Mode) != want:
			t.Errorf("%s: mode %o", h.Name, h.Mode)
		}
		out[h.Name] = e.data
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// rpmQuery runs rpm -qp with a query format on the package at p.
func rpmQuery(t *testing.T, p, format string) string {
	t.Helper()
	out, err := exec.Command("rpm", "-qp", "--queryformat", format, p).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm -qp --queryformat %q: %v\n%s", format, err, out)
	}
	return string(out)
}

// checkRPM checks an .rpm with rpm(8): its metadata, and that it holds
// exactly want, with their modes and doc/license flags, owned by root and
// dated at testEpoch.
func checkRPM(t *testing.T, p string, want []pkgFile, version, arch string) {
	t.Helper()
	meta := rpmQuery(t, p, "%{NAME}|%{VERSION}|%{RELEASE}|%{ARCH}|%{LICENSE}|%{URL}|%{SUMMARY}|%{BUILDTIME}|%{BUILDHOST}")
	wantMeta := strings.Join([]string{program, version, "1", arch, license, homepage, summary,
		strconv.Itoa(testEpoch), "reproducible"}, "|")
	if meta != wantMeta {
		t.Errorf("rpm metadata\n %s\nwant\n %s", meta, wantMeta)
	}
	wantLines := map[string]string{}
	for _, f := range want {
		mode, flags := f.Mode|0o100000, ""
		switch f.Type {
		case "dir":
			mode = f.Mode | 0o40000
		case "doc":
			flags = "d"
		case "license":
			flags = "l"
		}
		wantLines[f.Dst] = fmt.Sprintf("%s %o %d root root %s", f.Dst, mode, testEpoch, flags)
	}
	got := rpmQuery(t, p, "[%{FILENAMES} %{FILEMODES:octal} %{FILEMTIMES} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEFLAGS:fflags}\n]")
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	for _, line := range lines {
		name, _, _ := strings.Cut(line, " ")
		if w, ok := wantLines[name]; !ok || strings.TrimSpace(line) != strings.TrimSpace(w) {
			t.Errorf("rpm file\n %s\nwant\n %s", line, w)
		}
	}
	if len(lines) != len(wantLines) {
		t.Errorf("the .rpm holds\n%s\nwant %q", got, keys(wantLines))
	}
}
