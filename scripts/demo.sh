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

# The example rootfs: Debian bookworm minbase (debootstrap once, cached by scripts/debian-image.sh).
bash scripts/debian-image.sh >/dev/null
mkdir -p "$CTX"
rsync -a --delete .cache/debian/rootfs/ "$CTX/rootfs/"
sed "s|^# syntax=.*|# syntax=$FRONTEND|" examples/exampleos/build.yaml > "$CTX/build.yaml"

log "building $IMAGE with docker buildx (standalone buildkitd) from $CTX/build.yaml"
/usr/bin/docker buildx build --builder "${CF_BUILDX_STANDALONE:-cf-standalone}" --progress=plain \
  -f "$CTX/build.yaml" -t "$IMAGE" --push "$CTX" 2>&1 | grep -E '^#[0-9]+ \[layer|DONE|ERROR|error|warning' | tail -n 25 >&2
node_modules/.bin/node scripts/layer-table.ts "$IMAGE"
