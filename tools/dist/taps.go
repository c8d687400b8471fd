package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// The files a maintainer commits to a Homebrew tap (as
// Formula/vault-credential-process.rb) and a Scoop bucket (as
// bucket/vault-credential-process.json).
const (
	formulaFile  = program + ".rb"
	manifestFile = program + ".json"
)

// release is what the formula and the manifest are made from: the
// versions, where the release files can be downloaded, the archives'
// SHA-256 sums by file name, and whether the archives carry the man page.
type release struct {
	version    string // of the archives: git describe
	pkgVersion string // as packageVersion gives it
	url        string // the folder the archives are downloaded from
	sums       map[string]string
	hasMan     bool
}

// archiveBase is the name of platform's (GOOS/GOARCH) archive without
// its extension: the name of the folder in it too.
func archiveBase(version, platform string) string {
	goos, goarch, _ := strings.Cut(platform, "/")
	return fmt.Sprintf("%s_%s_%s_%s", program, version, goos, goarch)
}

// archiveName is the file name of platform's archive: a zip for Windows.
func archiveName(version, platform string) string {
	if strings.HasPrefix(platform, "windows/") {
		return archiveBase(version, platform) + ".zip"
	}
	return archiveBase(version, platform) + ".tar.gz"
}

// Homebrew's names for the platforms it installs from our archives.
var brewOS = map[string]string{"darwin": "on_macos", "linux": "on_linux"}
var brewArch = map[string]string{"amd64": "on_intel", "arm64": "on_arm"}

// formula is the Homebrew formula: per macOS and Linux platform the
// archive's URL and sum; it installs the binary, the completions the
// binary prints (generate_completions_from_executable runs `completion
// bash`, zsh and fish) and the man page when the archives carry one.
func formula(r release) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# %s %s, written by make dist (tools/dist) from the release archives
# and their SHA256SUMS: commit it to your tap as Formula/%s.
class VaultCredentialProcess < Formula
  desc %q
  homepage %q
  version %q
  license %q
`, program, r.version, formulaFile, summary, homepage, r.pkgVersion, license)
	for _, goos := range []string{"darwin", "linux"} {
		fmt.Fprintf(&b, "\n  %s do\n", brewOS[goos])
		for _, goarch := range []string{"amd64", "arm64"} {
			name := archiveName(r.version, goos+"/"+goarch)
			fmt.Fprintf(&b, "    %s do\n      url %q\n      sha256 %q\n    end\n",
				brewArch[goarch], r.url+"/"+name, r.sums[name])
		}
		b.WriteString("  end\n")
	}
	fmt.Fprintf(&b, `
  def install
    bin.install %[1]q
    generate_completions_from_executable(bin/%[1]q, "completion")
`, program)
	if r.hasMan {
		fmt.Fprintf(&b, "    man1.install %q\n", program+".1")
	}
	fmt.Fprintf(&b, `  end

  test do
    assert_match %q, shell_output("#{bin}/%s version")
  end
end
`, program+" "+r.version+" ", program)
	return b.String()
}

// scoopManifest is the Scoop manifest: the Windows archive, its sum, the
// folder in it and the binary to put on the PATH.
type scoopManifest struct {
	Version      string                   `json:"version"`
	Description  string                   `json:"description"`
	Homepage     string                   `json:"homepage"`
	License      string                   `json:"license"`
	Architecture map[string]scoopDownload `json:"architecture"`
	Bin          string                   `json:"bin"`
}

type scoopDownload struct {
	URL        string `json:"url"`
	Hash       string `json:"hash"`
	ExtractDir string `json:"extract_dir"`
}

// manifest is the Scoop manifest as Scoop's buckets format theirs.
func manifest(r release) ([]byte, error) {
	name := archiveName(r.version, "windows/amd64")
	m := scoopManifest{Version: r.pkgVersion, Description: summary, Homepage: homepage, License: license,
		Architecture: map[string]scoopDownload{"64bit": {URL: r.url + "/" + name, Hash: r.sums[name],
			ExtractDir: archiveBase(r.version, "windows/amd64")}},
		Bin: program + ".exe"}
	data, err := json.MarshalIndent(m, "", "    ")
	return append(data, '\n'), err
}

// writeTaps writes the formula and the manifest into dir, from the sums
// of the archives already there.
func writeTaps(dir string, r release) error {
	r.sums = map[string]string{}
	for _, p := range platforms {
		name := archiveName(r.version, p)
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		r.sums[name] = fmt.Sprintf("%x", sha256.Sum256(data))
	}
	m, err := manifest(r)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, manifestFile), m, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, formulaFile), []byte(formula(r)), 0o644)
}

// checkTaps reads the formula and the manifest in dir back and checks
// that each names every archive it should, at url, with the sum
// SHA256SUMS gives it: what a tap or bucket would download must be what
// was released.
func checkTaps(dir, version, url string) error {
	sums, err := readSums(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		return err
	}
	text, err := os.ReadFile(filepath.Join(dir, formulaFile))
	if err != nil {
		return err
	}
	if err := checkFormula(string(text), sums, version, url); err != nil {
		return fmt.Errorf("%s: %w", formulaFile, err)
	}
	data, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return err
	}
	if err := checkManifest(data, sums, version, url); err != nil {
		return fmt.Errorf("%s: %w", manifestFile, err)
	}
	return nil
}

// readSums reads a SHA256SUMS file: sum by file name.
func readSums(file string) (map[string]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	sums := map[string]string{}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 || name == "" {
			return nil, fmt.Errorf("%s:%d: not `SUM  NAME`: %q", file, i+1, line)
		}
		sums[name] = sum
	}
	return sums, nil
}

// checkDownload checks one download of platform: its URL is url/ the
// platform's archive, and its sum the archive's in sums.
func checkDownload(platform, gotURL, gotSum string, sums map[string]string, version, url string) error {
	name := archiveName(version, platform)
	want, ok := sums[name]
	switch {
	case !ok:
		return fmt.Errorf("SHA256SUMS has no %s", name)
	case gotURL != url+"/"+name:
		return fmt.Errorf("%s: url %q, want %q", platform, gotURL, url+"/"+name)
	case gotSum != want:
		return fmt.Errorf("%s: sha256 %q, but SHA256SUMS has %s for %s", platform, gotSum, want, name)
	}
	return nil
}

// formulaLine is a Ruby line the formula check reads: a call with one
// string argument (url "…"), or a line opening or closing a block.
var formulaLine = regexp.MustCompile(`^(\w+) "([^"\\#]*)"$`)

// checkFormula reads the url and sha256 lines of a formula by the blocks
// they are in (on_macos or on_linux, then on_intel or on_arm) and checks
// them with checkDownload: each macOS and Linux platform once, nothing
// else. Ruby is not needed: the formula is ours, one statement a line.
func checkFormula(text string, sums map[string]string, version, url string) error {
	var blocks []string
	got := map[string][2]string{} // platform: url, sha256
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "end":
			if len(blocks) == 0 {
				return fmt.Errorf("line %d: end without a block", n)
			}
			blocks = blocks[:len(blocks)-1]
		case strings.HasSuffix(line, " do") || strings.HasPrefix(line, "class ") || strings.HasPrefix(line, "def "):
			blocks = append(blocks, strings.TrimSuffix(line, " do"))
		default:
			m := formulaLine.FindStringSubmatch(line)
			if m == nil || (m[1] != "url" && m[1] != "sha256") {
				continue
			}
			platform, err := brewPlatform(blocks)
			if err != nil {
				return fmt.Errorf("line %d: %s: %w", n, m[1], err)
			}
			d, i := got[platform], slices.Index([]string{"url", "sha256"}, m[1])
			if d[i] != "" {
				return fmt.Errorf("line %d: a second %s for %s", n, m[1], platform)
			}
			d[i] = m[2]
			got[platform] = d
		}
	}
	if len(blocks) != 0 {
		return fmt.Errorf("blocks left open: %q", blocks)
	}
	return checkDownloads(got, sums, version, url, "darwin", "linux")
}

// brewPlatform is the GOOS/GOARCH of the innermost on_macos/on_linux and
// on_intel/on_arm blocks.
func brewPlatform(blocks []string) (string, error) {
	var goos, goarch string
	for _, b := range blocks {
		for k, v := range brewOS {
			if b == v {
				goos = k
			}
		}
		for k, v := range brewArch {
			if b == v {
				goarch = k
			}
		}
	}
	if goos == "" || goarch == "" {
		return "", fmt.Errorf("outside an operating system and a CPU block (%q)", blocks)
	}
	return goos + "/" + goarch, nil
}

// checkDownloads checks got (url and sum by platform) against every
// platform of the systems oses, and that it has no other.
func checkDownloads(got map[string][2]string, sums map[string]string, version, url string, oses ...string) error {
	var want []string
	for _, p := range platforms {
		if goos, _, _ := strings.Cut(p, "/"); slices.Contains(oses, goos) {
			want = append(want, p)
		}
	}
	for p, d := range got {
		if !slices.Contains(want, p) {
			return fmt.Errorf("a download for %s, which is not released", p)
		}
		if err := checkDownload(p, d[0], d[1], sums, version, url); err != nil {
			return err
		}
	}
	for _, p := range want {
		if _, ok := got[p]; !ok {
			return fmt.Errorf("no download for %s", p)
		}
	}
	return nil
}

// checkManifest parses the Scoop manifest and checks its one download and
// the folder and binary it names.
func checkManifest(data []byte, sums map[string]string, version, url string) error {
	var m scoopManifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return err
	}
	d, ok := m.Architecture["64bit"]
	if len(m.Architecture) != 1 || !ok {
		return fmt.Errorf("architectures %v, want 64bit alone", m.Architecture)
	}
	if err := checkDownloads(map[string][2]string{"windows/amd64": {d.URL, d.Hash}}, sums, version, url, "windows"); err != nil {
		return err
	}
	if want := strings.TrimSuffix(path.Base(d.URL), ".zip"); d.ExtractDir != want {
		return fmt.Errorf("extract_dir %q, but the archive's folder is %q", d.ExtractDir, want)
	}
	if m.Bin != program+".exe" {
		return fmt.Errorf("bin %q, want %s.exe", m.Bin, program)
	}
	return nil
}
