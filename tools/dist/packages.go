package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// What the Linux packages say of themselves; the Homebrew formula and the
// Scoop manifest say the same.
const (
	homepage    = "https://github.com/vault-credential-process/vault-credential-process"
	license     = "Apache-2.0"
	maintainer  = "The vault-credential-process authors" // as in LICENSE
	summary     = "AWS credentials from HashiCorp Vault for credential_process"
	description = summary + `
vault-credential-process asks Vault's AWS secrets engine for credentials
(iam_user, assumed_role, federation_token, session_token and static roles),
keeps them in a disk cache until shortly before they expire, and prints the
credential_process document the AWS CLI, the AWS SDKs and Terraform read.
It can also serve them to AWS clients as the container credentials
endpoint or IMDSv2.`
)

// linuxpkg is the module that writes the packages with nfpm, relative to
// the module root; it has a go.mod of its own so nfpm's dependencies stay
// out of the product's.
const linuxpkg = "tools/linuxpkg"

// manPages are where the man page may be, first found wins; the packages
// and archives carry it when there is one.
var manPages = []string{program + ".1", "docs/" + program + ".1", "man/" + program + ".1"}

// Names of the files in the shared folder every package takes its files
// from (besides the binary): see writeShared.
const (
	sharedBash = "completion.bash"
	sharedZsh  = "completion.zsh"
	sharedFish = "completion.fish"
	sharedMan  = program + ".1.gz"
)

// pkgFile is one entry of a package, as tools/linuxpkg reads it: where its
// content is on this machine (none for a folder), where it lands, its
// mode, and nfpm's content type ("dir", or RPM's "doc" and "license",
// which mark the files `rpm --excludedocs` leaves out).
type pkgFile struct {
	Src  string      `json:"src,omitempty"`
	Dst  string      `json:"dst"`
	Mode fs.FileMode `json:"mode"`
	Type string      `json:"type,omitempty"`
}

// docSet is the documentation a package carries besides the README and
// LICENSE: the man page when there is one, and the pages of the docs
// folder (their names in the archives: docs/..., slash-separated).
type docSet struct {
	man   bool
	pages []string
}

// packageFiles lists what the package of format (deb or rpm) holds: the
// binary at bin, and from the folder shared the completions, the man page
// and the pages of d, the README and LICENSE. The completions go where
// each shell's own package looks for a package's: zsh's folder is
// vendor-completions on Debian but site-functions on Fedora and RHEL, which
// do not read the Debian one. The package owns its documentation folder
// and the folders of the pages, so removing it removes them (RPM drops
// folders it does not own).
func packageFiles(format, bin, shared string, d docSet) []pkgFile {
	doc, docType, licenseType := "/usr/share/doc/"+program, "", ""
	zsh := "/usr/share/zsh/vendor-completions/_" + program
	if format == "rpm" {
		docType, licenseType = "doc", "license"
		zsh = "/usr/share/zsh/site-functions/_" + program
	}
	files := []pkgFile{
		{Src: bin, Dst: "/usr/bin/" + program, Mode: 0o755},
		{Src: filepath.Join(shared, sharedBash), Dst: "/usr/share/bash-completion/completions/" + program, Mode: 0o644},
		{Src: filepath.Join(shared, sharedZsh), Dst: zsh, Mode: 0o644},
		{Src: filepath.Join(shared, sharedFish), Dst: "/usr/share/fish/vendor_completions.d/" + program + ".fish", Mode: 0o644},
		{Dst: doc, Mode: 0o755, Type: "dir"},
		{Src: filepath.Join(shared, "README.md"), Dst: doc + "/README.md", Mode: 0o644, Type: docType},
		{Src: filepath.Join(shared, "LICENSE"), Dst: doc + "/LICENSE", Mode: 0o644, Type: licenseType},
	}
	if d.man {
		files = append(files, pkgFile{Src: filepath.Join(shared, sharedMan),
			Dst: "/usr/share/man/man1/" + sharedMan, Mode: 0o644, Type: docType})
	}
	folders := map[string]bool{}
	for _, p := range d.pages {
		for f := path.Dir(p); f != "." && !folders[f]; f = path.Dir(f) {
			folders[f] = true
			files = append(files, pkgFile{Dst: doc + "/" + f, Mode: 0o755, Type: "dir"})
		}
		files = append(files, pkgFile{Src: filepath.Join(shared, filepath.FromSlash(p)), Dst: doc + "/" + p,
			Mode: 0o644, Type: docType})
	}
	return files
}

// findManPage returns the first of manPages that exists, or "".
func findManPage() (string, error) {
	for _, p := range manPages {
		switch _, err := os.Stat(p); {
		case err == nil:
			return p, nil
		case !errors.Is(err, fs.ErrNotExist):
			return "", err
		}
	}
	return "", nil
}

// writeShared fills the folder dir with what every package holds besides
// the binary: the bash, zsh and fish completions, printed by host (a
// binary that runs on this machine; the scripts are the same for every
// platform), the docs (in the folders their names hold), and the man
// page gzip'd as Debian and RPM systems keep them, without a name or time
// in the gzip header.
func writeShared(dir, host string, docs []entry, man []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, shell := range map[string]string{sharedBash: "bash", sharedZsh: "zsh", sharedFish: "fish"} {
		cmd := exec.Command(host, "completion", shell)
		cmd.Stderr = os.Stderr
		script, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("%s completion %s: %w", filepath.Base(host), shell, err)
		}
		if len(script) == 0 {
			return fmt.Errorf("%s completion %s printed nothing", filepath.Base(host), shell)
		}
		if err := os.WriteFile(filepath.Join(dir, name), script, 0o644); err != nil {
			return err
		}
	}
	for _, d := range docs {
		p := filepath.Join(dir, filepath.FromSlash(d.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, d.Data, 0o644); err != nil {
			return err
		}
	}
	if man == nil {
		return nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level: no error
	if _, err := zw.Write(man); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, sharedMan), buf.Bytes(), 0o644)
}

// packageSpec is the JSON tools/linuxpkg reads (its spec).
type packageSpec struct {
	Name        string        `json:"name"`
	Version     string        `json:"version"`
	Maintainer  string        `json:"maintainer"`
	Description string        `json:"description"`
	Homepage    string        `json:"homepage"`
	License     string        `json:"license"`
	Epoch       int64         `json:"epoch"`
	Packages    []packageJSON `json:"packages"`
}

type packageJSON struct {
	Format string    `json:"format"`
	Arch   string    `json:"arch"`
	Out    string    `json:"out"`
	Files  []pkgFile `json:"files"`
}

// linuxPackage names one package to write: its format, GOARCH, the
// binary it carries and the file to write.
type linuxPackage struct {
	format, arch, bin, out string
}

// writePackages writes pkgs with tools/linuxpkg, their other files taken
// from the folder shared (writeShared) as d says. The spec goes into work.
func (o *options) writePackages(work, shared string, d docSet, pkgs []linuxPackage) error {
	version, err := packageVersion(o.version)
	if err != nil {
		return err
	}
	spec := packageSpec{Name: program, Version: version, Maintainer: maintainer, Description: description,
		Homepage: homepage, License: license, Epoch: o.epoch}
	for _, p := range pkgs {
		out, err := filepath.Abs(p.out)
		if err != nil {
			return err
		}
		spec.Packages = append(spec.Packages, packageJSON{Format: p.format, Arch: p.arch, Out: out,
			Files: packageFiles(p.format, p.bin, shared, d)})
	}
	return o.runTool(linuxpkg, "nfpm", filepath.Join(work, "packages.json"), spec)
}

// runTool writes spec as JSON to specPath and runs the module tool
// (tools/linuxpkg, tools/ociimage), which writes with lib, on it with go
// run. -mod=readonly: lib at exactly the version and sums in the tool's
// go.sum.
func (o *options) runTool(tool, lib, specPath string, spec any) error {
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(specPath, data, 0o644); err != nil {
		return err
	}
	cmd := exec.Command(o.goCmd, "run", "-C", tool, ".", "-spec", specPath)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOWORK=off")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s (%s): %w", tool, lib, err)
	}
	return nil
}

// The shapes of `git describe --tags --always --dirty` (after -dirty, for
// uncommitted changes, is cut off): a commit hash when no tag is
// reachable, else a tag (v1.2.3 or v1.2.3-rc.1), then -N-gHASH past it.
// The hash is tried first: an all-digit hash would read as a tag. The
// pre-release part is lazy, so -4-gabc1234 is never taken for one.
var (
	describeCommit = regexp.MustCompile(`^[0-9a-f]{7,40}$`)
	describeTag    = regexp.MustCompile(`^v?([0-9]+(?:\.[0-9]+)*)(?:-([0-9A-Za-z.-]+?))??(?:-([0-9]+)-g([0-9a-f]+))?$`)
)

// packageVersion turns the version of the archives (git describe) into
// one that dpkg and rpm both order as the commits are ordered: v1.2.3 is
// 1.2.3; a pre-release tag sorts before its release (v1.2.3-rc.1 is
// 1.2.3~rc.1); a commit past a tag sorts after it (v1.2.3-4-gabc1234 is
// 1.2.3+4.gabc1234), a commit with no tag at all before every release
// (0.0.0+gabc1234), and a dirty tree says so (+dirty). Debian versions
// must start with a digit and RPM versions may not hold a hyphen.
func packageVersion(v string) (string, error) {
	clean, isDirty := strings.CutSuffix(v, "-dirty")
	dirty := ""
	if isDirty {
		dirty = "dirty"
	}
	if describeCommit.MatchString(clean) {
		return "0.0.0+" + strings.Join(nonEmpty("g"+clean, dirty), "."), nil
	}
	m := describeTag.FindStringSubmatch(clean)
	if m == nil {
		return "", fmt.Errorf("version %q: the packages need a tag such as v1.2.3, or a commit hash (git describe --tags --always --dirty)", v)
	}
	release, pre, past, hash := m[1], m[2], m[3], m[4]
	out := release
	if pre != "" {
		out += "~" + strings.ReplaceAll(pre, "-", ".")
	}
	if past != "" {
		past += ".g" + hash
	}
	if build := nonEmpty(past, dirty); len(build) > 0 {
		out += "+" + strings.Join(build, ".")
	}
	return out, nil
}

// nonEmpty returns the strings of s that are not empty.
func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}
