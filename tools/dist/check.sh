#!/usr/bin/env bash
# make dist-check: `make dist` twice from the HEAD commit, in two fresh
# clones at different paths, and the release files must be byte-identical.
# The second run has an empty Go build cache (so nothing is reused from the
# first), another umask and another time zone. Exits 1 naming the files
# that differ. Uncommitted changes are not part of the check.
set -euo pipefail

repo=$(git rev-parse --show-toplevel)
rev=$(git -C "$repo" rev-parse HEAD)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dist-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)

# clone DIR: a clone of the commit under test, detached at it.
clone() {
  git clone --quiet --shared --no-checkout "$repo" "$1"
  git -C "$1" switch --quiet --detach "$rev"
}

clone "$tmp/one/vault-credential-process"
clone "$tmp/two/elsewhere"
# VERSION, REVISION and SOURCE_DATE_EPOCH come from each clone, not from here.
unset VERSION REVISION SOURCE_DATE_EPOCH
echo "dist-check: first build of $rev" >&2
make -s -C "$tmp/one/vault-credential-process" dist >&2
echo "dist-check: second build, empty build cache" >&2
(umask 0077 && GOCACHE="$tmp/gocache" TZ=Pacific/Chatham make -s -C "$tmp/two/elsewhere" dist >&2)

a=$tmp/one/vault-credential-process/dist b=$tmp/two/elsewhere/dist
if ! diff <(cd "$a" && ls) <(cd "$b" && ls) >&2; then
  echo "dist-check: the two runs wrote different files" >&2
  exit 1
fi
differ=0
for f in "$a"/*; do
  if ! cmp -s "$f" "$b/${f##*/}"; then
    echo "dist-check: ${f##*/} differs" >&2
    differ=1
  fi
done
if [ "$differ" = 1 ]; then
  exit 1
fi
# The container image is one of the files compared; a run that wrote none
# would prove nothing of it.
image=$(cd "$a" && ls -- *_oci.tar 2>/dev/null) || { echo "dist-check: make dist wrote no container image" >&2; exit 1; }
digest=$(tar -xOf "$a/$image" index.json | grep -o 'sha256:[0-9a-f]*' | head -n 1)
echo "dist-check: $image: image digest $digest, the same in both builds"
echo "dist-check: $(ls "$a" | wc -l) files byte-identical in two builds of $rev ($(($(date +%s) - start))s)"
