#!/usr/bin/env bash
# Prints the kernel benchmark tables recorded in BENCHMARKS.md: Concord's CPU kernels side by side
# with OpenBLAS (the system libopenblas, installed here when missing) and matrixmultiply in one
# run, and the CUDA kernels against cuBLAS when a GPU is present.
# Usage: scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so '; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing libopenblas-dev (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev >/dev/null
  else
    echo "error: OpenBLAS not found. On Debian/Ubuntu: sudo apt-get install libopenblas-dev" >&2
    exit 1
  fi
fi
exec cargo bench -p concord-worker --bench kernels --features openblas
