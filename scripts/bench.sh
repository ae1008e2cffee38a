#!/usr/bin/env bash
# Benchmarks (not part of the tests): each figure is printed beside a baseline measured in the same run.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/setup.sh
bun=node_modules/.bin/bun
echo "== GET throughput (bench/http.ts)"; "$bun" bench/http.ts
echo "== 256 MiB upload (bench/upload.ts)"; "$bun" bench/upload.ts
echo "== ingest paths (bench/ingest.ts)"; "$bun" bench/ingest.ts
echo "== event stream (bench/events.ts)"; "$bun" bench/events.ts
echo "== footprint: memory, start-up, flash (bench/footprint.ts)"; "$bun" bench/footprint.ts
echo "== idle CPU, examples running (bench/idle-cpu.ts)"; "$bun" bench/idle-cpu.ts
