#!/usr/bin/env bash
# The real-GPU benchmark, for a Linux machine with an NVIDIA GPU and no display:
#
#     bash bench/gpu/run.sh [--allow-fallback] [flags of bench/gpu/bench.ts ...]
#
# 1. installs what Deno's WebGPU needs where it is missing (Debian/Ubuntu: libvulkan1; vulkan-tools
#    too with GPU_BENCH_INSTALL_TOOLS=1), finds the NVIDIA Vulkan ICD (/usr/share/vulkan/icd.d/ or
#    /etc/vulkan/icd.d/; in a container without one, writes one for the driver's libGLX_nvidia.so.0)
#    and pins Vulkan to it, so a software driver (llvmpipe) cannot be picked instead;
# 2. installs Deno 2.9.6 from npm if missing (as tools/setup.sh does);
# 3. probes WebGPU (bench/gpu/probe.ts) and stops with exit code 3 and a clear message when there is
#    no hardware (non-fallback) adapter;
# 4. runs bench/gpu/bench.ts (MNIST and a synthetic 4×64×64 latent network on webgpu, native and
#    wasm at batch 1, 16, 256) within a time budget: the whole script stays under 8 minutes, and
#    the results (bench/results/gpu/gpu_bench.json and .md) are rewritten after every cell.
#
# GPU_BENCH_NO_INSTALL=1: install nothing (warn instead). --allow-fallback: benchmark a software
# adapter anyway (a smoke test; pass small --batches/--budget-s with it).
set -euo pipefail
cd "$(dirname "$0")/../.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
DENO_VERSION=2.9.6
TOTAL_S=450 # hard limit for the whole script (< 8 min)
START=$(date +%s)
log() { echo "gpu bench: $*" >&2; }
die() {
  echo "gpu bench: error: $1" >&2
  exit "${2:-1}"
}

ALLOW_FALLBACK=0
for a in "$@"; do [ "$a" = "--allow-fallback" ] && ALLOW_FALLBACK=1; done

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
apt_install() {
  if [ "${GPU_BENCH_NO_INSTALL:-0}" = "1" ]; then
    log "warning: $* missing, not installed (GPU_BENCH_NO_INSTALL=1)"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "$* missing and no apt-get here: install it by hand"
  log "installing $*"
  $SUDO apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$@" >&2
}

# 1. Vulkan loader (Deno's WebGPU runs on Vulkan on Linux), and optionally vulkaninfo.
has_vulkan_loader() {
  # (no `grep -q` in a pipe: with pipefail, its early exit would fail the pipe)
  ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null ||
    ls /usr/lib/*/libvulkan.so.1 /usr/lib64/libvulkan.so.1 /lib/*/libvulkan.so.1 >/dev/null 2>&1
}
if ! has_vulkan_loader; then apt_install libvulkan1; fi
if ! command -v vulkaninfo >/dev/null 2>&1 && [ "${GPU_BENCH_INSTALL_TOOLS:-0}" = "1" ]; then
  apt_install vulkan-tools || log "warning: vulkan-tools not installed"
fi

NVSMI=""
if command -v nvidia-smi >/dev/null 2>&1; then
  NVSMI=$(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n1 || true)
  log "nvidia-smi: ${NVSMI:-(no answer)}"
else
  log "nvidia-smi not found: no NVIDIA driver visible on this machine"
fi
ICD=""
for f in /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json /usr/share/vulkan/icd.d/nvidia*.json; do
  if [ -f "$f" ]; then
    ICD="$f"
    break
  fi
done
if [ -z "$ICD" ] && [ -n "$NVSMI" ]; then
  # Containers often mount the driver's libraries but not its ICD file: write one.
  LIB=$(ldconfig -p 2>/dev/null | grep -o '/[^ ]*libGLX_nvidia\.so\.0$' | head -n1 || true)
  [ -n "$LIB" ] || LIB=$(ldconfig -p 2>/dev/null | grep -o '/[^ ]*libEGL_nvidia\.so\.0$' | head -n1 || true)
  if [ -n "$LIB" ]; then
    ICD=$(mktemp --suffix=_nvidia_icd.json)
    printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$LIB" >"$ICD"
    log "no NVIDIA Vulkan ICD file; wrote $ICD for $LIB"
  else
    log "warning: NVIDIA driver but no Vulkan ICD file and no libGLX_nvidia.so.0 (in a container, run it with" \
      "NVIDIA_DRIVER_CAPABILITIES=all or include 'graphics')"
  fi
fi
if [ -n "$ICD" ]; then
  export VK_ICD_FILENAMES="$ICD" VK_DRIVER_FILES="$ICD"
  log "Vulkan pinned to $ICD"
fi
if command -v vulkaninfo >/dev/null 2>&1; then
  timeout 20 vulkaninfo --summary 2>/dev/null | grep -E 'deviceName|driverName|apiVersion' | sed 's/^/gpu bench: vulkaninfo: /' >&2 || true
fi

# 2. Deno.
if ! command -v deno >/dev/null 2>&1 || [ "$(deno --version | head -n1 | awk '{print $2}')" != "$DENO_VERSION" ]; then
  if [ "${GPU_BENCH_NO_INSTALL:-0}" = "1" ]; then
    command -v deno >/dev/null 2>&1 || die "deno missing (GPU_BENCH_NO_INSTALL=1)"
    log "warning: $(deno --version | head -n1), not $DENO_VERSION"
  else
    command -v npm >/dev/null 2>&1 || die "Deno $DENO_VERSION is missing and there is no npm to install it"
    log "installing Deno $DENO_VERSION from npm"
    $SUDO npm install -g --silent "deno@${DENO_VERSION}" >&2 || npm install -g --silent "deno@${DENO_VERSION}" >&2
  fi
fi

# 3. A hardware WebGPU adapter, or stop here.
PROBE_ARGS=()
[ "$ALLOW_FALLBACK" = "1" ] && PROBE_ARGS+=(--allow-fallback)
PROBE_ERR=$(mktemp)
if ! PROBE=$(timeout 60 deno run -A bench/gpu/probe.ts ${PROBE_ARGS[@]+"${PROBE_ARGS[@]}"} 2>"$PROBE_ERR"); then
  REASON=$(grep -v '^\s*$' "$PROBE_ERR" | tail -n 3 | tr '\n' ' ')
  rm -f "$PROBE_ERR"
  die "no hardware (non-fallback) WebGPU adapter: ${REASON:-the probe failed} (probe: ${PROBE:-none}). Check the NVIDIA driver, libvulkan1 and the Vulkan ICD above; --allow-fallback runs on a software adapter anyway." 3
fi
rm -f "$PROBE_ERR"
log "WebGPU adapter: $PROBE"

# 4. The benchmark, within what is left of the time limit.
ELAPSED=$(($(date +%s) - START))
LEFT=$((TOTAL_S - ELAPSED))
[ "$LEFT" -gt 60 ] || die "setup took ${ELAPSED} s: no time left for the benchmark"
BUDGET=$((LEFT - 40))
[ "$BUDGET" -le 400 ] || BUDGET=400
log "running bench/gpu/bench.ts with a ${BUDGET} s budget"
export GPU_BENCH_NVIDIA_SMI="$NVSMI"
timeout -k 10 "$((LEFT - 5))" deno run -A bench/gpu/bench.ts --budget-s "$BUDGET" "$@"
log "done in $(($(date +%s) - START)) s (results: gpu_bench.json and gpu_bench.md in --out-dir, default bench/results/gpu/)"
