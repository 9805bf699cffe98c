// Shell programs the compose steps run inside BuildKit ExecOps. They live here as strings so the
// bundled frontend carries them; the LLB writes them into a read-only mount (/cf). Each reads its
// inputs from files next to it (never from argv), so the op stays readable and its error message
// short. Bash for the builder image (Debian or Fedora-like: coreutils, findutils, grep -P, awk);
// POSIX sh for steps that run inside the new root.
//
// In the template literals below `\${` stands for a literal `${` (shell parameter expansion).

function sh(s: TemplateStringsArray): string {
  if (s.length !== 1) throw new Error('builder scripts take no substitutions');
  return s.raw[0]!.replaceAll('\\${', '${').replace(/^\n/, '');
}

/**
 * Install step (root: builder image). Inputs in /cf: dnf-options / dnf5-options, packages (one
 * per line), locked (`name evr arch` lines), repo-packages (`repo<TAB>spec`), install-langs,
 * seeded (marker). Writes the tree to /target
 * and `packages` (name, evra, header sha256, payload digest; sorted) to /meta.
 */
export const INSTALL_SH = sh`
#!/bin/bash
# compose-frontend install step: dnf --installroot /target (src/compose/install.ts)
set -euo pipefail
trap 'printf "error: %s step failed at line %s: %s\\n" install "$LINENO" "$BASH_COMMAND" >&2' ERR
T=/target
log() { printf '[install] %s\n' "$*" >&2; }
mapfile -t PKGS < /cf/packages
# dnf5 (Fedora >= 41) or dnf 4 (EL9, Debian): the option spellings differ, the plan has both.
if command -v dnf5 >/dev/null 2>&1; then
  DNF=dnf5; mapfile -t OPTS < /cf/dnf5-options
elif command -v dnf >/dev/null 2>&1; then
  DNF=dnf; mapfile -t OPTS < /cf/dnf-options
else
  printf 'error: the builder image has neither dnf5 nor dnf in PATH (%s)\n' "$PATH" >&2
  exit 127
fi
log "using $DNF $($DNF --version 2>/dev/null | head -n 1)"

# rmdir PATH (relative to $T) when empty and owned by no package: undo directories we created.
rmdir_unowned() {
  local p
  for p in "$@"; do
    [ -d "$T$p" ] && [ ! -L "$T$p" ] || continue
    rpm --root "$T" -qf "$p" >/dev/null 2>&1 && continue
    rmdir "$T$p" 2>/dev/null || true
  done
}

# Scriptlets run chrooted into $T: give them the usual character devices for the transaction.
made_dev=()
mkdir -p "$T/dev"
for spec in 'null 1 3' 'zero 1 5' 'full 1 7' 'random 1 8' 'urandom 1 9'; do
  set -- $spec
  if [ ! -e "$T/dev/$1" ] && mknod -m 0666 "$T/dev/$1" c "$2" "$3" 2>/dev/null; then made_dev+=("$T/dev/$1"); fi
done

# Keep kernel %posttrans from running dracut/kernel-install; the kernel step does it (upstream's trick).
hook=/usr/lib/kernel/install.d/00-rpmostree-skip.install
mkdir -p "$T\${hook%/*}"
printf '#!/bin/sh\nexit 77\n' > "$T$hook"
chmod 0755 "$T$hook"

if [ -s /cf/install-langs ]; then
  printf '%%_install_langs %s\n' "$(cat /cf/install-langs)" > /etc/rpm/macros.image-language-conf
  log "install-langs: $(cat /cf/install-langs)"
fi

# The metadata cache mount outlives builds: a repo in the context can change under the same URL, so
# metadata is checked once, up front (upstream always refreshes too); later dnf calls reuse it.
"$DNF" "\${OPTS[@]}" --refresh -q makecache >&2

# Lockfile pins: every other build of a locked name is excluded (relaxed mode).
EXCL=()
if [ -s /cf/locked ]; then
  while read -r name evr arch; do
    [ -n "$name" ] || continue
    want="$name-$evr\${arch:+.$arch}"
    found=0
    while read -r nevra; do
      [ -n "$nevra" ] || continue
      a=\${nevra##*.}
      if [ "$nevra" = "$name-$evr.$a" ] && { [ -z "$arch" ] || [ "$a" = "$arch" ]; }; then
        found=1
      else
        EXCL+=("--exclude=$nevra")
      fi
    done < <("$DNF" "\${OPTS[@]}" -q repoquery --qf '%{name}-%{evr}.%{arch}\n' "$name" 2>/dev/null || true)
    if [ $found = 1 ]; then log "locked: $want"; else log "warning: Couldn't find locked package '$want'"; fi
  done < /cf/locked
fi

# repo-packages: other repos hide these packages (excludepkgs in the options); each must match in its repo.
if [ -s /cf/repo-packages ]; then
  while IFS=$'\t' read -r repo spec; do
    [ -n "$repo" ] || continue
    n=$("$DNF" "\${OPTS[@]}" "\${EXCL[@]}" -q repoquery --qf '%{name}\n' "$spec" 2>/dev/null | grep -c . || true)
    if [ "$n" = 0 ]; then
      printf "error: repo-packages: No matches for '%s' in repo '%s'\n" "$spec" "$repo" >&2
      exit 1
    fi
    log "repo-packages: $spec from $repo"
  done < /cf/repo-packages
fi

printf '+ %s' "$DNF" >&2; printf ' %q' "\${OPTS[@]}" "\${EXCL[@]}" install "\${PKGS[@]}" >&2; printf '\n' >&2
set +e
"$DNF" "\${OPTS[@]}" "\${EXCL[@]}" install "\${PKGS[@]}" 2>/tmp/dnf.stderr
rc=$?
set -e
if [ $rc -ne 0 ]; then
  printf '\nerror: dnf install failed with exit code %d. dnf reported:\n' "$rc" >&2
  cat /tmp/dnf.stderr >&2
  exit $rc
fi
cat /tmp/dnf.stderr >&2

for d in "\${made_dev[@]}"; do rm -f "$d"; done
rm -f "$T$hook"
rmdir_unowned /usr/lib/kernel/install.d /usr/lib/kernel
# dnf's own state in the new root (history, logs, the installroot half of its cache).
rm -rf "$T"/var/lib/dnf/history.sqlite* "$T"/var/log/dnf.log "$T"/var/log/dnf.librepo.log \
  "$T"/var/log/dnf.rpm.log "$T"/var/log/hawkey.log "$T"/var/cache/cf-dnf "$T"/var/lib/dnf/repos
# dnf5's system state (transaction history with timestamps, install reasons), as dnf 4's above.
rm -rf "$T"/usr/lib/sysimage/libdnf5/*
rmdir_unowned /var/lib/dnf /etc/dnf/modules.d /etc/dnf /usr/lib/sysimage/libdnf5
if [ -e /cf/seeded ]; then
  rm -f "$T"/etc/passwd.rpmnew "$T"/etc/group.rpmnew "$T"/etc/shadow.rpmnew "$T"/etc/gshadow.rpmnew
fi
if [ -s /cf/install-langs ]; then
  mkdir -p "$T/etc/rpm"
  cp /etc/rpm/macros.image-language-conf "$T/etc/rpm/macros.image-language-conf"
fi
rpm --root "$T" -qa --qf '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}.%{ARCH}\t%{SHA256HEADER}\t%{PAYLOADDIGEST}\n' |
  LC_ALL=C sort > /meta/packages
log "$(wc -l < /meta/packages) packages installed"
`;

/**
 * First postprocess step (root: builder image, tree at /target), upstream's order:
 * remove-from-packages (at assembly upstream), rpmdb location + macro, units, state-overlay units.
 * Inputs in /cf: remove-from-packages (tab-separated `pkg regex...` rows), units; env CF_OPT_USRLOCAL.
 */
export const COMPOSEPOST_SH = sh`
#!/bin/bash
# compose-frontend postprocess (part 1): src/compose/postprocess.ts
set -euo pipefail
trap 'printf "error: %s step failed at line %s: %s\\n" postprocess "$LINENO" "$BASH_COMMAND" >&2' ERR
T=/target
log() { printf '[postprocess] %s\n' "$*" >&2; }

if [ -s /cf/remove-from-packages ]; then
  while IFS=$'\t' read -r -a row; do
    pkg=\${row[0]}
    if ! rpm --root "$T" -q "$pkg" >/dev/null 2>&1; then
      log "remove-from-packages: $pkg is not installed; nothing to remove"
      continue
    fi
    rpm --root "$T" -ql "$pkg" > /tmp/files
    : > /tmp/matches
    for re in "\${row[@]:1}"; do
      grep -P -- "$re" /tmp/files >> /tmp/matches || true
    done
    n=0
    while IFS= read -r f; do
      if [ -d "$T$f" ] && [ ! -L "$T$f" ]; then continue; fi
      [ -e "$T$f" ] || [ -L "$T$f" ] || continue
      others=$(rpm --root "$T" -qf --qf '%{NAME}\n' "$f" 2>/dev/null | grep -vxF -- "$pkg" | LC_ALL=C sort -u | tr '\n' ' ' || true)
      if [ -n "$others" ]; then
        log "remove-from-packages: keeping $f (also owned by $others)"
      else
        rm -f "$T$f"
        n=$((n + 1))
      fi
    done < <(LC_ALL=C sort -u /tmp/matches)
    log "remove-from-packages: removed $n file(s) of $pkg"
  done < /cf/remove-from-packages
fi

# rpmdb: upstream keeps it in /usr/share/rpm, with compatibility links from the usual places.
if [ -d "$T/usr/lib/sysimage/rpm" ] && [ ! -L "$T/usr/lib/sysimage/rpm" ]; then
  rm -rf "$T/usr/share/rpm"
  mkdir -p "$T/usr/share"
  mv "$T/usr/lib/sysimage/rpm" "$T/usr/share/rpm"
fi
rm -rf "$T/var/lib/rpm"
mkdir -p "$T/var/lib" "$T/usr/lib/sysimage" "$T/usr/lib/rpm/macros.d"
ln -s ../../usr/share/rpm "$T/var/lib/rpm"
rm -rf "$T/usr/lib/sysimage/rpm"
ln -s ../../share/rpm "$T/usr/lib/sysimage/rpm"
printf '%%_dbpath /usr/share/rpm\n' > "$T/usr/lib/rpm/macros.d/macros.rpm-ostree"
chmod 0644 "$T/usr/lib/rpm/macros.d/macros.rpm-ostree"

if [ -s /cf/units ]; then
  wants="$T/etc/systemd/system/multi-user.target.wants"
  mkdir -p "$wants"
  while IFS= read -r u; do
    [ -n "$u" ] || continue
    if [ -e "$wants/$u" ] || [ -L "$wants/$u" ]; then continue; fi
    log "Adding $u to multi-user.target.wants"
    ln -s "/usr/lib/systemd/system/$u" "$wants/$u"
  done < /cf/units
fi

# default-target here, not as an LLB symlink action: that needs BuildKit >= 0.19 (Docker 26.1 has 0.13).
if [ -n "\${CF_DEFAULT_TARGET:-}" ]; then
  mkdir -p "$T/usr/lib/systemd/system"
  ln -sfn "$CF_DEFAULT_TARGET" "$T/usr/lib/systemd/system/default.target"
fi

# mutate-os-release: in the file /etc/os-release resolves to (inside the tree), put the version into
# the VERSION= and PRETTY_NAME= lines in place of the configured string, and add OSTREE_VERSION.
if [ -s /cf/mutate-os-release ]; then
  { IFS= read -r from; IFS= read -r to; } < /cf/mutate-os-release
  osr=/etc/os-release
  for _ in 1 2 3 4 5 6 7 8; do
    [ -L "$T$osr" ] || break
    l=$(readlink "$T$osr")
    case "$l" in /*) osr=$(realpath -sm "$l") ;; *) osr=$(realpath -sm "\${osr%/*}/$l") ;; esac
  done
  [ -f "$T$osr" ] && [ ! -L "$T$osr" ] || { printf 'error: mutate-os-release: /etc/os-release (%s) is not a file in the tree\n' "$osr" >&2; exit 1; }
  FROM=$from TO=$to awk -v q="'" '
    BEGIN { from = ENVIRON["FROM"]; to = ENVIRON["TO"] }
    /^(VERSION|PRETTY_NAME)=/ {
      out = ""; rest = $0
      while ((i = index(rest, from)) > 0) { out = out substr(rest, 1, i - 1) to; rest = substr(rest, i + length(from)) }
      print out rest; next
    }
    { print }
    END { print "OSTREE_VERSION=" q to q }' "$T$osr" > /tmp/os-release
  cat /tmp/os-release > "$T$osr"
  log "mutate-os-release: $osr: $from -> $to"
fi

if [ "\${CF_OPT_USRLOCAL:-var}" = state-overlay ]; then
  req="$T/usr/lib/systemd/system/local-fs.target.requires"
  mkdir -p "$req"
  for u in ostree-state-overlay@usr-lib-opt.service ostree-state-overlay@usr-local.service; do
    ln -sfn "../$u" "$req/$u"
  done
fi
`;

/**
 * Runs one script (postprocess inside the new root, or finalize.d in the builder) with network off
 * and an empty /tmp. stderr is collected and repeated after a one-line summary, so the last lines
 * of a failed step are the script's name, its exit code and what it printed on stderr. The script's
 * stdout goes to our stderr: BuildKit reads the two streams separately, so only one stream keeps
 * the order of what was printed.
 * argv: NAME SCRIPT [KIND] (default "postprocess script"; finalize.d passes "finalize.d script")
 */
export const RUN_SCRIPT_SH = sh`
#!/bin/sh
name=$1
script=$2
kind=\${3:-postprocess script}
"$script" 3>&2 2>/tmp/.cf-stderr 1>&3 3>&-
rc=$?
if [ "$rc" -ne 0 ]; then
  printf '\nerror: %s %s failed with exit code %s. Its stderr:\n' "$kind" "$name" "$rc" >&2
  cat /tmp/.cf-stderr >&2
  exit "$rc"
fi
cat /tmp/.cf-stderr >&2
`;

/**
 * Kernel step inside the new root (bootable trees): depmod and dracut when the tree has them.
 * Env: CF_NO_INITRAMFS (0/1); /.cf/initramfs-args holds dracut's arguments, one per line.
 */
export const KERNEL_SH = sh`
#!/bin/sh
# compose-frontend kernel step (src/compose/postprocess.ts)
set -eu
log() { printf '[kernel] %s\n' "$*" >&2; }
kver=
for v in /usr/lib/modules/*/vmlinuz /boot/vmlinuz-*; do
  [ -f "$v" ] || continue
  case "$v" in
    /boot/*) k=\${v#/boot/vmlinuz-} ;;
    *) k=\${v%/vmlinuz}; k=\${k##*/} ;;
  esac
  if [ -n "$kver" ] && [ "$kver" != "$k" ]; then
    echo "error: Multiple kernels (vmlinuz) found: $kver and $k" >&2
    exit 1
  fi
  kver=$k
done
if [ -z "$kver" ]; then
  log "no kernel found; the final step reports it"
  exit 0
fi
if [ -x /usr/sbin/depmod ] || [ -x /sbin/depmod ]; then
  depmod -a "$kver"
else
  log "depmod not in the tree; modules.dep left as shipped"
fi
if [ "\${CF_NO_INITRAMFS:-0}" = 1 ]; then
  log "no-initramfs: true; not running dracut"
  exit 0
fi
if [ ! -x /usr/bin/dracut ] && [ ! -x /usr/sbin/dracut ]; then
  log "note: dracut is not in the tree; no initramfs generated for $kver"
  exit 0
fi
set --
while IFS= read -r a; do [ -n "$a" ] && set -- "$@" "$a"; done < /.cf/initramfs-args
[ $# -gt 0 ] || set -- --no-hostonly
add=
if [ -d /usr/lib/dracut/modules.d ] && ls -d /usr/lib/dracut/modules.d/*ostree >/dev/null 2>&1; then add='--add ostree'; fi
mkdir -p /var/tmp/cf-dracut
DRACUT_NO_XATTR=1 dracut --reproducible -v $add --tmpdir=/var/tmp/cf-dracut -f "/usr/lib/modules/$kver/initramfs.img" "$@" "$kver"
rm -rf /var/tmp/cf-dracut
chmod 0644 "/usr/lib/modules/$kver/initramfs.img"
`;

/**
 * Final step (root: builder image, tree at /target, /meta from the install step): upstream's
 * postprocess_final + root layout + kernel placement. Env CF_*; inputs in /cf (see postprocess.ts).
 */
export const FINAL_SH = sh`
#!/bin/bash
# compose-frontend postprocess (final): src/compose/postprocess.ts
set -euo pipefail
trap 'printf "error: %s step failed at line %s: %s\\n" final "$LINENO" "$BASH_COMMAND" >&2' ERR
shopt -s dotglob nullglob
T=/target
log() { printf '[final] %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
errors=()

# /etc/default/useradd: homes live in /var/home.
if [ -f "$T/etc/default/useradd" ]; then sed -i 's|^HOME=.*|HOME=/var/home|' "$T/etc/default/useradd"; fi

# Device nodes, FIFOs and sockets cannot be shipped.
while IFS= read -r -d '' f; do
  if [ "\${CF_IGNORE_DEVICES:-1}" = 1 ]; then rm -f "$f"; log "removed special file \${f#$T}"; else errors+=("Unsupported device file: \${f#$T}"); fi
done < <(find "$T" -xdev \( -type b -o -type c -o -type p -o -type s \) -print0)
[ \${#errors[@]} -eq 0 ] || die "\${errors[*]}"

# passwd/group: /etc keeps root (and etc-group-members); everything else goes to /usr/lib.
mkdir -p "$T/usr/lib"
if [ -f "$T/etc/passwd" ]; then
  touch "$T/usr/lib/passwd"
  awk -F: '$3 != 0' "$T/etc/passwd" >> "$T/usr/lib/passwd"
  awk -F: '$3 == 0' "$T/etc/passwd" > /tmp/passwd && cat /tmp/passwd > "$T/etc/passwd"
fi
if [ -f "$T/etc/group" ]; then
  touch "$T/usr/lib/group"
  awk -F: '$3 != 0' "$T/etc/group" >> "$T/usr/lib/group"
  awk -F: -v keep=" \${CF_ETC_GROUP_MEMBERS:-} " '$3 == 0 || index(keep, " " $1 " ") > 0' "$T/etc/group" > /tmp/group
  cat /tmp/group > "$T/etc/group"
fi
if [ -f "$T/etc/nsswitch.conf" ] && [ ! -L "$T/etc/nsswitch.conf" ]; then
  awk '
    /^(passwd|group):/ {
      if ($0 ~ /[ \t]altfiles([ \t]|$)/) { print; next }
      out = $1; ins = 0
      for (i = 2; i <= NF; i++) { if (!ins && $i == "files") { out = out " files altfiles"; ins = 1 } else out = out " " $i }
      if (!ins) out = out " altfiles"
      print out; next
    }
    { print }' "$T/etc/nsswitch.conf" > /tmp/nsswitch && cat /tmp/nsswitch > "$T/etc/nsswitch.conf"
fi

# check-passwd / check-groups (type file or data): /usr/lib/passwd and /usr/lib/group are checked.
ignored() { # list name
  [ -s "$1" ] || return 1
  grep -qxF -e '*' -e "$2" "$1"
}
if [ -s /cf/check-passwd ]; then
  while IFS=: read -r name uid gid; do
    [ -n "$name" ] || continue
    line=$(awk -F: -v n="$name" '$1 == n { print $3 ":" $4; exit }' "$T/usr/lib/passwd")
    if [ -z "$line" ]; then
      if ignored /cf/ignore-removed-users "$name"; then log "Ignored user missing from new passwd file: $name"
      elif [ -z "$(find "$T" -xdev -uid "$uid" -print -quit)" ]; then log "Unused user removed: $name"
      else errors+=("User missing from new passwd file: $name"); fi
      continue
    fi
    [ "\${line%%:*}" = "$uid" ] || errors+=("passwd UID changed: $name ($uid to \${line%%:*})")
    if [ -n "$gid" ] && [ "\${line#*:}" != "$gid" ]; then errors+=("passwd GID changed: $name ($gid to \${line#*:})"); fi
  done < /cf/check-passwd
fi
if [ -s /cf/check-groups ]; then
  while IFS=: read -r name gid; do
    [ -n "$name" ] || continue
    now=$(awk -F: -v n="$name" '$1 == n { print $3; exit }' "$T/usr/lib/group")
    if [ -z "$now" ]; then
      if ignored /cf/ignore-removed-groups "$name"; then log "Ignored group missing from new group file: $name"
      else errors+=("Group missing from new group file: $name"); fi
      continue
    fi
    [ "$now" = "$gid" ] || errors+=("group GID changed: $name ($gid to $now)")
  done < /cf/check-groups
fi
[ \${#errors[@]} -eq 0 ] || die "$(printf '%s; ' "\${errors[@]}")"

# Kernel (bootable trees): exactly one, placed in /usr/lib/modules/$kver.
rm -f /meta/kernel-version
if [ "\${CF_CONTAINER:-0}" = 0 ]; then
  mid=$(cat "$T/etc/machine-id" 2>/dev/null || true)
  if [ -n "$mid" ] && [ -d "$T/boot/$mid" ]; then rm -rf "\${T:?}/boot/$mid"; fi
  rm -rf "$T/boot/loader"
  kver=
  for v in "$T"/usr/lib/modules/*/vmlinuz "$T"/boot/vmlinuz-*; do
    [ -f "$v" ] || continue
    case "$v" in
      "$T"/boot/*) k=\${v#$T/boot/vmlinuz-} ;;
      *) k=\${v%/vmlinuz}; k=\${k##*/} ;;
    esac
    [ -z "$kver" ] || [ "$kver" = "$k" ] || die "Multiple kernels (vmlinuz) found: $kver, $k"
    kver=$k
  done
  [ -n "$kver" ] || die "Unable to find kernel (vmlinuz) in /usr/lib/modules/<kver>/ or /boot; use container: true for a non-bootable tree"
  mod="$T/usr/lib/modules/$kver"
  mkdir -p "$mod"
  [ -f "$mod/vmlinuz" ] || mv "$T/boot/vmlinuz-$kver" "$mod/vmlinuz"
  if [ ! -f "$mod/initramfs.img" ] && [ -f "$T/boot/initramfs-$kver.img" ]; then mv "$T/boot/initramfs-$kver.img" "$mod/initramfs.img"; fi
  [ -f "$mod/initramfs.img" ] || log "no initramfs for $kver (dracut not in the tree, or no-initramfs)"
  if [ "\${CF_MACHINEID_COMPAT:-1}" = 1 ]; then : > "$T/etc/machine-id"; chmod 0444 "$T/etc/machine-id"; else rm -f "$T/etc/machine-id"; fi
  if [ "\${CF_BOOT_LOCATION:-new}" = new ]; then
    sum=$(cat "$mod/vmlinuz" $( [ -f "$mod/initramfs.img" ] && echo "$mod/initramfs.img") | sha256sum | cut -d' ' -f1)
    mkdir -p "$T/usr/lib/ostree-boot"
    cp -p "$mod/vmlinuz" "$T/usr/lib/ostree-boot/vmlinuz-$kver-$sum"
    [ -f "$mod/initramfs.img" ] && cp -p "$mod/initramfs.img" "$T/usr/lib/ostree-boot/initramfs-$kver.img-$sum"
  fi
  rm -rf "$T"/boot/*
  mkdir -p "$T/boot"
  printf '%s\n' "$kver" > /meta/kernel-version
  log "kernel $kver"
fi

# Root layout (upstream compose_prepare_rootfs): a fixed top level; everything else is dropped.
transient=0
if grep -qsE '^[[:space:]]*transient[[:space:]]*=[[:space:]]*(true|yes|1)' "$T/usr/lib/ostree/prepare-root.conf"; then transient=1; fi
if [ $transient = 1 ]; then
  [ "\${CF_TMP_IS_DIR:-0}" = 1 ] || die "Transient root conflicts with tmp-is-dir: false"
  for d in opt media mnt usr/local; do
    if [ -L "$T/$d" ] || { [ -e "$T/$d" ] && [ ! -d "$T/$d" ]; }; then rm -f "$T/$d"; fi
    mkdir -p "$T/$d"
  done
else
  opt=\${CF_OPT_USRLOCAL:-var}
  if [ -d "$T/opt" ] && [ ! -L "$T/opt" ] && [ "$opt" != root ]; then
    for e in "$T"/opt/*; do
      n=\${e##*/}
      mkdir -p "$T/usr/lib/opt"
      rm -rf "$T/usr/lib/opt/$n"
      mv "$e" "$T/usr/lib/opt/$n"
      [ "$opt" = var ] && printf 'L /var/opt/%s - - - - ../../usr/lib/opt/%s\n' "$n" "$n" >> /tmp/opt-tmpfiles
      log "moved /opt/$n to /usr/lib/opt/$n"
    done
  fi
  for e in "$T"/*; do
    n=\${e##*/}
    case "$n" in
      usr|boot|var|etc|lib|lib64|lib32|bin|sbin) ;;
      opt) [ "$opt" = root ] && [ -d "$e" ] && [ ! -L "$e" ] || rm -rf "$e" ;;
      dev|proc|run|sys|sysroot|tmp) rm -rf "$e" ;;
      home|root|srv|mnt|media|ostree) rm -rf "$e" ;;
      *) log "dropping top-level /$n"; rm -rf "$e" ;;
    esac
  done
  chmod 0755 "$T"
  for d in dev proc run sys var sysroot; do mkdir -p "$T/$d"; chmod 0755 "$T/$d"; done
  if [ "\${CF_TMP_IS_DIR:-0}" = 1 ]; then mkdir -p "$T/tmp"; chmod 1777 "$T/tmp"; else ln -s sysroot/tmp "$T/tmp"; fi
  ln -s var/roothome "$T/root"
  ln -s var/home "$T/home"
  ln -s sysroot/ostree "$T/ostree"
  ln -s var/srv "$T/srv"
  ln -s var/mnt "$T/mnt"
  ln -s run/media "$T/media"
  case "$opt" in
    var) ln -s var/opt "$T/opt" ;;
    root) mkdir -p "$T/opt" ;;
    state-overlay) ln -s usr/lib/opt "$T/opt" ;;
  esac
  # /usr/local (upstream rootfs_prepare_links)
  if [ "$opt" = root ] || [ -L "$T/usr/lib/systemd/system/local-fs.target.requires/ostree-state-overlay@usr-local.service" ]; then
    mkdir -p "$T/usr/local"
  else
    rm -rf "$T/usr/local"
    ln -s ../var/usrlocal "$T/usr/local"
  fi
fi
for n in alternatives vagrant; do
  if [ -d "$T/var/lib/$n" ] && [ ! -L "$T/var/lib/$n" ]; then
    rm -rf "$T/usr/lib/$n"
    mv "$T/var/lib/$n" "$T/usr/lib/$n"
    ln -s "../../usr/lib/$n" "$T/var/lib/$n"
  fi
done

# tmpfiles.d integration (upstream's rpm-ostree-0-integration*.conf).
mkdir -p "$T/usr/lib/tmpfiles.d"
cp /cf/integration.conf "$T/usr/lib/tmpfiles.d/rpm-ostree-0-integration.conf"
if [ "\${CF_OPT_USRLOCAL:-var}" = state-overlay ]; then
  cp /cf/integration-opt-usrlocal-compat.conf "$T/usr/lib/tmpfiles.d/rpm-ostree-0-integration-opt-usrlocal-compat.conf"
else
  cp /cf/integration-opt-usrlocal.conf "$T/usr/lib/tmpfiles.d/rpm-ostree-0-integration-opt-usrlocal.conf"
fi
chmod 0644 "$T"/usr/lib/tmpfiles.d/rpm-ostree-0-integration*.conf

# /var content becomes tmpfiles.d entries (upstream var_to_tmpfiles), then /var is emptied.
rm -rf "$T/var/run"
for f in var/lib/systemd/random-seed var/lib/systemd/catalog/database var/lib/plymouth/boot-duration var/log/wtmp var/log/btmp; do
  rm -f "$T/$f"
done
cat "$T"/usr/lib/tmpfiles.d/*.conf 2>/dev/null | awk '!/^[[:space:]]*(#|$)/ { print $2 }' | LC_ALL=C sort -u > /tmp/declared
{
  find "$T/var" -mindepth 1 \( -type d -o -type l -o -type f \) -printf '%y\t%m\t%U\t%G\t%P\t%l\n'
  if [ -f /tmp/opt-tmpfiles ]; then awk '{ print "X\t" $0 }' /tmp/opt-tmpfiles; fi
} | awk -F'\t' -v pw="$T/etc/passwd $T/usr/lib/passwd" -v gr="$T/etc/group $T/usr/lib/group" -v declared=/tmp/declared '
  BEGIN {
    n = split(pw, f, " "); for (i = 1; i <= n; i++) while ((getline l < f[i]) > 0) { split(l, p, ":"); if (!(p[3] in user)) user[p[3]] = p[1] }
    n = split(gr, f, " "); for (i = 1; i <= n; i++) while ((getline l < f[i]) > 0) { split(l, p, ":"); if (!(p[3] in group)) group[p[3]] = p[1] }
    while ((getline l < declared) > 0) known[l] = 1
  }
  $1 == "X" { sub(/^X\t/, ""); split($0, q, " "); if (!(q[2] in known)) print; next }
  {
    path = "/var/" $5
    if (path ~ /^\/var\/run\//) path = substr(path, 5)
    if (path in known) next
    if ($1 == "f" && path !~ /^\/var\/lib\/nfs\//) { print "Ignoring non-directory/non-symlink " path > "/dev/stderr"; next }
    u = ($3 in user) ? user[$3] : $3; g = ($4 in group) ? group[$4] : $4
    if ($1 == "l") print "L " path " - - - - " $6
    else { m = $2; while (length(m) < 4) m = "0" m; print ($1 == "d" ? "d" : "f") " " path " " m " " u " " g " - -" }
  }
' | LC_ALL=C sort -u > /tmp/autovar
if [ -s /tmp/autovar ]; then
  { echo '# This file was generated by compose-frontend from /var content.'; cat /tmp/autovar; } > "$T/usr/lib/tmpfiles.d/rpm-ostree-1-autovar.conf"
  chmod 0644 "$T/usr/lib/tmpfiles.d/rpm-ostree-1-autovar.conf"
  log "$(wc -l < /tmp/autovar) /var entries converted to tmpfiles.d"
fi
rm -rf "$T"/var/*

# rpmdb leftovers; sqlite without WAL files (upstream rpmdb-normalize's always-part).
if [ -d "$T/usr/share/rpm" ]; then
  rm -f "$T/usr/share/rpm/.dbenv.lock" "$T/usr/share/rpm/.rpm.lock" "$T"/usr/share/rpm/__db.*
  if [ -f "$T/usr/share/rpm/rpmdb.sqlite" ] && command -v sqlite3 >/dev/null; then
    sqlite3 "$T/usr/share/rpm/rpmdb.sqlite" 'PRAGMA journal_mode=DELETE;' >/dev/null
  fi
  rm -f "$T/usr/share/rpm/rpmdb.sqlite-shm" "$T/usr/share/rpm/rpmdb.sqlite-wal"
fi
rm -f "$T"/etc/passwd- "$T"/etc/group- "$T"/etc/shadow- "$T"/etc/gshadow- "$T"/etc/.pwd.lock "$T"/etc/subuid- "$T"/etc/subgid-

if [ "\${CF_READONLY_EXECUTABLES:-0}" = 1 ]; then
  find "$T" -xdev -type f -perm /111 -perm /222 -exec chmod a-w {} +
fi

# Base rpmdb for client-side layering (upstream hardlink_rpmdb_base_location).
if [ -d "$T/usr/share/rpm" ]; then
  rm -rf "$T/usr/lib/sysimage/rpm-ostree-base-db"
  mkdir -p "$T/usr/lib/sysimage/rpm-ostree-base-db"
  chmod 0755 "$T/usr/lib/sysimage/rpm-ostree-base-db"
  cp -al "$T/usr/share/rpm/." "$T/usr/lib/sysimage/rpm-ostree-base-db/"
fi

# Input hash: treefile + external files + lockfile (hashed by the frontend) + the package set.
{ cat /cf/inputhash-input; cat /meta/packages; } | sha256sum | cut -d' ' -f1 > /meta/inputhash
log "inputhash $(cat /meta/inputhash)"
`;
