#!/usr/bin/env bash
# Generate the static protobuf code, its TypeScript definitions and its JSON descriptor from proto/ (protobufjs-cli:
# pbjs -t static-module, pbts, pbjs -t json). The output is committed (bun --compile and the Yocto recipe use it
# as it is); test/unit/events-proto.test.ts fails when it is stale.
# Usage: gen-proto.sh [output-dir]   (default src/events/generated)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/src/events/generated}
mkdir -p "$out"
"$top/node_modules/.bin/pbjs" -t static-module -w es6 --no-service --no-typeurl --no-verify \
  --dependency protobufjs/minimal.js -o "$out/events.js" "$top/proto/pvctrl/events.proto"
"$top/node_modules/.bin/pbts" --no-comments -o "$out/events.d.ts" "$out/events.js"
# The descriptor (pbjs -t json): NDJSON and SSE take their JSON shape from it (src/events/json-shape.ts),
# so those formats need no protobufjs at run time.
"$top/node_modules/.bin/pbjs" -t json -o "$out/events.json" "$top/proto/pvctrl/events.proto"
