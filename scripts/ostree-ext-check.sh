#!/usr/bin/env bash
# Builds `ostree-ext-check`, a tiny wrapper around the real ostree-ext importer (crates.io) that
# pulls an image into an ostree repo the way `ostree container image pull` / bootc do:
#
#   .cache/ostree-ext-check/target/release/ostree-ext-check REPO IMGREF
#     IMGREF = ostree-unverified-image:oci:/path/to/layout
#            | ostree-remote-image:REMOTE:oci:/path/to/layout   (verifies the commit signature)
#   prints one JSON line: {"base_commit":…,"merge_commit":…,"layers":N}
#
#   scripts/ostree-ext-check.sh --encapsulate   builds the exporter wrapper instead (see below)
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

# cargo_toml NAME OPT_LEVEL [EXTRA_DEPENDENCY_LINE]: the manifest of one of the two helper crates.
cargo_toml() {
  printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n' "$1"
  printf '[dependencies]\nostree-ext = "=%s"\ntokio = { version = "1", features = ["rt", "macros"] }\nanyhow = "1"\n' "$version"
  if [ -n "${3:-}" ]; then printf '%s\n' "$3"; fi
  printf '\n[profile.release]\nopt-level = %s\ndebug = false\nincremental = false\n' "$2"
}

# --- `--encapsulate`: the exporter side, for bench/ostree-export.ts -------------------------------
# `.cache/ostree-ext-encap/target/release/ostree-ext-encap REPO REV OCIDIR [MAX_LAYERS [DEPTH]]`
# runs ostree-ext's container::encapsulate (what rpm-ostree compose container-encapsulate and
# build-chunked-oci run after their commit) into oci:OCIDIR. With MAX_LAYERS, the content is mapped
# to components the way a rootfs without a package database would be: every file belongs to its
# parent directory cut to DEPTH components (default 3), so ostree-ext's packer makes up to
# MAX_LAYERS layers. Prints one JSON line with the manifest digest and phase timings.
# Built with the release profile at opt-level 3 (unlike the importer) so the comparison is fair.
build_encapsulate() {
  local dir=.cache/ostree-ext-encap
  local bin=$dir/target/release/ostree-ext-encap
  mkdir -p "$dir/src"
  # Start from the importer's lock file so the same crate versions are used (and nothing new is fetched).
  if [ ! -f "$dir/Cargo.lock" ] && [ -f .cache/ostree-ext-check/Cargo.lock ]; then
    sed 's/^name = "ostree-ext-check"$/name = "ostree-ext-encap"/' .cache/ostree-ext-check/Cargo.lock >"$dir/Cargo.lock"
  fi
  cargo_toml ostree-ext-encap 3 'indexmap = "2"' >"$dir/Cargo.toml.new"

  cat >"$dir/src/main.rs.new" <<'EOF'
// Encapsulates an ostree commit as a chunked container image with ostree-ext (the exporter).
use anyhow::{bail, Context, Result};
use indexmap::IndexMap;
use ostree_ext::chunking::ObjectMetaSized;
use ostree_ext::container::{encapsulate, Config, ExportOpts, ImageReference, Transport};
use ostree_ext::objectsource::{ContentID, ObjectMeta, ObjectMetaSet, ObjectSourceMeta};
use ostree_ext::{gio, ostree};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::rc::Rc;
use std::time::Instant;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Every content object of the dirtree `tree` (at `path`) → component (parent dir cut to `depth`).
fn walk(repo: &ostree::Repo, tree: &str, path: &mut Vec<String>, depth: usize, out: &mut HashMap<String, String>) -> Result<()> {
    let v = repo.load_variant(ostree::ObjectType::DirTree, tree)?;
    let key = if path.is_empty() { "root".to_string() } else { path[..path.len().min(depth)].join("/") };
    for f in v.child_value(0).iter() {
        let csum = hex(f.child_value(1).fixed_array::<u8>()?);
        out.entry(csum).or_insert_with(|| key.clone());
    }
    for d in v.child_value(1).iter() {
        let name = d.child_value(0).str().context("dirtree name")?.to_string();
        let sub = hex(d.child_value(1).fixed_array::<u8>()?);
        path.push(name);
        walk(repo, &sub, path, depth, out)?;
        path.pop();
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 || args.len() > 6 {
        bail!("usage: ostree-ext-encap REPO REV OCIDIR [MAX_LAYERS [DEPTH]]");
    }
    let t0 = Instant::now();
    let repo = ostree::Repo::new_for_path(&args[1]);
    repo.open(gio::Cancellable::NONE).with_context(|| format!("opening repo {}", args[1]))?;
    let commit = repo.require_rev(&args[2])?;
    let max_layers = args.get(4).map(|s| s.parse::<u32>()).transpose()?.and_then(NonZeroU32::new);
    let depth = args.get(5).map(|s| s.parse::<usize>()).transpose()?.unwrap_or(3);

    let mut sized = None;
    let mut components = 0;
    if max_layers.is_some() {
        let (commit_v, _) = repo.load_commit(&commit)?;
        let root_tree = hex(commit_v.child_value(6).fixed_array::<u8>()?);
        let mut objects = HashMap::new();
        walk(&repo, &root_tree, &mut Vec::new(), depth, &mut objects)?;
        let mut set = ObjectMetaSet::new();
        let mut ids: HashMap<String, ContentID> = HashMap::new();
        let mut sorted: Vec<_> = objects.into_iter().collect();
        sorted.sort();
        let mut map = IndexMap::new();
        for (csum, comp) in sorted {
            let id = ids.entry(comp.clone()).or_insert_with(|| Rc::from(comp.as_str())).clone();
            set.insert(ObjectSourceMeta { identifier: id.clone(), name: id.clone(), srcid: id.clone(), change_time_offset: 0, change_frequency: 1 });
            map.insert(csum, id);
        }
        components = ids.len();
        sized = Some(ObjectMetaSized::compute_sizes(&repo, ObjectMeta { set, map })?);
    }
    let t_map = t0.elapsed().as_secs_f64();

    let mut opts = ExportOpts::default();
    opts.max_layers = max_layers;
    opts.contentmeta = sized.as_ref();
    let dest = ImageReference { transport: Transport::OciDir, name: args[3].clone() };
    let digest = encapsulate(&repo, &commit, &Config::default(), Some(opts), &dest).await?;
    println!(
        "{{\"digest\":\"{}\",\"commit\":\"{}\",\"components\":{},\"map_seconds\":{:.3},\"total_seconds\":{:.3}}}",
        digest, commit, components, t_map, t0.elapsed().as_secs_f64()
    );
    Ok(())
}
EOF
  for f in Cargo.toml src/main.rs; do
    if cmp -s "$dir/$f.new" "$dir/$f"; then rm "$dir/$f.new"; else mv "$dir/$f.new" "$dir/$f"; fi
  done
  local start
  start=$(date +%s)
  (cd "$dir" && cargo build --release --quiet) >&2
  echo "ostree-ext-encap: built in $(( $(date +%s) - start ))s" >&2
  echo "$PWD/$bin"
}
if [ "${1:-}" = --encapsulate ]; then
  build_encapsulate
  exit 0
fi
mkdir -p "$dir/src"

cargo_toml ostree-ext-check 1 >"$dir/Cargo.toml.new"

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
