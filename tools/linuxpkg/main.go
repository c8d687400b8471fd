// Command linuxpkg writes Debian and RPM packages with nfpm
// (github.com/goreleaser/nfpm/v2, pinned in go.mod), the library
// GoReleaser packages with, as a library: no nfpm binary, no YAML. It is
// only the hands: tools/dist decides what each package holds and where,
// and passes it here as JSON (-spec FILE; see spec). Every field that
// would carry the build machine or the moment is given: the time of every
// entry, the archive members and the RPM build time is the spec's epoch
// (SOURCE_DATE_EPOCH), owners are root:root, modes are the spec's (never
// the umask or the source file's), the RPM build host is fixed, and nfpm
// sorts the entries. So the same spec gives the same bytes.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the "deb" packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the "rpm" packager

	"github.com/vault-credential-process/vault-credential-process/tools/dist/reproducible"
)

// spec is the JSON tools/dist writes (its packageSpec): the metadata every
// package shares, then each package with its files.
type spec struct {
	Name        string `json:"name"`
	Version     string `json:"version"` // already in the form both dpkg and rpm order correctly
	Maintainer  string `json:"maintainer"`
	Description string `json:"description"` // first line: the summary
	Homepage    string `json:"homepage"`
	License     string `json:"license"`
	Epoch       int64  `json:"epoch"`
	Packages    []pkg  `json:"packages"`
}

type pkg struct {
	Format string `json:"format"` // deb or rpm
	Arch   string `json:"arch"`   // GOARCH; nfpm names it as each format does
	Out    string `json:"out"`
	Files  []file `json:"files"`
}

type file struct {
	Src  string      `json:"src,omitempty"` // empty for a directory
	Dst  string      `json:"dst"`
	Mode fs.FileMode `json:"mode"`
	Type string      `json:"type,omitempty"` // nfpm's content type: "", dir, doc, license
}

// buildHost is the RPM header's build host, which nfpm would otherwise
// take from os.Hostname.
const buildHost = "reproducible"

func main() {
	specPath := flag.String("spec", "", "the JSON file naming the packages to write")
	flag.Parse()
	if err := run(*specPath); err != nil {
		fmt.Fprintf(os.Stderr, "linuxpkg: error: %v\n", err)
		os.Exit(1)
	}
}

func run(specPath string) error {
	var s spec
	if err := reproducible.ReadSpec(specPath, &s); err != nil {
		return err
	}
	if s.Epoch <= 0 {
		return fmt.Errorf("%s: no epoch: the packages would carry the time of the build", specPath)
	}
	for _, p := range s.Packages {
		if err := write(&s, p); err != nil {
			return fmt.Errorf("%s: %w", p.Out, err)
		}
	}
	return nil
}

// write builds one package and writes it to p.Out.
func write(s *spec, p pkg) error {
	packager, err := nfpm.Get(p.Format)
	if err != nil {
		return err
	}
	mtime := time.Unix(s.Epoch, 0).UTC()
	info := &nfpm.Info{
		Name:            s.Name,
		Arch:            p.Arch,
		Platform:        "linux",
		Version:         s.Version,
		VersionSchema:   "none", // tools/dist has made it sort right already
		Section:         "utils",
		Priority:        "optional",
		Maintainer:      s.Maintainer,
		Description:     s.Description,
		Vendor:          s.Maintainer,
		Homepage:        s.Homepage,
		License:         s.License,
		DisableGlobbing: true, // sources are paths, never patterns
		MTime:           mtime,
	}
	info.RPM.BuildHost = buildHost
	if p.Format == "rpm" {
		// RPM keeps the summary line apart; the description is the rest.
		summary, rest, _ := strings.Cut(s.Description, "\n")
		info.RPM.Summary, info.Description = summary, strings.TrimLeft(rest, "\n")
	}
	for _, f := range p.Files {
		info.Contents = append(info.Contents, &files.Content{
			Source:      f.Src,
			Destination: f.Dst,
			Type:        f.Type,
			FileInfo:    &files.ContentFileInfo{Owner: "root", Group: "root", Mode: f.Mode, MTime: mtime},
		})
	}
	info = nfpm.WithDefaults(info)
	var buf bytes.Buffer
	if err := packager.Package(info, &buf); err != nil {
		return err
	}
	return os.WriteFile(p.Out, buf.Bytes(), 0o644)
}
