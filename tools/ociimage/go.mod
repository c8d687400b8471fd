// This module only writes the container image of `make dist` with
// go-containerregistry; it is separate so the product's go.mod stays
// small. See tools/dist, which decides what the image holds.
// It requires the main module, from this checkout (the replace below), for
// tools/dist/reproducible alone: the standard library only, so nothing is
// added to go.sum.
module github.com/vault-credential-process/vault-credential-process/tools/ociimage

go 1.26.4

require (
	github.com/google/go-containerregistry v0.22.1
	github.com/vault-credential-process/vault-credential-process v0.0.0
	golang.org/x/crypto/x509roots/fallback v0.0.0-20261030153154-30a33513ff6d
)

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
	golang.org/x/sync v0.22.0 // indirect
)

// The main module is this checkout's, never a published version.
replace github.com/vault-credential-process/vault-credential-process => ../..
