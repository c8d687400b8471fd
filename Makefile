# vault-credential-process: `make test` is what CI runs (.ci/run).
GO      ?= go
BIN     := vault-credential-process
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The SBOM generator of `make dist`, pinned; `go run` fetches it from the
# Go module proxy.
CYCLONEDX := github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v1.10.0
# Every time in the release archives: the commit's.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
# The commit, for the container image's labels (empty outside git).
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
# The integration tests may take a while on two cores: builds, Vault, moto, AWS clients.
TESTFLAGS ?= -race -count=1 -timeout 30m

.PHONY: build test unit lint vault cross dist dist-check bench fuzz demo clean soak

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/$(BIN) .

# Unit and integration tests against a real Vault dev server, moto and the
# real AWS clients. Builds Vault first when there is none (see `make vault`).
test:
	@vault_bin=$$(tools/vault/build.sh) && \
	  echo "using Vault $$vault_bin" && \
	  VAULT_BIN=$$vault_bin $(GO) test $(TESTFLAGS) ./...

# Unit tests only: no Vault, no moto.
unit:
	$(GO) test -short -race -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Prints the path of the test Vault, building v1.21.0 from the Go module
# proxy into $${XDG_CACHE_HOME:-~/.cache}/vault-credential-process when needed.
vault:
	@tools/vault/build.sh

cross:
	@for p in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64; do \
	  echo "build $$p"; \
	  CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o /dev/null . || exit 1; \
	done

# Release files in dist/ (tools/dist/main.go): per platform an archive
# with the binary, README.md, LICENSE, every page of docs/ and the man
# page once there are, and a CycloneDX SBOM of the binary's modules; per
# Linux platform a .deb and an .rpm (nfpm, pinned in tools/linuxpkg/go.mod);
# one container image for linux/amd64 and linux/arm64 as an OCI image
# layout in a tar (go-containerregistry, pinned in tools/ociimage/go.mod;
# the static binary and CA certificates on an empty base); a Homebrew
# formula and a Scoop manifest that download the archives from RELEASE_URL
# (default: the GitHub release of VERSION); SHA256SUMS over them. Built
# from the work tree as it is (a dirty tree says so in the version); the
# same commit gives the same bytes.
RELEASE_URL ?=
dist:
	rm -rf dist
	$(GO) run ./tools/dist -out dist -version $(VERSION) -revision '$(REVISION)' -epoch $(SOURCE_DATE_EPOCH) -sbom $(CYCLONEDX) -url '$(RELEASE_URL)'

# `make dist` twice from HEAD in fresh clones, the second with an empty
# build cache, must give byte-identical files, the container image (so its
# digest) among them. Takes a few minutes.
dist-check:
	@tools/dist/check.sh

# Each fuzz target for FUZZTIME; their seed corpora already run in `make test`.
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./config -run '^$$' -fuzz '^FuzzResolve$$' -fuzztime $(FUZZTIME)
	$(GO) test ./config -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./cache -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)

# The README's first command: the helper against a local Vault + moto,
# through the aws CLI, for each credential type. Builds Vault when needed.
demo: build
	@vault_bin=$$(tools/vault/build.sh) && VAULT_BIN=$$vault_bin $(GO) run ./internal/testbed/demo -bin bin/$(BIN)

clean:
	rm -rf bin dist

# Markdown tables of medians over interleaved runs (see internal/bench): a
# cache hit against a floor program (no Vault needed), then cold miss,
# stampede, parallel hits and the naive vault+jq pipeline against the test
# bed. Builds Vault first when there is none.
bench:
	@vault_bin=$$(tools/vault/build.sh) && VAULT_BIN=$$vault_bin $(GO) run ./internal/bench

# The soak test of the credentials server (internal/soak): `serve` with
# short-lived credentials of every type, aws-sdk-go-v2 and boto3 clients
# calling through it, while Vault restarts, is sealed, hangs, the minting
# token is revoked and unauthenticated connections flood it; a Markdown
# table of the targets, exit 1 when one is missed. Not part of `make test`.
# Builds Vault first when there is none.
DURATION ?= 4m
soak:
	@vault_bin=$$(tools/vault/build.sh) && VAULT_BIN=$$vault_bin $(GO) run ./internal/soak -duration $(DURATION)
