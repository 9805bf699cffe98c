#!/bin/bash
# Builds the Debian release series of the update-size benchmark (bench/update-size.ts): seven
# successive root filesystems made from real Debian packages, each an update of the one before.
#
#   v1  debootstrap --variant=minbase bookworm + packages.txt (systemd, one kernel, ~300 packages)
#   v2  + bookworm-updates and bookworm-security, kernel HELD   (userland-only update)
#   v3  + the kernel update from bookworm-security              (old kernel purged: one kernel)
#   v4  + bookworm-backports kernel and systemd
#   v5  dist-upgrade to trixie (main only), autoremove
#   v6  + trixie-updates and trixie-security, kernel HELD          (userland-only update)
#   v7  + the kernel update from trixie-security
#
# Usage (root; needs debootstrap, rsync, chroot, mount):
#   bench/series/build-debian.sh [OUT]        OUT defaults to .cache/bench/series
# Writes OUT/vN/deb (a copy of the rootfs after step N) and OUT/vN/step.txt; a version whose
# OUT/vN/.done exists is kept, so a rerun resumes. OUT/work is the chroot that evolves; downloaded
# .debs are kept in OUT/archives so a rerun does not download them again. No service starts
# (policy-rc.d), and /proc, /sys, /dev are mounted only while apt runs.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$(realpath -m "${1:-$REPO/.cache/bench/series}")
W=$OUT/work
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
mkdir -p "$OUT/archives/partial" "$OUT/debootstrap-cache"

log() { printf '%s [series] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

MOUNTED=()
mount_chroot() {
  mount -t proc proc "$W/proc"; MOUNTED+=("$W/proc")
  mount -t sysfs sys "$W/sys"; MOUNTED+=("$W/sys")
  mount --bind /dev "$W/dev"; MOUNTED+=("$W/dev")
  mount --bind /dev/pts "$W/dev/pts"; MOUNTED+=("$W/dev/pts")
  mkdir -p "$W/var/cache/apt/archives"
  mount --bind "$OUT/archives" "$W/var/cache/apt/archives"; MOUNTED+=("$W/var/cache/apt/archives")
  # systemd-resolved makes etc/resolv.conf a link into /run: use the host's while apt runs
  if [ -e "$W/etc/resolv.conf" ] || [ -L "$W/etc/resolv.conf" ]; then mv "$W/etc/resolv.conf" "$W/etc/resolv.conf.bench-saved"; fi
  cp /etc/resolv.conf "$W/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' > "$W/usr/sbin/policy-rc.d"
  chmod 755 "$W/usr/sbin/policy-rc.d"
}
umount_chroot() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount "${MOUNTED[i]}" || umount -l "${MOUNTED[i]}"; done
  MOUNTED=()
  rm -f "$W/usr/sbin/policy-rc.d"
  # restore the image's own resolv.conf, unless a package replaced ours meanwhile
  if [ -e "$W/etc/resolv.conf.bench-saved" ] || [ -L "$W/etc/resolv.conf.bench-saved" ]; then
    if [ ! -L "$W/etc/resolv.conf" ] && cmp -s /etc/resolv.conf "$W/etc/resolv.conf"; then
      rm -f "$W/etc/resolv.conf"; mv "$W/etc/resolv.conf.bench-saved" "$W/etc/resolv.conf"
    else
      rm -f "$W/etc/resolv.conf.bench-saved"
    fi
  fi
}
trap umount_chroot EXIT

in_chroot() {
  chroot "$W" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    LC_ALL=C.UTF-8 HOME=/root "$@"
}
APT=(apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
  -o APT::Install-Recommends=false -o APT::Keep-Downloaded-Packages=true)

sources() { # one "SUITE URI" per argument pair
  : > "$W/etc/apt/sources.list"
  while (($#)); do echo "deb $2 $1 main" >> "$W/etc/apt/sources.list"; shift 2; done
}

installed_kernels() {
  in_chroot dpkg-query -W -f='${binary:Package} ${db:Status-Status}\n' 'linux-image-[0-9]*' 2>/dev/null |
    awk '$2 == "installed" { print $1 }' | sort
}
# Keeps only the kernel the linux-image-amd64 metapackage depends on (a bootable image has one).
purge_old_kernels() {
  local keep
  keep=$(in_chroot dpkg-query -W -f='${Depends}' linux-image-amd64 | sed 's/[ ,].*//')
  local old
  old=$(installed_kernels | grep -vx "$keep" || true)
  if [ -n "$old" ]; then log "purging old kernels: $old"; in_chroot "${APT[@]}" purge $old; fi
}

# Image hygiene, as a container build would do it: no apt lists or logs, no host keys or
# machine id baked in, nothing in /tmp or /run.
clean_chroot() {
  rm -rf "$W"/var/lib/apt/lists/* "$W"/var/cache/apt/*.bin
  find "$W/var/log" -type f -delete
  find "$W/var/cache/debconf" -name '*-old' -delete
  rm -f "$W"/etc/ssh/ssh_host_*
  [ -f "$W/etc/machine-id" ] && : > "$W/etc/machine-id"
  rm -rf "$W"/tmp/* "$W"/var/tmp/* "$W"/run/* "$W"/root/.cache
}

snapshot() { # N DESCRIPTION
  local dest=$OUT/v$1
  clean_chroot
  rm -rf "$dest"
  mkdir -p "$dest/deb"
  rsync -aHAX --numeric-ids --exclude='/dev/*' --exclude='/proc/*' --exclude='/sys/*' \
    --exclude='/var/cache/apt/archives/*' "$W/" "$dest/deb/"
  {
    echo "$2"
    echo "sources:"; sed 's/^/  /' "$W/etc/apt/sources.list"
    echo "kernel: $(installed_kernels | tr '\n' ' ')"
    echo "packages: $(in_chroot dpkg-query -W -f='${db:Status-Status}\n' | grep -c '^installed$')"
  } > "$dest/step.txt"
  touch "$dest/.done"
  log "v$1 done: $(du -sh "$dest/deb" | cut -f1), $(sed -n '$p' "$dest/step.txt")"
}

done_v() { [ -f "$OUT/v$1/.done" ]; }

# Restores the chroot from the newest finished version when resuming.
resume_from() {
  log "restoring work chroot from v$1"
  rm -rf "$W"; mkdir -p "$W"
  rsync -aHAX --numeric-ids "$OUT/v$1/deb/" "$W/"
  mkdir -p "$W/proc" "$W/sys" "$W/dev"
}

step() { # N DESCRIPTION FUNCTION
  if done_v "$1"; then log "v$1 already built"; return; fi
  if [ "$1" -gt 1 ]; then resume_from $(($1 - 1)); fi
  log "building v$1: $2"
  "$3"
  snapshot "$1" "$2"
}

v1() {
  rm -rf "$W"
  debootstrap --variant=minbase --cache-dir="$OUT/debootstrap-cache" bookworm "$W" "$MIRROR" >&2
  sources bookworm "$MIRROR"
  mount_chroot
  in_chroot "${APT[@]}" --error-on=any update
  in_chroot "${APT[@]}" install $(grep -v '^#' "$HERE/packages.txt")
  umount_chroot
}

# userland_update SUITE: SUITE + its -updates and -security, the kernel held (userland-only update).
userland_update() {
  sources "$1" "$MIRROR" "$1-updates" "$MIRROR" "$1-security" "$SECURITY"
  mount_chroot
  in_chroot "${APT[@]}" --error-on=any update
  in_chroot apt-mark hold linux-image-amd64 $(installed_kernels) >&2
  in_chroot "${APT[@]}" dist-upgrade
  umount_chroot
}

# kernel_update: the kernel released from its hold, the old one purged.
kernel_update() {
  mount_chroot
  in_chroot "${APT[@]}" --error-on=any update
  in_chroot apt-mark unhold linux-image-amd64 $(installed_kernels) >&2
  in_chroot "${APT[@]}" dist-upgrade
  purge_old_kernels
  umount_chroot
}

v2() { userland_update bookworm; }
v3() { kernel_update; }

v4() {
  sources bookworm "$MIRROR" bookworm-updates "$MIRROR" bookworm-security "$SECURITY" bookworm-backports "$MIRROR"
  mount_chroot
  in_chroot "${APT[@]}" --error-on=any update
  local sd
  sd=$(in_chroot dpkg-query -W -f='${binary:Package} ${source:Package} ${db:Status-Status}\n' |
    awk '$2 == "systemd" && $3 == "installed" { sub(/:.*/, "", $1); print $1 }' | sort)
  in_chroot "${APT[@]}" install -t bookworm-backports linux-image-amd64 $sd
  purge_old_kernels
  umount_chroot
}

v5() {
  sources trixie "$MIRROR"
  mount_chroot
  in_chroot "${APT[@]}" --error-on=any update
  in_chroot "${APT[@]}" full-upgrade
  in_chroot "${APT[@]}" autoremove --purge
  purge_old_kernels
  # packages removed during the upgrade leave their conffiles behind (state rc): purge them
  local rc
  rc=$(in_chroot dpkg-query -W -f='${binary:Package} ${db:Status-Abbrev}\n' | awk '$2 == "rc" { print $1 }')
  if [ -n "$rc" ]; then in_chroot dpkg --purge $rc >&2; fi
  umount_chroot
}

v6() { userland_update trixie; }
v7() { kernel_update; }

step 1 "debootstrap --variant=minbase bookworm + bench/series/packages.txt" v1
step 2 "+ bookworm-updates, bookworm-security; kernel held (userland-only update)" v2
step 3 "+ kernel update from bookworm-security (old kernel purged)" v3
step 4 "+ bookworm-backports kernel and systemd" v4
step 5 "dist-upgrade to trixie (main only), autoremove --purge" v5
step 6 "+ trixie-updates, trixie-security; kernel held (userland-only update)" v6
step 7 "+ kernel update from trixie-security (old kernel purged)" v7
log "series complete in $OUT"
