#!/bin/bash
# Makes the RPM twin of every Debian rootfs of the series (bench/series/build-debian.sh): the same
# files, with var/lib/dpkg replaced by an rpmdb (SQLite) at usr/lib/sysimage/rpm that registers
# one RPM per Debian source package (name, EVR, real changelog dates, file list with digests).
#
#   bench/series/make-rpm.sh [OUT]            OUT defaults to .cache/bench/series
# For each OUT/vN/deb it writes OUT/vN/rpm (skipped when OUT/vN/.rpm-done exists) and prints how
# long it took. Deterministic: BUILDTIME, INSTALLTIME and the changelog come from the Debian
# changelogs (SOURCE_DATE_EPOCH), build host fixed, packages installed in name order.
# Needs rpm + rpmbuild (Debian's `rpm` package) and rsync; run as root (rpm --root chroots).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$(realpath -m "${1:-$REPO/.cache/bench/series}")
NODE=${NODE:-$REPO/node_modules/.bin/node}
JOBS=${JOBS:-$(nproc)}
DBPATH=/usr/lib/sysimage/rpm

log() { printf '%s [rpm] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# Builds one binary rpm from a spec; the rootfs is the build root and is only read (no %install
# section, so no scriptlet, brp script or build-root cleanup runs).
build_one() { # SPEC BUILDTIME BUILDROOT TOPDIR
  SOURCE_DATE_EPOCH=$2 rpmbuild -bb --quiet --noclean --nodeps --buildroot "$3" \
    --define "_topdir $4" \
    --define '_binary_payload w.ufdio' \
    --define 'use_source_date_epoch_as_buildtime 1' \
    --define '_buildhost bench.localdomain' \
    --define '_build_id_links none' \
    --define '_missing_build_ids_terminate_build 0' \
    --define '_unpackaged_files_terminate_build 0' \
    --define '__check_files %{nil}' \
    "$1" >/dev/null
}
export -f build_one

for vdir in "$OUT"/v[0-9]*; do
  [ -f "$vdir/.done" ] || continue
  v=$(basename "$vdir")
  if [ -f "$vdir/.rpm-done" ]; then log "$v: rpm rootfs already built"; continue; fi
  start=$(date +%s)
  work=$vdir/rpm-work
  rm -rf "$work" "$vdir/rpm"
  mkdir -p "$work"
  "$NODE" "$REPO/bench/lib/deb-rpm-specs.ts" "$vdir/deb" "$work/specs"
  # A hard-linked copy as build root: rpmbuild must never touch the rootfs itself.
  cp -al "$vdir/deb" "$work/buildroot"
  t1=$(date +%s)
  awk -F'\t' -v s="$work/specs" -v b="$work/buildroot" -v t="$work/top" '{ print s "/" $1 ".spec", $2, b, t }' "$work/specs/index.tsv" |
    xargs -P "$JOBS" -n 4 bash -c 'build_one "$@"' _
  t2=$(date +%s)
  rsync -aHAX --numeric-ids --exclude=/var/lib/dpkg "$vdir/deb/" "$vdir/rpm/"
  newest=$(cut -f2 "$work/specs/index.tsv" | sort -n | tail -1)
  mapfile -t rpms < <(find "$work/top/RPMS" -name '*.rpm' | LC_ALL=C sort)
  SOURCE_DATE_EPOCH=$newest rpm --root "$vdir/rpm" --dbpath "$DBPATH" --define '_db_backend sqlite' \
    --justdb --nodeps --noscripts --notriggers --replacefiles --replacepkgs --ignoresize --ignorearch \
    -i "${rpms[@]}" 2> >(grep -v 'use Alien\|know what you are doing' >&2)
  rm -f "$vdir/rpm$DBPATH/rpmdb.sqlite-shm" "$vdir/rpm$DBPATH/rpmdb.sqlite-wal"
  n=$(rpm --root "$vdir/rpm" --dbpath "$DBPATH" -qa 2>/dev/null | wc -l)
  rm -rf "$work"
  end=$(date +%s)
  echo "$n packages; specs+copy $((t1 - start)) s, rpmbuild $((t2 - t1)) s, copy+rpmdb $((end - t2)) s, total $((end - start)) s" > "$vdir/rpm.txt"
  touch "$vdir/.rpm-done"
  log "$v: $(cat "$vdir/rpm.txt")"
done
