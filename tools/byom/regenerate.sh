#!/bin/sh
# Regenerates every byom fixture (tests/fixtures/byom/) from fixed seeds; see tools/byom/README.md.
# Run from anywhere: sh tools/byom/regenerate.sh
set -eu
cd "$(dirname "$0")/../.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
# networks -> ONNX (float16 conversion for the UNet), manifests, weights, probes
nice -n 10 /usr/bin/python3 -W ignore tools/byom/export.py
# the ONNX files agree with the torch modules they came from
deno run --allow-read tools/byom/check_onnx.ts
# plans through the SDK's public plan API
deno run --allow-read --allow-write tools/byom/make_plans.ts
# the independent float64 reference samples
nice -n 10 /usr/bin/python3 -W ignore tools/byom/reference_loop.py
