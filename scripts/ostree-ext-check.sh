#!/usr/bin/env bash
# Builds `ostree-ext-check`, a tiny wrapper around the real ostree-ext importer (crates.io) that
# pulls an image into an ostree repo the way `ostree container image pull` / bootc do:
#
#   .cache/ostree-ext-check/target/release/ostree-ext-check REPO IMGREF
#     IMGREF = ostree-unverified-image:oci:/path/to/layout
#            | ostree-remote-image:REMOTE:oci:/path/to/layout   (verifies the commit signature)
#   prints one JSON line: {"base_commit":…,"merge_commit":…,"layers":N}
#
# Needs: cargo/rustc, libostree-dev (trixie: apt-get install -t trixie libostree-dev), pkg-config,
# and at run time skopeo (the importer talks to `skopeo experimental-image-proxy`).
# Prints the binary path on stdout. The Cargo project is written here, not checked in.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.cache/ostree-ext-check
bin=$dir/target/release/ostree-ext-check
version=0.15.3

pkg-config --exists ostree-1 || { echo "ostree-ext-check: libostree-dev is missing (apt-get install -t trixie libostree-dev)" >&2; exit 1; }
mkdir -p "$dir/src"

cat >"$dir/Cargo.toml.new" <<EOF
[package]
name = "ostree-ext-check"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
ostree-ext = "=$version"
tokio = { version = "1", features = ["rt", "macros"] }
anyhow = "1"

[profile.release]
opt-level = 1
debug = false
incremental = false
EOF

cat >"$dir/src/main.rs.new" <<'EOF'
// Imports an image with ostree-ext's ImageImporter (what `ostree container image pull` runs).
use anyhow::{bail, Context, Result};
use ostree_ext::container::store::{ImageImporter, PrepareResult};
use ostree_ext::container::OstreeImageReference;
use ostree_ext::{gio, ostree};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        bail!("usage: ostree-ext-check REPO IMGREF");
    }
    let repo = ostree::Repo::new_for_path(&args[1]);
    repo.open(gio::Cancellable::NONE).with_context(|| format!("opening repo {}", args[1]))?;
    let imgref: OstreeImageReference = args[2].as_str().try_into()?;
    let mut importer = ImageImporter::new(&repo, &imgref, Default::default()).await?;
    let state = match importer.prepare().await? {
        PrepareResult::AlreadyPresent(s) => s,
        PrepareResult::Ready(prep) => importer.import(prep).await?,
    };
    println!(
        "{{\"base_commit\":\"{}\",\"merge_commit\":\"{}\",\"layers\":{}}}",
        state.base_commit,
        state.merge_commit,
        state.manifest.layers().len()
    );
    Ok(())
}
EOF

# Only touch the sources when they change, so cargo keeps its cache.
for f in Cargo.toml src/main.rs; do
  if cmp -s "$dir/$f.new" "$dir/$f"; then rm "$dir/$f.new"; else mv "$dir/$f.new" "$dir/$f"; fi
done

start=$(date +%s)
(cd "$dir" && cargo build --release --quiet) >&2
echo "ostree-ext-check: built in $(( $(date +%s) - start ))s" >&2
echo "$PWD/$bin"
