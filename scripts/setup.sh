#!/usr/bin/env bash
# Install whatever pv-ctrl needs and is missing: Debian packages, npm packages, the native addon.
# Idempotent: a second run only checks. Needs root for apt (as on the devices' build hosts and CI).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# Build tools for the addon, and what the runtime, examples and target builds use.
packages=(cmake g++ make python3 libssl-dev pkg-config tar gzip curl
  lxc lxc-dev libkmod-dev kmod busybox-static squashfs-tools qemu-user-static dropbear-bin
  g++-aarch64-linux-gnu
  netcat-openbsd strace protobuf-compiler
  socat systemd  # test/integration/systemd.test.ts (NOTIFY_SOCKET receiver, systemd-socket-activate), systemd-analyze verify
  prometheus)  # promtool checks GET /metrics (test/integration/metrics.test.ts)
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

# --- Target builds (npm run build:targets, test/integration/aarch64-smoke.test.ts) ---------------
# Debian's arm64 architecture: the libraries the aarch64 addon links against (cross-compiled with
# g++-aarch64-linux-gnu above) and that qemu-aarch64-static runs the aarch64 daemon with.
# lxc-dev:arm64 cannot be installed next to the amd64 one; liblxc1:arm64 is enough (the lxc headers
# do not depend on the architecture). Only on amd64 build machines.
arm64_packages=(libc6:arm64 libstdc++6:arm64 libssl-dev:arm64 liblxc1:arm64 libkmod-dev:arm64)
if [ "$(dpkg --print-architecture)" = amd64 ]; then
  arm64_missing=()
  for package in "${arm64_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || arm64_missing+=("$package")
  done
  if [ ${#arm64_missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "setup: missing Debian arm64 packages (${arm64_missing[*]}); run as root so they can be installed" >&2
      exit 1
    fi
    dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
    echo "setup: installing ${arm64_missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${arm64_missing[@]}" >&2
  fi
fi
# ------------------------------------------------------------------------------------------------

# npm packages, pinned by package-lock.json; reinstall only when the lock changed.
stamp=node_modules/.pvctrl-lock-stamp
if [ ! -x node_modules/.bin/bun ] || [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund >&2
  cp package-lock.json "$stamp"
fi

# Bun runtimes for the target builds (@oven/bun-linux-* at the pinned Bun version), installed with
# npm --force into a cache outside node_modules; a no-op once they are there.
node_modules/.bin/bun scripts/build-targets.ts --prepare >&2

bash scripts/gen-proto.sh >&2
bash scripts/build-native.sh >&2
