#!/usr/bin/env bash
# Builds a minimal Node 24 base image locally (there is no Docker Hub here) and pushes it to the local
# registry: the node binary from the npm package `node`, exactly the shared libraries it links plus
# the loader, /etc/passwd+group with root, /tmp (1777, the frontend's Unix-socket bridge lives there)
# and the CA bundle. Built by the standalone buildkitd with the built-in Dockerfile frontend
# (FROM scratch + COPY; nothing is pulled).
# Usage: scripts/base-image.sh [REF] [--force]     default REF: 127.0.0.1:5000/compose-frontend/node:24
# Skips the build when the inputs are unchanged and REF still resolves to the digest built last time.
set -euo pipefail
set +m
cd "$(dirname "$0")/.."
ROOT=$PWD
REF="${CF_BASE_IMAGE:-127.0.0.1:5000/compose-frontend/node:24}"
FORCE=0
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    -*) echo "usage: $0 [REF] [--force]" >&2; exit 2 ;;
    *) REF=$a ;;
  esac
done
BUILDCTL="$ROOT/.cache/go/bin/buildctl"
BUILDKIT_ADDR="${CF_BUILDKIT_ADDR:-unix:///run/compose-frontend/buildkitd.sock}"
NODE_BIN="$ROOT/node_modules/node/bin/node"
WORK="$ROOT/.cache/images/base"
STAMP="$ROOT/.cache/images/base.json"
log() { printf '[base-image] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -x "$NODE_BIN" ] || die "$NODE_BIN missing (run scripts/setup.sh)"
"$NODE_BIN" --version | grep -q '^v24\.' || die "$NODE_BIN is not Node 24"

# ---- stage the root filesystem
rm -rf "$WORK"
mkdir -p "$WORK/ctx/rootfs"
R="$WORK/ctx/rootfs"
mkdir -p "$R/usr/local/bin" "$R/etc/ssl/certs" "$R/tmp" "$R/root" "$R/usr/lib"
cp "$NODE_BIN" "$R/usr/local/bin/node"

# Usr-merged hosts: keep /lib, /lib64 as the same symlinks so ldd's paths resolve in the image.
for top in lib lib64; do
  if [ -L "/$top" ]; then ln -s "$(readlink "/$top")" "$R/$top"; fi
done
# Each library under its ldd name, in the directory that name really lives in (dereferenced copy).
if ldd "$NODE_BIN" | grep -q 'not found'; then die "ldd: $(ldd "$NODE_BIN" | grep 'not found')"; fi
while read -r path; do
  dir=$(readlink -f "$(dirname "$path")")
  mkdir -p "$R$dir"
  cp -L "$path" "$R$dir/$(basename "$path")"
done < <(ldd "$NODE_BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' | sort -u)

printf 'root:x:0:0:root:/root:/usr/sbin/nologin\n' > "$R/etc/passwd"
printf 'root:x:0:\n' > "$R/etc/group"
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/"
chmod 1777 "$R/tmp"
chmod 0700 "$R/root"
chown -R 0:0 "$R"
find "$R" -exec touch -h -d @0 {} +

cat > "$WORK/ctx/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin
EOF

# ---- staleness key: every staged byte, mode and owner, plus this script
key=$( { (cd "$WORK/ctx" && find . -printf '%p %y %m %U %G %l\n' | LC_ALL=C sort)
         (cd "$WORK/ctx" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
         sha256sum "$0"; echo "$REF"; } | sha256sum | cut -d' ' -f1)

registry_digest() { skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$1" 2>/dev/null; }

if [ $FORCE = 0 ] && [ -f "$STAMP" ] && [ "$(jq -r .key "$STAMP")" = "$key" ] &&
   [ "$(registry_digest "$REF")" = "$(jq -r .digest "$STAMP")" ]; then
  log "$REF is up to date ($(jq -r .digest "$STAMP"))"
  exit 0
fi

log "building $REF with $BUILDKIT_ADDR"
"$BUILDCTL" --addr "$BUILDKIT_ADDR" build --progress=plain \
  --frontend dockerfile.v0 --local context="$WORK/ctx" --local dockerfile="$WORK/ctx" \
  --opt build-arg:SOURCE_DATE_EPOCH=0 \
  --output "type=image,name=$REF,push=true,rewrite-timestamp=true,oci-mediatypes=true" \
  --metadata-file "$WORK/metadata.json" >"$WORK/build.log" 2>&1 ||
  { tail -n 30 "$WORK/build.log" >&2; die "build of $REF failed (log: $WORK/build.log)"; }
digest=$(jq -r '."containerimage.digest"' "$WORK/metadata.json")

# ---- verify: the image runs node as root with a usable /tmp for Unix sockets
mkdir -p "$WORK/verify"
cat > "$WORK/verify/Dockerfile" <<EOF
FROM $REF@$digest
RUN ["/usr/local/bin/node", "-e", "const fs=require('node:fs'),os=require('node:os'),net=require('node:net');if(!process.version.startsWith('v24.'))throw new Error('node '+process.version);if((fs.statSync('/tmp').mode&0o7777)!==0o1777)throw new Error('/tmp mode');if(os.userInfo().username!=='root')throw new Error('user');const p='/tmp/probe.sock';const s=net.createServer(c=>c.end('ok')).listen(p,()=>{net.connect(p).on('data',d=>{console.log('base image ok',process.version,String(d));s.close();});});"]
EOF
"$BUILDCTL" --addr "$BUILDKIT_ADDR" build --progress=plain \
  --frontend dockerfile.v0 --local context="$WORK/verify" --local dockerfile="$WORK/verify" \
  --opt no-cache= >"$WORK/verify.log" 2>&1 ||
  { tail -n 30 "$WORK/verify.log" >&2; die "verification build FROM $REF failed (log: $WORK/verify.log)"; }
grep -q 'base image ok v24' "$WORK/verify.log" || die "verification did not print its marker ($WORK/verify.log)"

jq -n --arg ref "$REF" --arg digest "$digest" --arg key "$key" '{ref:$ref, digest:$digest, key:$key}' > "$STAMP"
log "pushed $REF@$digest (verified: $(grep -o 'base image ok v24[^ ]*' "$WORK/verify.log" | head -1))"
