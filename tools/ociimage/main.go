// Command ociimage writes the container image of `make dist` as an OCI
// image layout in one tar file, with go-containerregistry (pinned in
// go.mod), the library ko and crane build images with: no Docker daemon,
// no base image, no registry. It is only the hands: tools/dist decides
// what the image holds, its command and its labels, and passes them here
// as JSON (-spec FILE; see spec). Each platform's image has one layer,
// built here from the spec's files, and the images go into one index for
// all platforms.
//
// Every field that would carry the build machine or the moment is given:
// the times of the layer's entries, of the image configuration, its
// history and of the layout tar's entries are the spec's epoch
// (SOURCE_DATE_EPOCH); owners are 0:0 without names; modes are the spec's
// (never the umask's or the source file's); entries are sorted; gzip
// headers carry no name or time. So the same spec gives the same bytes,
// and the same digest.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/vault-credential-process/vault-credential-process/tools/dist/reproducible"
)

// spec is the JSON tools/dist writes (its imageSpec).
type spec struct {
	Epoch       int64             `json:"epoch"`
	RefName     string            `json:"ref_name"`    // index.json's org.opencontainers.image.ref.name
	Annotations map[string]string `json:"annotations"` // of the index and of each image's manifest
	Config      v1.Config         `json:"config"`      // entrypoint, cmd, user, labels, ...
	Roots       string            `json:"roots"`       // where the CA certificates go in each image; "" for none
	History     string            `json:"history"`     // created_by of the layer
	Images      []platformImage   `json:"images"`
	Out         string            `json:"out"`
}

// platformImage is the image of one platform: its files besides the CA
// certificates.
type platformImage struct {
	OS      string `json:"os"`
	Arch    string `json:"arch"`    // GOARCH
	Variant string `json:"variant"` // "v8" for arm64, as registries show it
	Files   []file `json:"files"`
}

type file struct {
	Src  string      `json:"src"`
	Dst  string      `json:"dst"` // an absolute path in the image
	Mode fs.FileMode `json:"mode"`
}

func main() {
	specPath := flag.String("spec", "", "the JSON file naming the image to write")
	flag.Parse()
	if err := run(*specPath); err != nil {
		fmt.Fprintf(os.Stderr, "ociimage: error: %v\n", err)
		os.Exit(1)
	}
}

func run(specPath string) error {
	var s spec
	if err := reproducible.ReadSpec(specPath, &s); err != nil {
		return err
	}
	switch {
	case s.Epoch <= 0:
		return fmt.Errorf("%s: no epoch: the image would carry the time of the build", specPath)
	case len(s.Images) == 0:
		return fmt.Errorf("%s: no images", specPath)
	}
	idx, err := buildIndex(&s)
	if err != nil {
		return err
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	if err := writeLayoutTar(idx, &s); err != nil {
		return fmt.Errorf("%s: %w", s.Out, err)
	}
	fmt.Fprintf(os.Stderr, "ociimage: %s: %s %s\n", s.Out, s.RefName, digest)
	return nil
}

// buildIndex builds each platform's image and the index of them all.
func buildIndex(s *spec) (v1.ImageIndex, error) {
	var roots []byte
	if s.Roots != "" {
		roots = rootsPEM()
	}
	var adds []mutate.IndexAddendum
	for _, p := range s.Images {
		img, err := buildImage(s, p, roots)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", p.OS, p.Arch, err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: plainImage{img}, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: p.OS, Architecture: p.Arch, Variant: p.Variant}}})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	return mutate.Annotations(idx, s.Annotations).(v1.ImageIndex), nil
}

// plainImage is an image whose entry in an index is a plain descriptor:
// media type, size and digest, with no artifactType, as `docker buildx`
// writes it. (go-containerregistry would add the configuration's media
// type as artifactType, which OCI 1.1 allows; but containers/image before
// OCI 1.1, as in Debian 12's skopeo 1.9, drops the field when it copies
// the index, changing the index's digest, and `--preserve-digests`
// refuses the copy.)
type plainImage struct{ v1.Image }

func (p plainImage) Descriptor() (*v1.Descriptor, error) {
	mt, err := p.MediaType()
	if err != nil {
		return nil, err
	}
	size, err := p.Size()
	if err != nil {
		return nil, err
	}
	digest, err := p.Digest()
	if err != nil {
		return nil, err
	}
	return &v1.Descriptor{MediaType: mt, Size: size, Digest: digest}, nil
}

// buildImage builds the image of one platform: an OCI manifest and
// configuration, one layer holding p's files and, where s says, the CA
// certificates.
func buildImage(s *spec, p platformImage, roots []byte) (v1.Image, error) {
	mtime := time.Unix(s.Epoch, 0).UTC()
	entries, err := layerEntries(s, p, roots)
	if err != nil {
		return nil, err
	}
	gz, err := layerTarGz(entries, mtime)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gz)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, MediaType: types.OCILayer,
		History: v1.History{Created: v1.Time{Time: mtime}, CreatedBy: s.History}})
	if err != nil {
		return nil, err
	}
	// The configuration with the layer's diff id and history, then the
	// platform, the command and the time on top.
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Arch, p.Variant
	cf.Created = v1.Time{Time: mtime}
	cf.Config = *s.Config.DeepCopy()
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, s.Annotations).(v1.Image), nil
}

// layerEntries reads p's files and adds the CA certificates.
func layerEntries(s *spec, p platformImage, roots []byte) ([]entry, error) {
	var entries []entry
	for _, f := range p.Files {
		data, err := os.ReadFile(f.Src)
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry{Name: f.Dst, Mode: f.Mode, Data: data})
	}
	if roots != nil {
		entries = append(entries, entry{Name: s.Roots, Mode: 0o644, Data: roots})
	}
	return entries, nil
}

// writeLayoutTar writes idx as an OCI image layout (index.json naming it
// by s.RefName, oci-layout, blobs/) and packs the layout into one tar at
// s.Out: the form `skopeo copy oci-archive:` and `podman load` read.
func writeLayoutTar(idx v1.ImageIndex, s *spec) error {
	dir, err := os.MkdirTemp("", "ociimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	top := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: idx, Descriptor: v1.Descriptor{
		Annotations: map[string]string{"org.opencontainers.image.ref.name": s.RefName}}})
	if _, err := layout.Write(dir, top); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := tarFolder(&buf, dir, time.Unix(s.Epoch, 0).UTC()); err != nil {
		return err
	}
	return os.WriteFile(s.Out, buf.Bytes(), 0o644)
}
