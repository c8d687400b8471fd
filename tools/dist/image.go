package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// ociimage is the module that writes the container image with
// go-containerregistry, relative to the module root; it has a go.mod of
// its own so that library stays out of the product's.
const ociimage = "tools/ociimage"

// What the container image holds and runs. It is the static binary on an
// empty base, plus Mozilla's CA certificates where Go looks for them on
// Linux: Vault is reached over https, and a scratch image has no other
// trust store (VAULT_CACERT replaces it for a private CA). The default
// command is the node agent as the Kubernetes DaemonSet runs it, with its
// configuration mounted at imageConfig; any other command replaces it.
// The user is an unprivileged one with no entry in /etc/passwd (there is
// none): nothing in the image needs a name or a home.
const (
	imageBinary = "/" + program
	imageRoots  = "/etc/ssl/certs/ca-certificates.crt"
	imageConfig = "/etc/vcp/agent.toml"
	imageUser   = "65532:65532"
)

// imageName is the file name of the image: an OCI image layout in a tar,
// one index over the linux platforms.
func imageName(version string) string {
	return fmt.Sprintf("%s_%s_oci.tar", program, version)
}

// imageSpec is the JSON tools/ociimage reads (its spec).
type imageSpec struct {
	Epoch       int64             `json:"epoch"`
	RefName     string            `json:"ref_name"`
	Annotations map[string]string `json:"annotations"`
	Config      imageRunConfig    `json:"config"`
	Roots       string            `json:"roots"`
	History     string            `json:"history"`
	Images      []platformImage   `json:"images"`
	Out         string            `json:"out"`
}

// imageRunConfig is the part of the OCI image configuration that says how
// the container runs, with its field names.
type imageRunConfig struct {
	Entrypoint []string          `json:"Entrypoint"`
	Cmd        []string          `json:"Cmd"`
	User       string            `json:"User"`
	Labels     map[string]string `json:"Labels"`
}

type platformImage struct {
	OS      string    `json:"os"`
	Arch    string    `json:"arch"`
	Variant string    `json:"variant,omitempty"`
	Files   []pkgFile `json:"files"`
}

// imageLabels are the OCI annotations of the image (org.opencontainers.image.*),
// carried as labels of its configuration, where `docker inspect` and
// registries show them, and as annotations of its index and manifests.
// The revision is left out when it is not known.
func (o *options) imageLabels() map[string]string {
	const oci = "org.opencontainers.image."
	labels := map[string]string{
		oci + "title":       program,
		oci + "description": summary,
		oci + "source":      homepage,
		oci + "url":         homepage,
		oci + "licenses":    license,
		oci + "version":     o.version,
		oci + "created":     time.Unix(o.epoch, 0).UTC().Format(time.RFC3339),
	}
	if o.revision != "" {
		labels[oci+"revision"] = o.revision
	}
	return labels
}

// writeImage writes the container image of the linux binaries of bins to
// out with tools/ociimage; the spec goes into work.
func (o *options) writeImage(work, out string, bins map[string]string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	spec := imageSpec{Epoch: o.epoch, RefName: o.version, Annotations: o.imageLabels(), Roots: imageRoots,
		History: "make dist (tools/dist, tools/ociimage)", Out: abs,
		Config: imageRunConfig{Entrypoint: []string{imageBinary}, Cmd: []string{"pod-agent", "--config", imageConfig},
			User: imageUser, Labels: o.imageLabels()}}
	for _, p := range platforms {
		goos, goarch, _ := strings.Cut(p, "/")
		if goos != "linux" {
			continue
		}
		img := platformImage{OS: goos, Arch: goarch,
			Files: []pkgFile{{Src: bins[p], Dst: imageBinary, Mode: 0o755}}}
		if goarch == "arm64" {
			img.Variant = "v8" // as registries and `docker buildx` name it
		}
		spec.Images = append(spec.Images, img)
	}
	return o.runTool(ociimage, "go-containerregistry", filepath.Join(work, "image.json"), spec)
}
