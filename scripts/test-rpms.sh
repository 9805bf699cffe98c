#!/usr/bin/env bash
# Builds the test RPMs from test/fixtures/rpms/*.spec with the host's rpmbuild (Debian `rpm`) and makes
# an rpm-md repository of them with createrepo_c. cf-app is built twice (1.0 and 2.0) for update and
# lockfile tests; cf-filesystem packs the host's static busybox (Debian `busybox-static`) as its shell.
# Deterministic: SOURCE_DATE_EPOCH as build time and clamped mtimes, a fixed build host, no debuginfo or
# brp scripts, and repodata with the revision as its timestamp and no sqlite databases, so repeated
# runs give byte-identical RPMs and repodata.
# Usage: scripts/test-rpms.sh [OUTDIR] [--force]      default OUTDIR: .cache/test-rpms
# Result: OUTDIR/repo/{*.rpm,repodata/} ; skipped when the inputs are unchanged (OUTDIR/key).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT="$ROOT/.cache/test-rpms"
FORCE=0
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    -*) echo "usage: $0 [OUTDIR] [--force]" >&2; exit 2 ;;
    *) OUT=$(realpath -m "$a") ;;
  esac
done
SPECS="$ROOT/test/fixtures/rpms"
BUSYBOX=/bin/busybox
export SOURCE_DATE_EPOCH=1700000000
log() { printf '[test-rpms] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v rpmbuild >/dev/null || die "rpmbuild missing (apt-get install rpm)"
command -v createrepo_c >/dev/null || die "createrepo_c missing (apt-get install createrepo-c)"
file "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || die "$BUSYBOX is not a static busybox (apt-get install busybox-static)"

key=$( { sha256sum "$0" "$SPECS"/*.spec "$BUSYBOX" | cut -d' ' -f1; rpmbuild --version; createrepo_c --version; } |
  sha256sum | cut -d' ' -f1)
if [ $FORCE = 0 ] && [ -f "$OUT/key" ] && [ "$(cat "$OUT/key")" = "$key" ] && [ -f "$OUT/repo/repodata/repomd.xml" ]; then
  log "$OUT/repo is up to date"
  exit 0
fi

start=$(date +%s%N)
TOP=$(mktemp -d /tmp/cf-rpmbuild.XXXXXX)
trap 'rm -rf "$TOP"' EXIT
mkdir -p "$TOP/SOURCES"
cp "$BUSYBOX" "$TOP/SOURCES/busybox"

build() { # spec [extra rpmbuild args]
  local spec=$1; shift
  rpmbuild -bb --quiet \
    --define "_topdir $TOP" \
    --define "_buildhost compose-frontend-test" \
    --define "use_source_date_epoch_as_buildtime 1" \
    --define "clamp_mtime_to_source_date_epoch 1" \
    --define "_binary_payload w9.gzdio" \
    --define "debug_package %{nil}" \
    --define "__os_install_post %{nil}" \
    --define "_build_id_links none" \
    --define "_smp_mflags -j1" \
    --define "packager compose-frontend tests" \
    --define "vendor compose-frontend" \
    --define "distribution compose-frontend tests" \
    "$@" "$spec" >"$TOP/build.log" 2>&1 || { cat "$TOP/build.log" >&2; die "rpmbuild $(basename "$spec") failed"; }
}
for spec in "$SPECS"/*.spec; do build "$spec"; done
build "$SPECS/cf-app.spec" --define "cfver 2.0"

rm -rf "$OUT/repo"
mkdir -p "$OUT/repo"
find "$TOP/RPMS" -name '*.rpm' -exec cp {} "$OUT/repo/" \;
touch -d "@$SOURCE_DATE_EPOCH" "$OUT/repo"/*.rpm
createrepo_c --quiet --no-database --revision "$SOURCE_DATE_EPOCH" --set-timestamp-to-revision \
  --workers 1 "$OUT/repo" >/dev/null
echo "$key" > "$OUT/key"
log "built $(ls "$OUT/repo"/*.rpm | wc -l) RPMs + repodata in $OUT/repo ($(( ($(date +%s%N) - start) / 1000000 )) ms)"
