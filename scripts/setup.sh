#!/usr/bin/env bash
# Install whatever pv-ctrl needs and is missing: Debian packages, npm packages, the native addon.
# Idempotent: a second run only checks. Needs root for apt (as on the devices' build hosts and CI).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# Build tools for the addon, and what the runtime, examples and target builds use.
packages=(cmake g++ make python3 libssl-dev pkg-config tar gzip curl
  lxc lxc-dev libkmod-dev busybox-static squashfs-tools qemu-user-static dropbear-bin)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages (${missing[*]}); run as root so they can be installed" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# npm packages, pinned by package-lock.json; reinstall only when the lock changed.
stamp=node_modules/.pvctrl-lock-stamp
if [ ! -x node_modules/.bin/bun ] || [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund >&2
  cp package-lock.json "$stamp"
fi

bash scripts/build-native.sh >&2
