#!/usr/bin/env bash
# Runs every check and test of the repository: formatting, clippy (warnings are errors), the
# committed IDL's freshness, and all tests (the program in the real Solana runtime), the official
# TypeScript clients, and the README's main command exactly as README.md writes it.
# Usage: scripts/test.sh        (the README's test command; .ci/run calls it too)
set -euo pipefail
cd "$(dirname "$0")/.."
# /dev/null must be the null device. On some machines (this project's CI runner among them) it is
# a regular file, which keeps whatever is written to it; cargo runs its `rustc -` probes with
# standard input from /dev/null, so a probe then compiles stale build-script output, fails, and
# cargo caches the failure in target/.rustc_info.json, failing every later build there.
if [ ! -c /dev/null ]; then
  if [ "$(id -u)" = 0 ] && mknod -m 666 /dev/null.concord c 1 3 && mv -f /dev/null.concord /dev/null; then
    echo "note: /dev/null was a regular file; it is the null device again (mknod c 1 3)"
  else
    echo "error: /dev/null is a regular file, not the null device, and cargo's rustc probes read it; as root: rm /dev/null && mknod -m 666 /dev/null c 1 3" >&2
    exit 1
  fi
fi
# Nothing here reads input.
exec </dev/null

need() { command -v "$1" >/dev/null 2>&1 || { echo "error: '$1' not found. $2" >&2; exit 1; }; }
need cargo "Install Rust 1.95 or newer (https://rustup.rs)."
need pkg-config "On Debian/Ubuntu: sudo apt-get install pkg-config libssl-dev"
pkg-config --exists openssl || { echo "error: OpenSSL headers not found. On Debian/Ubuntu: sudo apt-get install libssl-dev" >&2; exit 1; }
rustfmt_ok=$(cargo fmt --version >/dev/null 2>&1 && echo y || echo n)
clippy_ok=$(cargo clippy --version >/dev/null 2>&1 && echo y || echo n)
if [ "$rustfmt_ok$clippy_ok" != yy ]; then
  echo "error: rustfmt and clippy are needed: rustup component add rustfmt clippy" >&2
  exit 1
fi

step() { printf '\n==> %s\n' "$*"; }

# CUDA tools for compiling the GPU kernels without a GPU: NVRTC (libnvrtc.so.12) and ptxas, from
# PyPI, into a cache directory outside the repository (never system-wide).
CUDA_TOOLS="${CONCORD_CUDA_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/concord/cuda-tools-12.9.86}"
if [ ! -e "$CUDA_TOOLS/nvidia/cuda_nvrtc/lib/libnvrtc.so.12" ] || [ ! -x "$CUDA_TOOLS/nvidia/cuda_nvcc/bin/ptxas" ]; then
  step "installing NVRTC and ptxas (pip) into $CUDA_TOOLS"
  need python3 "Install Python 3 with pip (used only to fetch NVIDIA's NVRTC and ptxas wheels)."
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$CUDA_TOOLS" \
    nvidia-cuda-nvrtc-cu12==12.9.86 nvidia-cuda-nvcc-cu12==12.9.86
fi
export LD_LIBRARY_PATH="$CUDA_TOOLS/nvidia/cuda_nvrtc/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CONCORD_PTXAS="$CUDA_TOOLS/nvidia/cuda_nvcc/bin/ptxas"
export CONCORD_REQUIRE_CUDA_TOOLS=1
step "cargo fmt --check"
cargo fmt --all --check
step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo clippy -D warnings on the slim builds (concord without localnet, concord-client without rpc)"
cargo clippy -q --locked -p concord-cli --no-default-features -- -D warnings
cargo clippy -q --locked -p concord-client --no-default-features --all-targets -- -D warnings
step "IDL is fresh (idl/concord.json)"
cargo run -q -p concord-idl --locked -- --check
# The web app's bundle (client/web/dist, embedded in `concord`) must be what its source builds
# to, with the locked dependencies; its TypeScript must type-check.
step "web app: TypeScript types, and client/web/dist is fresh"
need node "Install Node.js 20 or newer (https://nodejs.org) with npm."
need npm "Install npm (it comes with Node.js)."
(cd client/web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
(cd client/web && node_modules/.bin/tsc --noEmit -p .)
web_fresh=$(mktemp -d)
trap 'rm -rf "$web_fresh"' EXIT
(cd client/web && node build.mjs --out "$web_fresh" >/dev/null)
if ! diff -r client/web/dist "$web_fresh" >/dev/null; then
  echo "error: client/web/dist is stale: rebuild it with (cd client/web && npm ci && npm run build) and commit it" >&2
  exit 1
fi
echo "client/web/dist matches a fresh build"
# The hardware-wallet build (`--features ledger`: hidapi over hidraw) compiles against libudev.
step "cargo check -p concord-cli --features ledger (usb://ledger signers)"
if ! pkg-config --exists libudev && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get install -y -q libudev-dev || { apt-get update -q && apt-get install -y -q libudev-dev; }) >/dev/null 2>&1 || true
fi
if pkg-config --exists libudev; then
  cargo check -q --locked -p concord-cli --features ledger
else
  echo "skipped: libudev (libudev-dev) is not installed and could not be installed here, so the usb://ledger build cannot be compiled"
fi
step "rustdoc without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked -p concord-client -p concord-localnet
step "cargo test"
log=$(mktemp)
trap 'rm -rf "$log" "$web_fresh"' EXIT
# A failing Rust test does not stop the run: the TypeScript and browser steps still run and
# report, and the script fails at the end (a build failure fails it too, having no test lines).
rust_ok=1
cargo test --workspace --locked 2>&1 | tee "$log" || rust_ok=0

# The official TypeScript clients (@solana/web3.js 1.x, @anchor-lang/core, @solana/spl-token),
# installed from npm with the committed lockfile, against `concord localnet`.
step "official TypeScript clients against concord localnet (tests/ts)"
cargo build -q --locked -p concord-cli --bin concord
(cd tests/ts && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
ts_log=$(mktemp)
trap 'rm -rf "$log" "$web_fresh" "$ts_log"' EXIT
target_dir=$(cargo metadata --format-version 1 --no-deps --locked | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
(cd tests/ts && CONCORD_BIN="$target_dir/debug/concord" node --test --test-concurrency=1 \
  --test-timeout=240000 --test-reporter=tap) 2>&1 | tee "$ts_log"
ts_pass=$(awk '/^# pass / { print $3 }' "$ts_log")
ts_fail=$(awk '/^# fail / { print $3 }' "$ts_log")

# The web app in headless Chromium: Debian's package (installed here as root when missing; never
# downloaded by npm), driven by puppeteer-core, against `concord localnet --workers 3` and
# `concord web`. Screenshots of each step go to client/web/test-artifacts/.
step "web app in headless Chromium (client/web/test)"
chromium_bin=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium_bin" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium (apt)"
  (apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }) >/dev/null 2>&1 || true
  chromium_bin=$(command -v chromium || true)
fi
[ -n "$chromium_bin" ] || { echo "error: Chromium not found. On Debian/Ubuntu: sudo apt-get install chromium (or set CHROMIUM)" >&2; exit 1; }
cargo build -q --locked -p concord-cli --bin concord
web_log=$(mktemp)
trap 'rm -rf "$log" "$web_fresh" "$ts_log" "$web_log"' EXIT
(cd client/web && CONCORD_BIN="$target_dir/debug/concord" CHROMIUM="${CHROMIUM:-$chromium_bin}" node --test \
  --test-concurrency=1 --test-timeout=600000 --test-reporter=tap test/*.test.mjs) 2>&1 | tee "$web_log"
web_pass=$(awk '/^# pass / { print $3 }' "$web_log")
web_fail=$(awk '/^# fail / { print $3 }' "$web_log")

# The README's two commands, read from README.md itself (never retyped here): its test command
# must be this script, and its main command must run to success on this build, exactly as written.
step "the README's main command, exactly as README.md writes it"
readme_cmds=$(awk '/^## Quick start/ { q = 1 } q && /^```sh$/ { b++; inb = 1; next }
  q && /^```$/ { inb = 0; if (b == 2) exit; next } inb { print b "\t" $0 }' README.md)
main_cmd=$(printf '%s\n' "$readme_cmds" | awk -F'\t' '$1 == 1 { print $2 }')
test_cmd=$(printf '%s\n' "$readme_cmds" | awk -F'\t' '$1 == 2 { print $2 }')
if [ "$(printf '%s\n' "$main_cmd" | wc -l)" != 1 ] || [ -z "$main_cmd" ]; then
  echo "error: README.md's Quick start must open with one fenced sh block holding the main command" >&2
  exit 1
fi
if [ "$test_cmd" != "scripts/test.sh" ]; then
  echo "error: README.md's second Quick start command is '$test_cmd', but the test command is scripts/test.sh" >&2
  exit 1
fi
echo "\$ $main_cmd"
demo_log=$(mktemp)
trap 'rm -rf "$log" "$web_fresh" "$ts_log" "$web_log" "$demo_log"' EXIT
if ! timeout 900 bash -c "$main_cmd" >"$demo_log" 2>&1; then
  tail -n 60 "$demo_log"
  echo "error: the README's main command failed (above: the last 60 lines of its output)" >&2
  exit 1
fi
tail -n 12 "$demo_log"

# One closing line for the whole run: the sum over every test binary and the TypeScript tests.
awk -v tp="$(( ${ts_pass:-0} + ${web_pass:-0} ))" -v tf="$(( ${ts_fail:-1} + ${web_fail:-1} ))" \
  '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "\ntests: %d passed, %d failed\n", p + tp, f + tf; exit (f + tf > 0) }' "$log"
if [ "$rust_ok" != 1 ]; then
  echo "error: cargo test failed (above)" >&2
  exit 1
fi
