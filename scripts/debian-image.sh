#!/usr/bin/env bash
# A Debian bookworm minbase image made locally (no Docker Hub here): debootstrap once (cached in
# .cache/debian/rootfs), then `FROM scratch` + `ADD rootfs.tar /` (ADD keeps owners) through the standalone
# buildkitd, pushed to the local registry. Used as a base by Containerfile tests and by the demo.
# Usage: scripts/debian-image.sh [REF]   (default 127.0.0.1:5000/compose-frontend/debian:bookworm)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REF="${1:-${CF_DEBIAN_IMAGE:-127.0.0.1:5000/compose-frontend/debian:bookworm}}"
WORK="$ROOT/.cache/debian"
BUILDCTL="$ROOT/.cache/go/bin/buildctl"
BUILDKIT_ADDR="${CF_BUILDKIT_ADDR:-unix:///run/compose-frontend/buildkitd.sock}"
MIRROR="${CF_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
log() { printf '[debian-image] %s\n' "$*" >&2; }

if [ ! -f "$WORK/rootfs/etc/debian_version" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  log "debootstrap --variant=minbase bookworm (once; cached in $WORK/rootfs)"
  rm -rf "$WORK/rootfs.tmp" && mkdir -p "$WORK"
  debootstrap --variant=minbase bookworm "$WORK/rootfs.tmp" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -n 20 "$WORK/debootstrap.log" >&2; exit 1; }
  # Device nodes have no place in an image layer (and bootc refuses them); apt caches are noise.
  find "$WORK/rootfs.tmp/dev" -mindepth 1 -delete
  rm -rf "$WORK/rootfs.tmp/var/cache/apt/"*.bin "$WORK/rootfs.tmp/var/cache/apt/archives/"*.deb "$WORK/rootfs.tmp/var/lib/apt/lists/"*_Packages
  mv "$WORK/rootfs.tmp" "$WORK/rootfs"
  rm -f "$WORK/image.json"
fi

stamp_ok() {
  [ -f "$WORK/image.json" ] && [ "$(jq -r .ref "$WORK/image.json")" = "$REF" ] &&
    [ "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REF" 2>/dev/null)" = "$(jq -r .digest "$WORK/image.json")" ]
}
if stamp_ok; then
  log "$REF is up to date ($(jq -r .digest "$WORK/image.json"))"
  exit 0
fi
mkdir -p "$WORK/ctx"
tar --numeric-owner --sort=name --mtime=@0 -cf "$WORK/ctx/rootfs.tar" -C "$WORK/rootfs" .
printf 'FROM scratch\nADD rootfs.tar /\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nCMD ["/bin/bash"]\n' > "$WORK/ctx/Dockerfile"
log "building $REF"
"$BUILDCTL" --addr "$BUILDKIT_ADDR" build --progress=plain --frontend dockerfile.v0 \
  --local context="$WORK/ctx" --local dockerfile="$WORK/ctx" --opt build-arg:SOURCE_DATE_EPOCH=0 \
  --output "type=image,name=$REF,push=true,rewrite-timestamp=true" --metadata-file "$WORK/md.json" >"$WORK/build.log" 2>&1 ||
  { tail -n 20 "$WORK/build.log" >&2; exit 1; }
rm -f "$WORK/ctx/rootfs.tar"
jq -n --arg ref "$REF" --arg digest "$(jq -r '."containerimage.digest"' "$WORK/md.json")" '{ref:$ref, digest:$digest}' > "$WORK/image.json"
log "pushed $REF@$(jq -r .digest "$WORK/image.json")"
