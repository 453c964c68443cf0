#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine: the pinned Deno (from npm) and the
# software Vulkan driver that lets WebGPU run without a GPU. Safe to run again.
set -euo pipefail
DENO_VERSION=2.9.6
if ! command -v deno >/dev/null 2>&1 || [ "$(deno --version | head -n1 | awk '{print $2}')" != "$DENO_VERSION" ]; then
  npm install -g --silent "deno@${DENO_VERSION}" >&2
fi
missing=()
for pkg in mesa-vulkan-drivers chromium; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}" >&2
fi
