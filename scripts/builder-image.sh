#!/usr/bin/env bash
# Builds the treefile builder image locally from Debian (there is no Docker Hub here) and pushes it to
# the local registry: debootstrap bookworm (minbase) + dnf + rpm + createrepo-c + sqlite3, with
# /etc/rpm/macros.compose-frontend setting %_dbpath /usr/lib/sysimage/rpm (Debian's rpm otherwise keeps
# its database under $HOME/.rpmdb, which would leave --installroot trees without an rpmdb).
# Packaged as one tar (sorted, numeric owners, mtimes clamped to 0) behind `FROM scratch` + `ADD`, built
# by the standalone buildkitd with the built-in Dockerfile frontend; nothing is pulled.
# Usage: scripts/builder-image.sh [REF] [--force]   default REF: 127.0.0.1:5000/compose-frontend/builder:bookworm
# Idempotent: skips when this script is unchanged and REF still resolves to the digest pushed last time
# (stamp .cache/images/builder.json); the debootstrapped rootfs tar is kept under .cache/images/builder/.
set -euo pipefail
set +m
cd "$(dirname "$0")/.."
ROOT=$PWD
REF="${CF_BUILDER_IMAGE:-127.0.0.1:5000/compose-frontend/builder:bookworm}"
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
MIRROR="${CF_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
# dnf (4.14, python3-dnf) and rpm (4.18) do the install; createrepo-c builds local repos for lockfile
# pinning; sqlite3 switches the rpmdb journal mode; kmod/cpio for kernels; busybox-static is mounted
# into steps that run inside the new root (which may have no shell of its own).
PACKAGES=dnf,rpm,createrepo-c,sqlite3,ca-certificates,kmod,cpio,busybox-static
WORK="$ROOT/.cache/images/builder"
STAMP="$ROOT/.cache/images/builder.json"
log() { printf '[builder-image] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v debootstrap >/dev/null || die "debootstrap missing (apt-get install debootstrap)"
[ -x "$BUILDCTL" ] || die "$BUILDCTL missing (run scripts/setup.sh)"

key=$( { sha256sum "$0" | cut -d' ' -f1; echo "$REF $SUITE $PACKAGES"; } | sha256sum | cut -d' ' -f1)
registry_digest() { skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$1" 2>/dev/null; }

if [ $FORCE = 0 ] && [ -f "$STAMP" ] && [ "$(jq -r .key "$STAMP")" = "$key" ] &&
   [ "$(registry_digest "$REF")" = "$(jq -r .digest "$STAMP")" ]; then
  log "$REF is up to date ($(jq -r .digest "$STAMP"))"
  exit 0
fi

start=$(date +%s)
mkdir -p "$WORK"
TAR="$WORK/ctx/rootfs.tar"
if [ $FORCE = 1 ] || [ ! -f "$TAR" ] || [ "$(cat "$WORK/rootfs.key" 2>/dev/null)" != "$key" ]; then
  R="$WORK/rootfs"
  rm -rf "$R" "$WORK/ctx"
  mkdir -p "$R" "$WORK/ctx"
  log "debootstrap $SUITE (minbase + $PACKAGES) from $MIRROR"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$R" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log: $WORK/debootstrap.log)"; }

  mkdir -p "$R/etc/rpm" "$R/usr/lib/sysimage/rpm"
  cat > "$R/etc/rpm/macros.compose-frontend" <<'EOF'
# compose-frontend builder: keep the rpmdb where Fedora/EL put it (also inside --installroot trees)
%_dbpath /usr/lib/sysimage/rpm
EOF
  # No state that differs between runs or leaks the build host.
  rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/* "$R"/var/log/* "$R"/tmp/* \
    "$R"/var/cache/debconf/*-old "$R"/var/lib/dpkg/*-old "$R"/root/.rpmdb
  find "$R/dev" -mindepth 1 -delete
  : > "$R/etc/machine-id"
  printf 'compose-frontend-builder\n' > "$R/etc/hostname"
  rm -f "$R/etc/resolv.conf" && : > "$R/etc/resolv.conf"
  find "$R" -xdev -newermt '@0' -exec touch -h -d @0 {} + 2>/dev/null || true
  tar --sort=name --numeric-owner --mtime=@0 --clamp-mtime \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$R" -cf "$TAR" .
  rm -rf "$R"
  echo "$key" > "$WORK/rootfs.key"
fi

cat > "$WORK/ctx/Dockerfile" <<'EOF'
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
CMD ["/bin/bash"]
EOF

log "building $REF with $BUILDKIT_ADDR"
"$BUILDCTL" --addr "$BUILDKIT_ADDR" build --progress=plain \
  --frontend dockerfile.v0 --local context="$WORK/ctx" --local dockerfile="$WORK/ctx" \
  --opt build-arg:SOURCE_DATE_EPOCH=0 \
  --output "type=image,name=$REF,push=true,rewrite-timestamp=true,oci-mediatypes=true" \
  --metadata-file "$WORK/metadata.json" >"$WORK/build.log" 2>&1 ||
  { tail -n 30 "$WORK/build.log" >&2; die "build of $REF failed (log: $WORK/build.log)"; }
digest=$(jq -r '."containerimage.digest"' "$WORK/metadata.json")

# ---- verify: dnf and rpm run, and rpm's database path is the sysimage one
mkdir -p "$WORK/verify"
cat > "$WORK/verify/Dockerfile" <<EOF
FROM $REF@$digest
RUN dnf --version | head -1 && rpm --version && test "\$(rpm --eval %_dbpath)" = /usr/lib/sysimage/rpm && createrepo_c --version && echo "builder image ok"
EOF
"$BUILDCTL" --addr "$BUILDKIT_ADDR" build --progress=plain \
  --frontend dockerfile.v0 --local context="$WORK/verify" --local dockerfile="$WORK/verify" \
  --opt no-cache= >"$WORK/verify.log" 2>&1 ||
  { tail -n 30 "$WORK/verify.log" >&2; die "verification build FROM $REF failed (log: $WORK/verify.log)"; }
grep -q 'builder image ok' "$WORK/verify.log" || die "verification did not print its marker ($WORK/verify.log)"

jq -n --arg ref "$REF" --arg digest "$digest" --arg key "$key" '{ref:$ref, digest:$digest, key:$key}' > "$STAMP"
log "pushed $REF@$digest in $(( $(date +%s) - start ))s (verified: dnf $(grep -oE 'dnf|^#[0-9]+ [0-9.]+ 4\.[0-9]+\.[0-9]+' "$WORK/verify.log" | tail -1 | awk '{print $NF}'))"
