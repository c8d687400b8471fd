package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The parts of the OCI image format the tests read, with the standard
// library only: the image is read as any runtime would, not through the
// library that wrote it.
type (
	ociDescriptor struct {
		MediaType    string            `json:"mediaType"`
		Digest       string            `json:"digest"`
		Size         int64             `json:"size"`
		ArtifactType string            `json:"artifactType"`
		Annotations  map[string]string `json:"annotations"`
		Platform     *struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
			Variant      string `json:"variant"`
		} `json:"platform"`
	}
	ociIndex struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     string            `json:"mediaType"`
		Manifests     []ociDescriptor   `json:"manifests"`
		Annotations   map[string]string `json:"annotations"`
	}
	ociManifest struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     string            `json:"mediaType"`
		Config        ociDescriptor     `json:"config"`
		Layers        []ociDescriptor   `json:"layers"`
		Annotations   map[string]string `json:"annotations"`
	}
	ociRunConfig struct {
		Entrypoint []string          `json:"Entrypoint"`
		Cmd        []string          `json:"Cmd"`
		User       string            `json:"User"`
		Labels     map[string]string `json:"Labels"`
		Env        []string          `json:"Env,omitempty"`
	}
	ociConfig struct {
		Architecture string       `json:"architecture"`
		OS           string       `json:"os"`
		Variant      string       `json:"variant"`
		Created      string       `json:"created"`
		Config       ociRunConfig `json:"config"`
		RootFS       struct {
			Type    string   `json:"type"`
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
		History []struct {
			Created string `json:"created"`
		} `json:"history"`
	}
)

// ociImage is an image file read back: the index's digest and
// annotations, and each platform's image.
type ociImage struct {
	digest      string
	annotations map[string]string
	platforms   map[string]ociPlatform // by os/arch
}

type ociPlatform struct {
	config      ociConfig
	annotations map[string]string
	files       map[string]tarEntry // the layer's, by name
}

const (
	ociIndexType    = "application/vnd.oci.image.index.v1+json"
	ociManifestType = "application/vnd.oci.image.manifest.v1+json"
	ociConfigType   = "application/vnd.oci.image.config.v1+json"
	ociLayerType    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// readImage reads an image layout tar: index.json naming one index by
// refName, that index's images, each with one layer; every blob checked
// against its digest and size.
func readImage(t *testing.T, data []byte, refName string) *ociImage {
	t.Helper()
	files := tarByName(t, data)
	var layout struct {
		Version string `json:"imageLayoutVersion"`
	}
	if decode(t, "oci-layout", files["oci-layout"].data, &layout); layout.Version != "1.0.0" {
		t.Fatalf("oci-layout: %q", files["oci-layout"].data)
	}
	var top ociIndex
	decode(t, "index.json", files["index.json"].data, &top)
	if len(top.Manifests) != 1 || top.Manifests[0].MediaType != ociIndexType ||
		top.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != refName {
		t.Fatalf("index.json: %s", files["index.json"].data)
	}
	img := &ociImage{digest: top.Manifests[0].Digest, platforms: map[string]ociPlatform{}}
	var index ociIndex
	decode(t, "the index", blob(t, files, top.Manifests[0]), &index)
	if index.SchemaVersion != 2 || index.MediaType != ociIndexType {
		t.Errorf("the index: schema %d, media type %q", index.SchemaVersion, index.MediaType)
	}
	img.annotations = index.Annotations
	for _, d := range index.Manifests {
		if d.Platform == nil || d.MediaType != ociManifestType || d.ArtifactType != "" {
			t.Fatalf("the index names %+v", d)
		}
		p := d.Platform.OS + "/" + d.Platform.Architecture
		if want := map[string]string{"arm64": "v8"}[d.Platform.Architecture]; d.Platform.Variant != want {
			t.Errorf("%s: variant %q, want %q", p, d.Platform.Variant, want)
		}
		img.platforms[p] = readPlatform(t, files, d)
	}
	return img
}

// readPlatform reads one platform's manifest, configuration and layer.
func readPlatform(t *testing.T, files map[string]tarEntry, d ociDescriptor) ociPlatform {
	t.Helper()
	var m ociManifest
	decode(t, "a manifest", blob(t, files, d), &m)
	if m.SchemaVersion != 2 || m.MediaType != ociManifestType || m.Config.MediaType != ociConfigType ||
		len(m.Layers) != 1 || m.Layers[0].MediaType != ociLayerType {
		t.Fatalf("manifest %+v", m)
	}
	var pi ociPlatform
	pi.annotations = m.Annotations
	decode(t, "a configuration", blob(t, files, m.Config), &pi.config)
	layer, _ := gunzip(t, blob(t, files, m.Layers[0]))
	diffID := fmt.Sprintf("sha256:%x", sha256.Sum256(layer))
	if rf := pi.config.RootFS; rf.Type != "layers" || !slices.Equal(rf.DiffIDs, []string{diffID}) {
		t.Errorf("rootfs %+v, want the layer's diff id %s", rf, diffID)
	}
	pi.files = tarByName(t, layer)
	return pi
}

// blob returns the blob d names, after checking its digest and size.
func blob(t *testing.T, files map[string]tarEntry, d ociDescriptor) []byte {
	t.Helper()
	hex, ok := strings.CutPrefix(d.Digest, "sha256:")
	f, found := files["blobs/sha256/"+hex]
	if !ok || !found {
		t.Fatalf("no blob %s", d.Digest)
	}
	if got := fmt.Sprintf("%x", sha256.Sum256(f.data)); got != hex || int64(len(f.data)) != d.Size {
		t.Fatalf("blob %s: sha256 %s, %d bytes (want %d)", d.Digest, got, len(f.data), d.Size)
	}
	return f.data
}

func decode(t *testing.T, what string, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, data)
	}
}
