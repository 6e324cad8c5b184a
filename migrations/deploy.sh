#!/usr/bin/env bash
# Deploys the Concord program with the official toolchain (Solana CLI + Anchor CLI 1.2.2).
#
#   migrations/deploy.sh [localnet|devnet|mainnet-beta] [PROGRAM_KEYPAIR]
#
# Builds the SBF binary (`anchor build`), checks that the program id compiled into it matches the
# keypair it will be deployed under, then deploys (`anchor deploy`). Market bootstrap (creating a
# market for a mint) follows with `concord market create` from the client CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
cluster=${1:-localnet}
keypair=${2:-migrations/concord-program-keypair.json}

for tool in solana anchor; do
  command -v "$tool" >/dev/null || { echo "error: '$tool' not found; install the Solana CLI and Anchor CLI 1.2.2" >&2; exit 1; }
done
if [ "$cluster" != localnet ] && [ "$keypair" = migrations/concord-program-keypair.json ]; then
  echo "error: migrations/concord-program-keypair.json is public; deploy to $cluster with your own program keypair:" >&2
  echo "  solana-keygen new -o ~/concord-program.json && migrations/deploy.sh $cluster ~/concord-program.json" >&2
  exit 1
fi

mkdir -p target/deploy
cp "$keypair" target/deploy/concord-keypair.json
anchor keys sync                     # writes the keypair's id into declare_id! and Anchor.toml
anchor build
program_id=$(solana-keygen pubkey target/deploy/concord-keypair.json)
echo "deploying concord as $program_id to $cluster"
anchor deploy --provider.cluster "$cluster"
anchor idl init --provider.cluster "$cluster" -f target/idl/concord.json "$program_id" ||
  anchor idl upgrade --provider.cluster "$cluster" -f target/idl/concord.json "$program_id"
