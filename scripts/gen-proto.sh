#!/usr/bin/env bash
# Regenerate src/gen/ (TypeScript protobuf types + grpc-js LLBBridge client)
# from our trimmed protos in proto/, using only npm-installed tools:
# buf (own compiler, no protoc) drives the ts-proto plugin; options live in
# buf.gen.yaml. Generated files are committed; rerun after editing proto/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# The plugin's "#!/usr/bin/env node" must resolve to the project's Node 24.
export PATH="$root/node_modules/.bin:$PATH"
for tool in buf protoc-gen-ts_proto node; do
  [[ -x "node_modules/.bin/$tool" ]] || { echo "gen-proto: node_modules/.bin/$tool missing (npm ci first)" >&2; exit 1; }
done
# Keep buf's module cache inside the project cache when HOME is not writable.
export BUF_CACHE_DIR="${BUF_CACHE_DIR:-$root/.cache/buf}"
node_modules/.bin/buf build            # fails fast with file:line on proto errors
node_modules/.bin/buf generate         # buf.gen.yaml has clean: true (src/gen is fully owned)
echo "gen-proto: wrote $(find src/gen -name '*.ts' | wc -l) files under src/gen/"
