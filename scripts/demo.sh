#!/usr/bin/env bash
# The main job on an embedded default: local BuildKit + registry, the frontend image, and an example
# bootc image (a Debian minbase root filesystem) built the way a user would, then its layer table.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[demo] %s\n' "$*" >&2; }

REGISTRY="${CF_REGISTRY:-127.0.0.1:5000}"
FRONTEND="$REGISTRY/compose-frontend:dev"
IMAGE="$REGISTRY/exampleos:demo"
CTX=.cache/demo/context

bash scripts/setup.sh
bash scripts/services.sh start
bash scripts/image.sh "$FRONTEND" --node-image "$REGISTRY/compose-frontend/node:24"

if [ ! -f "$CTX/rootfs/etc/debian_version" ]; then
  log "making the example rootfs: debootstrap --variant=minbase bookworm (once, cached in $CTX)"
  command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  rm -rf "$CTX/rootfs.tmp" && mkdir -p "$CTX"
  debootstrap --variant=minbase bookworm "$CTX/rootfs.tmp" http://deb.debian.org/debian >/dev/null
  # Device nodes cannot go into a bootc image; debootstrap leaves a few in /dev.
  find "$CTX/rootfs.tmp/dev" -mindepth 1 -delete
  mv "$CTX/rootfs.tmp" "$CTX/rootfs"
fi
sed "s|^# syntax=.*|# syntax=$FRONTEND|" examples/exampleos/build.yaml > "$CTX/build.yaml"

log "building $IMAGE with docker buildx (standalone buildkitd) from $CTX/build.yaml"
/usr/bin/docker buildx build --builder "${CF_BUILDX_STANDALONE:-cf-standalone}" --progress=plain \
  -f "$CTX/build.yaml" -t "$IMAGE" --push "$CTX" 2>&1 | grep -E '^#[0-9]+ \[layer|DONE|ERROR|error|warning' | tail -n 25 >&2
node_modules/.bin/node scripts/layer-table.ts "$IMAGE"
