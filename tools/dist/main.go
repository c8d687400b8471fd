// Command dist writes the release files of vault-credential-process into
// one folder (`make dist`): for each platform an archive (tar.gz, zip for
// Windows) holding the binary, README.md, LICENSE, the pages of docs/
// and the man page when there are, and a CycloneDX SBOM of the binary's
// modules; for each Linux platform a .deb and an .rpm (packages.go,
// written by nfpm in tools/linuxpkg); one container image of the Linux
// binaries, an OCI image layout in a tar (image.go, written by
// go-containerregistry in tools/ociimage); a Homebrew formula and a Scoop
// manifest pointing at the archives (taps.go); and SHA256SUMS over all of
// them.
//
// Every byte follows from the commit and the Go toolchain, so two runs from
// the same commit in different folders agree (`make dist-check` proves it):
// archive, package and image times are the commit's (-epoch), entries are
// sorted, owners and modes fixed; binaries are built with CGO_ENABLED=0,
// -trimpath, an empty build id and pinned GOAMD64/GOARM64 levels; the SBOM
// has no serial number and no timestamp. It runs from the module's root
// folder.
package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"
)

const program = "vault-credential-process"

// platforms are the release targets, as GOOS/GOARCH.
var platforms = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"}

// packageFormats are the Linux packages of each linux platform.
var packageFormats = []string{"deb", "rpm"}

// options are dist's command line.
type options struct {
	out      string // the folder to create
	version  string // stamped into the binary and named in each file
	revision string // the commit, for the image's labels; "" when not known
	epoch    int64  // SOURCE_DATE_EPOCH: the commit's time
	sbom     string // the SBOM generator for `go run`, pinned to a version
	url      string // the folder the formula and manifest download the archives from
	goCmd    string
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "dist", "folder to create for the release files; it must not exist")
	flag.StringVar(&o.version, "version", "", "version to stamp, such as the output of git describe")
	flag.StringVar(&o.revision, "revision", "", "the commit's full hash (git rev-parse HEAD), for the container image's labels")
	flag.Int64Var(&o.epoch, "epoch", 0, "time of every archive entry, in seconds since 1970 (SOURCE_DATE_EPOCH)")
	flag.StringVar(&o.sbom, "sbom", "", "the CycloneDX generator to go run, with its version (path@version)")
	flag.StringVar(&o.url, "url", "", "where the release files will be downloaded from, for the Homebrew formula and Scoop manifest (default "+homepage+"/releases/download/VERSION)")
	flag.StringVar(&o.goCmd, "go", "go", "the go command")
	flag.Parse()
	if err := o.run(); err != nil {
		fmt.Fprintf(os.Stderr, "dist: error: %v\n", err)
		os.Exit(1)
	}
}

// word is what a version may hold: it lands in file names, package
// metadata and Ruby strings.
var word = regexp.MustCompile(`^[0-9A-Za-z._+~-]+$`)

// commitHash is a full commit hash, SHA-1 or SHA-256.
var commitHash = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// check checks the command line and fills in the default URL.
func (o *options) check() error {
	switch {
	case !word.MatchString(o.version):
		return fmt.Errorf("-version %q: give one word, such as the output of git describe", o.version)
	case o.epoch <= 0:
		return errors.New("-epoch: give the commit's time (git log -1 --format=%ct)")
	case !strings.Contains(o.sbom, "@"):
		return fmt.Errorf("-sbom %q: give the generator pinned to a version (path@version)", o.sbom)
	case o.revision != "" && !commitHash.MatchString(o.revision):
		return fmt.Errorf("-revision %q: give the commit's full hash (git rev-parse HEAD), or nothing", o.revision)
	}
	if _, err := packageVersion(o.version); err != nil {
		return fmt.Errorf("-version: %w", err)
	}
	if o.url == "" {
		o.url = homepage + "/releases/download/" + o.version
	}
	o.url = strings.TrimSuffix(o.url, "/")
	if !strings.HasPrefix(o.url, "https://") || strings.ContainsAny(o.url, "\"\\#{} \t\n") {
		return fmt.Errorf("-url %q: give an https URL without quotes, backslashes, #, braces or blanks", o.url)
	}
	return nil
}

func (o *options) run() error {
	if err := o.check(); err != nil {
		return err
	}
	docs, err := readDocs("README.md", "LICENSE")
	if err != nil {
		return err
	}
	man, err := readMan()
	if err != nil {
		return err
	}
	pages, err := readPages(docsFolder)
	if err != nil {
		return err
	}
	// The folder must be new: a file left from another version would land
	// in SHA256SUMS.
	if err := os.Mkdir(o.out, 0o755); err != nil {
		return fmt.Errorf("create the output folder: %w (remove it first)", err)
	}
	work, err := os.MkdirTemp("", "dist-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bins, err := o.buildAll(work)
	if err != nil {
		return err
	}
	archived := slices.Concat(docs, pages)
	if man != nil {
		archived = append(archived, entry{Name: program + ".1", Mode: 0o644, Data: man})
	}
	for _, p := range platforms {
		if err := o.release(p, bins[p], archived); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	if err := o.linuxPackages(work, bins, slices.Concat(docs, pages), man); err != nil {
		return err
	}
	if err := o.writeImage(work, filepath.Join(o.out, imageName(o.version)), bins); err != nil {
		return err
	}
	pkgVersion, _ := packageVersion(o.version) // checked in check
	if err := writeTaps(o.out, release{version: o.version, pkgVersion: pkgVersion, url: o.url, hasMan: man != nil}); err != nil {
		return err
	}
	if err := writeSums(o.out); err != nil {
		return err
	}
	return checkTaps(o.out, o.version, o.url)
}

// readDocs reads the files every archive carries beside the binary.
func readDocs(names ...string) ([]entry, error) {
	var docs []entry
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read %s (run dist from the module's root folder): %w", n, err)
		}
		docs = append(docs, entry{Name: n, Mode: 0o644, Data: data})
	}
	return docs, nil
}

// docsFolder is the folder of documentation pages (Markdown) that the
// archives and packages carry, when it exists.
const docsFolder = "docs"

// readPages reads every file under the folder root, or nothing when there
// is no such folder, named by their paths from the module root. Hidden
// files and folders (a dot first) stay out; a symbolic link is refused:
// it would ship whatever it points to on the machine that builds.
func readPages(root string) ([]entry, error) {
	var pages []entry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist) && p == root:
			return fs.SkipAll
		case err != nil:
			return err
		case p != root && strings.HasPrefix(d.Name(), "."):
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s: not a regular file; the archives take only files", p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		pages = append(pages, entry{Name: filepath.ToSlash(p), Mode: 0o644, Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the pages of %s: %w", root, err)
	}
	return pages, nil
}

// readMan reads the man page, or returns nil when there is none yet.
func readMan() ([]byte, error) {
	p, err := findManPage()
	if p == "" || err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// buildAll builds the binary of every platform into work, by platform.
func (o *options) buildAll(work string) (map[string]string, error) {
	bins := map[string]string{}
	for _, p := range platforms {
		goos, goarch, _ := strings.Cut(p, "/")
		bin := program
		if goos == "windows" {
			bin += ".exe"
		}
		bins[p] = filepath.Join(work, archiveBase(o.version, p), bin)
		if err := o.build(goos, goarch, bins[p]); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return bins, nil
}

// linuxPackages writes a package of each format for each linux platform,
// with docs (the README, LICENSE and the pages) and the man page when
// there is one. The completions come from running a binary of this
// machine's platform: one of bins, or one built for the purpose.
func (o *options) linuxPackages(work string, bins map[string]string, docs []entry, man []byte) error {
	host, ok := bins[runtime.GOOS+"/"+runtime.GOARCH]
	if !ok {
		host = filepath.Join(work, "host", program)
		if err := o.build(runtime.GOOS, runtime.GOARCH, host); err != nil {
			return fmt.Errorf("a binary for this machine, to print the completions: %w", err)
		}
	}
	shared := filepath.Join(work, "shared")
	if err := writeShared(shared, host, docs, man); err != nil {
		return err
	}
	var pkgs []linuxPackage
	for _, p := range platforms {
		goos, goarch, _ := strings.Cut(p, "/")
		if goos != "linux" {
			continue
		}
		for _, f := range packageFormats {
			pkgs = append(pkgs, linuxPackage{format: f, arch: goarch, bin: bins[p],
				out: filepath.Join(o.out, packageName(o.version, goarch, f))})
		}
	}
	d := docSet{man: man != nil}
	for _, e := range docs {
		if strings.HasPrefix(e.Name, docsFolder+"/") {
			d.pages = append(d.pages, e.Name)
		}
	}
	return o.writePackages(work, shared, d, pkgs)
}

// packageName is the file name of a Linux package, named as the archives.
func packageName(version, goarch, format string) string {
	return fmt.Sprintf("%s_%s_linux_%s.%s", program, version, goarch, format)
}

// release writes the archive of platform (GOOS/GOARCH), holding its
// binary at bin and the docs, and the binary's SBOM into the output
// folder.
func (o *options) release(platform, bin string, docs []entry) error {
	if err := o.writeArchive(o.out, platform, bin, docs); err != nil {
		return err
	}
	return o.sbomFor(bin, filepath.Join(o.out, archiveBase(o.version, platform)+".cdx.json"))
}

// writeArchive writes the archive of platform into the folder out.
func (o *options) writeArchive(out, platform, bin string, docs []entry) error {
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	entries := append(slices.Clone(docs), entry{Name: filepath.Base(bin), Mode: 0o755, Data: data})
	archive, base := archiveName(o.version, platform), archiveBase(o.version, platform)
	var buf bytes.Buffer
	mtime := time.Unix(o.epoch, 0).UTC()
	if strings.HasSuffix(archive, ".zip") {
		err = writeZip(&buf, base, entries, mtime)
	} else {
		err = writeTarGz(&buf, base, entries, mtime)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, archive), buf.Bytes(), 0o644)
}

// build compiles the module's main package for goos/goarch. The
// environment pins what would otherwise come from the builder's: cgo off,
// the baseline instruction sets, the module graph read-only.
func (o *options) build(goos, goarch, out string) error {
	cmd := exec.Command(o.goCmd, "build", "-trimpath", "-buildvcs=auto",
		"-ldflags", "-s -w -buildid= -X main.version="+o.version, "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch,
		"GOAMD64=v1", "GOARM64=v8.0", "GOFLAGS=-mod=readonly", "GOEXPERIMENT=",
		// The builder's go env file and FIPS setting would change the bytes.
		"GOENV=off", "GOFIPS140=off")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	return nil
}

// sbomFor writes the CycloneDX SBOM (JSON) of the modules that the build
// info of the binary at bin lists, the standard library included. Without
// a serial number and a timestamp it is the same for the same binary.
func (o *options) sbomFor(bin, out string) error {
	cmd := exec.Command(o.goCmd, "run", o.sbom, "bin", "-json", "-std", "-noserial", "-notimestamp",
		"-version", o.version, "-output", out, bin)
	// The SBOM names the generator by the hashes of its own executable:
	// -trimpath keeps the builder's module cache path out of them.
	// The SBOM records the generator's own hashes: build it the same way
	// on every machine too.
	cmd.Env = append(os.Environ(), "GOFLAGS=-trimpath", "CGO_ENABLED=0", "GOAMD64=v1", "GOARM64=v8.0",
		"GOEXPERIMENT=", "GOENV=off", "GOFIPS140=off")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("SBOM of %s: %w", filepath.Base(bin), err)
	}
	return nil
}

// writeSums writes SHA256SUMS over every file in dir, sorted by name, in
// the format `sha256sum -c` reads.
func writeSums(dir string) error {
	files, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var sums strings.Builder
	for _, f := range files { // ReadDir sorts by name
		data, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			return err
		}
		fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256(data), f.Name())
	}
	return os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums.String()), 0o644)
}
