#!/usr/bin/env bash
# Run pv-ctrl as a demo device: storage and socket in ./.pv/demo, first boot from examples/pvtx.d.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/setup.sh
demo="$top/.pv/demo"
mkdir -p "$demo"
args=(--storage "$demo/storage" --rundir "$demo/run")
if compgen -G "examples/pvtx.d/*.pvrexport.tgz" >/dev/null; then args+=(--pvtx-dir "$top/examples/pvtx.d"); fi
echo "pv-ctrl demo: socket $demo/run/pv-ctrl — try: bin/pvcontrol -s $demo/run/pv-ctrl steps ls" >&2
exec bin/pv-ctrl "${args[@]}" "$@"
