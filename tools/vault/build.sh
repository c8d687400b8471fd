#!/usr/bin/env bash
# Prints the path of a Vault binary for the integration tests, building it
# when there is none. Order: $VAULT_BIN; a `vault` on PATH at version 1.16 or
# newer; the cached build; a new build of the pinned version from the Go
# module proxy (about ten minutes the first time, a minute from the Go build
# cache later). Progress goes to stderr, the path alone to stdout.
set -euo pipefail

version=v1.21.0
here=$(cd "$(dirname "$0")" && pwd)
cache_home=${XDG_CACHE_HOME:-$HOME/.cache}
dir=$cache_home/vault-credential-process/vault-$version
bin=$dir/vault

if [ -n "${VAULT_BIN:-}" ]; then
  if [ ! -x "$VAULT_BIN" ] || [ -d "$VAULT_BIN" ]; then
    echo "vault: VAULT_BIN=$VAULT_BIN is not an executable file; unset it to build Vault $version, or point it at a vault binary (1.16 or newer)" >&2
    exit 1
  fi
  echo "$VAULT_BIN"
  exit 0
fi

if onpath=$(command -v vault 2>/dev/null); then
  v=$("$onpath" version 2>/dev/null | sed -n 's/^Vault v\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  if [ -n "$v" ] && [ "${v% *}" -ge 1 ] && { [ "${v% *}" -gt 1 ] || [ "${v#* }" -ge 16 ]; }; then
    echo "$onpath"
    exit 0
  fi
fi

if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

echo "vault: building Vault $version into $dir (about ten minutes the first time) ..." >&2
mkdir -p "$dir"
tmp=$(mktemp "$dir/vault.XXXXXX")
trap 'rm -f "$tmp"' EXIT
start=$SECONDS
(cd "$here" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp" github.com/hashicorp/vault) >&2
chmod 0755 "$tmp"
mv "$tmp" "$bin"
trap - EXIT
echo "vault: built $bin in $((SECONDS - start))s" >&2
echo "$bin"
