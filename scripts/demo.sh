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
# Exit 4 is REBOOT_DEVICE: start again, like a device coming back up; 3 (POWEROFF_DEVICE) and
# anything else end the demo.
while :; do
  code=0
  bin/pv-ctrl "${args[@]}" "$@" || code=$?
  [ "$code" = 4 ] || exit "$code"
  echo "pv-ctrl demo: reboot requested, starting again" >&2
done
