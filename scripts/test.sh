#!/usr/bin/env bash
# Runs every check and test of the repository: formatting, clippy (warnings are errors), the
# committed IDL's freshness, and all tests (the program in the real Solana runtime).
# Usage: scripts/test.sh        (the README's test command; .ci/run calls it too)
set -euo pipefail
cd "$(dirname "$0")/.."

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
step "cargo fmt --check"
cargo fmt --all --check
step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "IDL is fresh (idl/concord.json)"
cargo run -q -p concord-idl --locked -- --check
step "rustdoc without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked -p concord-client -p concord-localnet
step "cargo test"
cargo test --workspace --locked
