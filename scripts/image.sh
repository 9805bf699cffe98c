#!/usr/bin/env bash
# Builds the frontend image (Dockerfile.frontend) and pushes it: bundle src/main.ts with esbuild, build
# through the local standalone buildkitd, push to REF. Starts the local services if needed.
# Usage: scripts/image.sh REF [--node-image IMAGE] [--entry FILE] [--force]
#   --node-image  base with Node 24 at /usr/local/bin/node; default: the locally made
#                 127.0.0.1:5000/compose-frontend/node:24 (built by scripts/base-image.sh if missing).
#                 Real users: --node-image docker.io/library/node:24-bookworm-slim
#   --entry       bundle another entry point (test/harness/fixtures/stub-frontend.ts for checks)
#   --force       rebuild even if REF already holds the image these inputs produce
# Prints REPO@DIGEST (REF pinned, tag dropped) on stdout. Outputs are reproducible (SOURCE_DATE_EPOCH=0, rewritten timestamps).
set -euo pipefail
set +m
cd "$(dirname "$0")/.."
ROOT=$PWD
usage() { echo "usage: $0 REF [--node-image IMAGE] [--entry FILE] [--force]" >&2; exit 2; }
log() { printf '[image] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

REF='' NODE_IMAGE='' ENTRY=src/main.ts FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --node-image) [ $# -ge 2 ] || usage; NODE_IMAGE=$2; shift 2 ;;
    --entry) [ $# -ge 2 ] || usage; ENTRY=$2; shift 2 ;;
    --force) FORCE=1; shift ;;
    -*) usage ;;
    *) [ -z "$REF" ] || usage; REF=$1; shift ;;
  esac
done
[ -n "$REF" ] || usage
[ -f "$ENTRY" ] || die "entry point $ENTRY does not exist"

BUILDCTL="$ROOT/.cache/go/bin/buildctl"
BUILDKIT_ADDR="${CF_BUILDKIT_ADDR:-unix:///run/compose-frontend/buildkitd.sock}"
DOCKER="${CF_DOCKER:-/usr/bin/docker}"
NODE="$ROOT/node_modules/.bin/node"
refkey=$(printf '%s' "$REF" | sha256sum | cut -c1-16)
WORK="$ROOT/.cache/images/frontend-$refkey"
STAMP="$WORK.json"

bash scripts/services.sh start >/dev/null

if [ -z "$NODE_IMAGE" ]; then
  bash scripts/base-image.sh
  NODE_IMAGE="$(jq -r '.ref + "@" + .digest' .cache/images/base.json)"
fi

rm -rf "$WORK"
mkdir -p "$WORK/ctx/dist"
"$NODE" scripts/bundle.ts --entry "$ENTRY" --outfile "$WORK/ctx/dist/compose-frontend.mjs"
[ "$ENTRY" != src/main.ts ] || { mkdir -p dist && cp "$WORK/ctx/dist/compose-frontend.mjs" dist/; }
cp Dockerfile.frontend "$WORK/ctx/Dockerfile.frontend"
find "$WORK/ctx" -exec touch -h -d @0 {} +

key=$( { sha256sum "$WORK/ctx/dist/compose-frontend.mjs" "$WORK/ctx/Dockerfile.frontend" "$0" | cut -d' ' -f1
         echo "$NODE_IMAGE $REF"; } | sha256sum | cut -d' ' -f1)
# REF without its tag (skopeo refuses name:tag@digest); host:port stays intact.
untagged() { local r=${1%@*}; case "${r##*/}" in *:*) r=${r%:*} ;; esac; echo "$r"; }
PINNED_REPO=$(untagged "$REF")
registry_digest() { skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$1" 2>/dev/null; }
if [ $FORCE = 0 ] && [ -f "$STAMP" ] && [ "$(jq -r .key "$STAMP")" = "$key" ] &&
   [ "$(registry_digest "$REF")" = "$(jq -r .digest "$STAMP")" ]; then
  log "$REF is up to date"
  echo "$PINNED_REPO@$(jq -r .digest "$STAMP")"
  exit 0
fi

log "building $REF FROM $NODE_IMAGE with $BUILDKIT_ADDR"
"$BUILDCTL" --addr "$BUILDKIT_ADDR" build --progress=plain \
  --frontend dockerfile.v0 --local context="$WORK/ctx" --local dockerfile="$WORK/ctx" \
  --opt filename=Dockerfile.frontend \
  --opt build-arg:NODE_IMAGE="$NODE_IMAGE" --opt build-arg:SOURCE_DATE_EPOCH=0 \
  --output "type=image,name=$REF,push=true,rewrite-timestamp=true,oci-mediatypes=true" \
  --metadata-file "$WORK/metadata.json" >"$WORK/build.log" 2>&1 ||
  { tail -n 30 "$WORK/build.log" >&2; die "build of $REF failed (log: $WORK/build.log)"; }
digest=$(jq -r '."containerimage.digest"' "$WORK/metadata.json")

# The labels BuildKit's gateway checks must be in the pushed config.
cfg=$(skopeo inspect --tls-verify=false --config "docker://$PINNED_REPO@$digest") ||
  die "cannot read back $PINNED_REPO@$digest"
jq -e '.config.Labels["moby.buildkit.frontend.network.none"] == "true"
  and (.config.Labels["moby.buildkit.frontend.caps"] | split(",") | index("moby.buildkit.frontend.contexts"))
  and .config.Entrypoint == ["/usr/local/bin/node", "/app/compose-frontend.mjs"]' <<<"$cfg" >/dev/null ||
  die "pushed config lacks the frontend labels/entrypoint"

# Docker's embedded BuildKit prefers a locally present image: refresh dockerd's copy of local refs.
case "$REF" in
  127.0.0.1:*|localhost:*)
    if "$DOCKER" version >/dev/null 2>&1; then
      "$DOCKER" pull -q "$REF" >/dev/null || log "warning: docker pull $REF failed (dockerd may use a stale copy)"
    fi ;;
esac

jq -n --arg ref "$REF" --arg digest "$digest" --arg key "$key" --arg nodeImage "$NODE_IMAGE" \
  '{ref:$ref, digest:$digest, key:$key, nodeImage:$nodeImage}' > "$STAMP"
log "pushed $REF ($digest)"
echo "$PINNED_REPO@$digest"
