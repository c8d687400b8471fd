// Command dist writes the release files of vault-credential-process into
// one folder (`make dist`): for each platform an archive (tar.gz, zip for
// Windows) holding the binary, README.md and LICENSE, a CycloneDX SBOM of
// the binary's modules, and SHA256SUMS over all of them.
//
// Every byte follows from the commit and the Go toolchain, so two runs from
// the same commit in different folders agree (`make dist-check` proves it):
// archive times are the commit's (-epoch), entries are sorted, owners and
// modes fixed; binaries are built with CGO_ENABLED=0, -trimpath, an empty
// build id and pinned GOAMD64/GOARM64 levels; the SBOM has no serial number
// and no timestamp. It runs from the module's root folder.
package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const program = "vault-credential-process"

// platforms are the release targets, as GOOS/GOARCH.
var platforms = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"}

// options are dist's command line.
type options struct {
	out     string // the folder to create
	version string // stamped into the binary and named in each file
	epoch   int64  // SOURCE_DATE_EPOCH: the commit's time
	sbom    string // the SBOM generator for `go run`, pinned to a version
	goCmd   string
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "dist", "folder to create for the release files; it must not exist")
	flag.StringVar(&o.version, "version", "", "version to stamp, such as the output of git describe")
	flag.Int64Var(&o.epoch, "epoch", 0, "time of every archive entry, in seconds since 1970 (SOURCE_DATE_EPOCH)")
	flag.StringVar(&o.sbom, "sbom", "", "the CycloneDX generator to go run, with its version (path@version)")
	flag.StringVar(&o.goCmd, "go", "go", "the go command")
	flag.Parse()
	if err := o.run(); err != nil {
		fmt.Fprintf(os.Stderr, "dist: error: %v\n", err)
		os.Exit(1)
	}
}

func (o *options) run() error {
	switch {
	case o.version == "" || strings.ContainsAny(o.version, `/\ `):
		return fmt.Errorf("-version %q: give one word, such as the output of git describe", o.version)
	case o.epoch <= 0:
		return errors.New("-epoch: give the commit's time (git log -1 --format=%ct)")
	case !strings.Contains(o.sbom, "@"):
		return fmt.Errorf("-sbom %q: give the generator pinned to a version (path@version)", o.sbom)
	}
	docs, err := readDocs("README.md", "LICENSE")
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
	for _, p := range platforms {
		if err := o.release(p, work, docs); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return writeSums(o.out)
}

// readDocs reads the files every archive carries beside the binary.
func readDocs(names ...string) ([]entry, error) {
	var docs []entry
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read %s (run dist from the module's root folder): %w", n, err)
		}
		docs = append(docs, entry{name: n, mode: 0o644, data: data})
	}
	return docs, nil
}

// release builds the binary for platform (GOOS/GOARCH), writes its archive
// and its SBOM into the output folder.
func (o *options) release(platform, work string, docs []entry) error {
	goos, goarch, _ := strings.Cut(platform, "/")
	base := fmt.Sprintf("%s_%s_%s_%s", program, o.version, goos, goarch)
	bin := program
	if goos == "windows" {
		bin += ".exe"
	}
	binPath := filepath.Join(work, base, bin)
	if err := o.build(goos, goarch, binPath); err != nil {
		return err
	}
	data, err := os.ReadFile(binPath)
	if err != nil {
		return err
	}
	entries := append(slices.Clone(docs), entry{name: bin, mode: 0o755, data: data})
	var buf bytes.Buffer
	mtime, archive := time.Unix(o.epoch, 0).UTC(), base+".tar.gz"
	if goos == "windows" {
		archive = base + ".zip"
		err = writeZip(&buf, base, entries, mtime)
	} else {
		err = writeTarGz(&buf, base, entries, mtime)
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, archive), buf.Bytes(), 0o644); err != nil {
		return err
	}
	return o.sbomFor(binPath, filepath.Join(o.out, base+".cdx.json"))
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
