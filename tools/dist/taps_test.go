package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testURL = "https://example.com/releases/download/v1.2.3"

// fakeRelease writes an archive of distinct bytes for every platform into
// a new folder, the formula and manifest from them, and SHA256SUMS, as
// make dist does.
func fakeRelease(t *testing.T, hasMan bool) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range platforms {
		if err := os.WriteFile(filepath.Join(dir, archiveName("v1.2.3", p)), []byte("archive of "+p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := release{version: "v1.2.3", pkgVersion: "1.2.3", url: testURL, hasMan: hasMan}
	if err := writeTaps(dir, r); err != nil {
		t.Fatal(err)
	}
	if err := writeSums(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestTapsMatchArchives: the formula and the manifest make dist writes
// name every archive at the release URL with its sum in SHA256SUMS.
func TestTapsMatchArchives(t *testing.T) {
	for _, hasMan := range []bool{false, true} {
		dir := fakeRelease(t, hasMan)
		if err := checkTaps(dir, "v1.2.3", testURL); err != nil {
			t.Fatal(err)
		}
		text, _ := os.ReadFile(filepath.Join(dir, formulaFile))
		if got := strings.Contains(string(text), `man1.install "vault-credential-process.1"`); got != hasMan {
			t.Errorf("with the man page %v: the formula installs it: %v", hasMan, got)
		}
		for _, want := range []string{"class VaultCredentialProcess < Formula", `version "1.2.3"`,
			`generate_completions_from_executable(bin/"vault-credential-process", "completion")`,
			`assert_match "vault-credential-process v1.2.3 "`} {
			if !strings.Contains(string(text), want) {
				t.Errorf("the formula lacks %s", want)
			}
		}
		var m map[string]any
		data, _ := os.ReadFile(filepath.Join(dir, manifestFile))
		if err := json.Unmarshal(data, &m); err != nil || m["version"] != "1.2.3" {
			t.Errorf("manifest: version %v, %v", m["version"], err)
		}
	}
}

// TestTapsCheckFails: each way a formula or manifest could point at the
// wrong bytes is caught by the check make dist runs.
func TestTapsCheckFails(t *testing.T) {
	dir := fakeRelease(t, false)
	sums, err := readSums(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	formulaText, _ := os.ReadFile(filepath.Join(dir, formulaFile))
	manifestData, _ := os.ReadFile(filepath.Join(dir, manifestFile))
	linuxAmd64 := archiveName("v1.2.3", "linux/amd64")
	linuxArm64 := archiveName("v1.2.3", "linux/arm64")
	windows := archiveName("v1.2.3", "windows/amd64")
	formulaEdits := map[string]func(string) string{
		"another sum": func(s string) string {
			return strings.Replace(s, sums[linuxAmd64], sums[linuxArm64], 1)
		},
		"intel and arm swapped": func(s string) string {
			s = strings.Replace(s, linuxAmd64, "SWAP", 1)
			s = strings.Replace(s, linuxArm64, linuxAmd64, 1)
			return strings.Replace(s, "SWAP", linuxArm64, 1)
		},
		"another version": func(s string) string { return strings.ReplaceAll(s, "_v1.2.3_", "_v1.2.2_") },
		"another host":    func(s string) string { return strings.Replace(s, "example.com", "example.org", 1) },
		"no linux":        func(s string) string { return strings.Replace(s, "on_linux do", "on_other do", 1) },
		"a block left open": func(s string) string {
			return strings.Replace(s, "  end\n\n  def install", "\n  def install", 1)
		},
		"a second url": func(s string) string {
			return strings.Replace(s, "      sha256", "      url \""+testURL+"/"+linuxAmd64+"\"\n      sha256", 1)
		},
		"a url outside a platform": func(s string) string {
			return strings.Replace(s, "  def install", "  url \""+testURL+"\"\n\n  def install", 1)
		},
	}
	for name, edit := range formulaEdits {
		t.Run("formula/"+name, func(t *testing.T) {
			text := edit(string(formulaText))
			if text == string(formulaText) {
				t.Fatal("the edit changed nothing")
			}
			if err := checkFormula(text, sums, "v1.2.3", testURL); err == nil {
				t.Error("no error")
			}
		})
	}
	manifestEdits := map[string]func(string) string{
		"another sum":         func(s string) string { return strings.Replace(s, sums[windows], sums[linuxAmd64], 1) },
		"another archive":     func(s string) string { return strings.Replace(s, windows, linuxAmd64, 1) },
		"another extract_dir": func(s string) string { return strings.Replace(s, `_windows_amd64"`, `"`, 1) },
		"another binary":      func(s string) string { return strings.Replace(s, `.exe"`, `"`, 1) },
		"an unknown field":    func(s string) string { return strings.Replace(s, `"bin"`, `"binn"`, 1) },
		"32bit":               func(s string) string { return strings.Replace(s, `"64bit"`, `"32bit"`, 1) },
		"not JSON":            func(s string) string { return s[1:] },
	}
	for name, edit := range manifestEdits {
		t.Run("manifest/"+name, func(t *testing.T) {
			data := edit(string(manifestData))
			if data == string(manifestData) {
				t.Fatal("the edit changed nothing")
			}
			if err := checkManifest([]byte(data), sums, "v1.2.3", testURL); err == nil {
				t.Error("no error")
			}
		})
	}
}

// TestCheckOptions: a version or URL that could not land in a file name,
// package or Ruby string is refused before anything is built, and the URL
// defaults to the project's releases.
func TestCheckOptions(t *testing.T) {
	ok := options{version: "v1.2.3", epoch: 1, sbom: "x@v1"}
	tests := map[string]func(*options){
		"quote in version":   func(o *options) { o.version = `v1"` },
		"slash in version":   func(o *options) { o.version = "v1/2" },
		"no tag or commit":   func(o *options) { o.version = "dev" },
		"no epoch":           func(o *options) { o.epoch = 0 },
		"unpinned sbom":      func(o *options) { o.sbom = "x" },
		"http url":           func(o *options) { o.url = "http://example.com" },
		"interpolating url":  func(o *options) { o.url = "https://example.com/#{x}" },
		"quote in url":       func(o *options) { o.url = `https://example.com/"` },
		"blank in url":       func(o *options) { o.url = "https://example.com/a b" },
		"backslash in url":   func(o *options) { o.url = `https://example.com\` },
		"fragment in url":    func(o *options) { o.url = "https://example.com/#a" },
		"empty version":      func(o *options) { o.version = "" },
		"newline in version": func(o *options) { o.version = "v1\n" },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			o := ok
			edit(&o)
			if err := o.check(); err == nil {
				t.Error("no error")
			}
		})
	}
	o := ok
	if err := o.check(); err != nil || o.url != homepage+"/releases/download/v1.2.3" {
		t.Errorf("default url %q, %v", o.url, err)
	}
	o = ok
	o.url = "https://example.com/r/"
	if err := o.check(); err != nil || o.url != "https://example.com/r" {
		t.Errorf("url %q, %v; want the final slash cut", o.url, err)
	}
}
