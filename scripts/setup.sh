#!/usr/bin/env bash
# Installs everything the demo and the tests need on a fresh Debian bookworm machine (root).
# Idempotent: each step is skipped when its result is already present.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*" >&2; }

# Newest release whose whole dependency set the Go module proxy serves here (v0.34.x pulls
# github.com/moby/policy-helpers and go-actions-cache versions the proxy refuses).
BUILDKIT_VERSION="${BUILDKIT_VERSION:-v0.33.1}"
export DEBIAN_FRONTEND=noninteractive

# --- Debian packages: trixie added with a low pin, used only where named with -t trixie ---
if [ ! -f /etc/apt/sources.list.d/trixie.sources ]; then
  log "adding Debian trixie (pinned low)"
  cat > /etc/apt/sources.list.d/trixie.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  cat > /etc/apt/preferences.d/trixie-low <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
  rm -f /var/lib/apt/.cf-updated
fi
if [ ! -f /var/lib/apt/.cf-updated ]; then apt-get update -qq; touch /var/lib/apt/.cf-updated; fi

need_trixie=()
# docker-cli: the 26.1 client matching the engine (a newer CLI elsewhere on PATH may shadow it; the
# harness calls /usr/bin/docker explicitly). ostree: reads back OSTree commits inside images.
# libostree-dev: builds the ostree-ext importer (crates.io) that checks build-chunked-oci output.
for p in docker.io docker-cli docker-buildx skopeo umoci ostree libostree-dev; do dpkg -s "$p" >/dev/null 2>&1 || need_trixie+=("$p"); done
if [ ${#need_trixie[@]} -gt 0 ]; then
  log "installing from trixie: ${need_trixie[*]}"
  apt-get install -y -qq -t trixie --no-install-recommends "${need_trixie[@]}" >/dev/null
fi
need=()
# debootstrap: Debian images for tests and the demo; rpm/createrepo-c/busybox-static: test RPMs and repos;
# apache2-utils/openssl: registry auth tests; python3-gi: GVariant checked against GLib; dpkg-dev: changelogs.
for p in docker-registry runc jq curl rsync attr xz-utils zstd ca-certificates debootstrap rpm createrepo-c \
  busybox-static apache2-utils openssl python3-gi gir1.2-glib-2.0 dpkg-dev pkg-config; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  log "installing: ${need[*]}"
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- standalone BuildKit, built from source with the Go toolchain ---
GOBIN_DIR="$PWD/.cache/go/bin"
have_buildkit() {
  [ -x "$GOBIN_DIR/buildkitd" ] && [ -x "$GOBIN_DIR/buildctl" ] &&
    "$GOBIN_DIR/buildkitd" --version | grep -qF " $BUILDKIT_VERSION " &&
    "$GOBIN_DIR/buildctl" --version | grep -qF " $BUILDKIT_VERSION "
}
if ! have_buildkit; then
  command -v go >/dev/null || { log "error: Go toolchain not found (buildkit $BUILDKIT_VERSION needs the go version its go.mod names)"; exit 1; }
  log "building buildkitd and buildctl $BUILDKIT_VERSION (go build, ~4 min on 2 cores)"
  mkdir -p "$GOBIN_DIR"
  # `go install pkg@version` refuses buildkit (its go.mod has exclude directives), so fetch the
  # module from the Go proxy and build inside a writable copy of it.
  src=$(GOFLAGS=-mod=mod go mod download -json "github.com/moby/buildkit@$BUILDKIT_VERSION" | jq -r .Dir)
  work=$(mktemp -d); cp -r "$src/." "$work"; chmod -R u+w "$work"
  # Stamp the version (BUILDKIT_WORKERS/buildctl debug info report it; default is v0.0.0+unknown).
  ldflags="-X github.com/moby/buildkit/version.Version=$BUILDKIT_VERSION -X github.com/moby/buildkit/version.Revision=$BUILDKIT_VERSION"
  (cd "$work" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$GOBIN_DIR/" ./cmd/buildkitd ./cmd/buildctl) \
    >.cache/go-build.log 2>&1 || { tail -n 30 .cache/go-build.log >&2; log "error: go build failed (.cache/go-build.log)"; exit 1; }
  rm -rf "$work"
  have_buildkit || { log "error: built buildkit does not report $BUILDKIT_VERSION"; exit 1; }
fi

# --- npm dependencies (Node 24 comes from the npm package "node") ---
if [ -f package.json ] && { [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  log "npm ci"; mkdir -p .cache
  if ! npm ci --no-audit --no-fund >.cache/npm-ci.log 2>&1; then
    # The registry here serves no darwin/win32/armv7 builds of @bufbuild/buf, so the lock file lacks
    # those optional entries and `npm ci` calls it out of sync. `npm install` resolves the same tree
    # from the lock; it must leave the lock file byte-identical.
    grep -q 'EUSAGE' .cache/npm-ci.log || { tail -n 20 .cache/npm-ci.log >&2; exit 1; }
    log "npm ci refused the lock file (missing optional platform packages); using npm install"
    cp package-lock.json .cache/package-lock.json.orig
    npm install --no-audit --no-fund >.cache/npm-install.log 2>&1 || { tail -n 20 .cache/npm-install.log >&2; exit 1; }
    if ! cmp -s package-lock.json .cache/package-lock.json.orig; then
      cp .cache/package-lock.json.orig package-lock.json
      log "error: npm install wanted to change package-lock.json (restored); the lock needs regenerating"
      exit 1
    fi
  fi
  "$PWD/node_modules/.bin/node" --version | grep -q '^v24\.' || { log "error: node_modules/.bin/node is not Node 24"; exit 1; }
fi
log "ready"
