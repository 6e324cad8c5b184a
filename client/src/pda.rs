//! Program-derived addresses of Concord accounts.

use concord::constants::{JOB_SEED, MARKET_SEED, NODE_SEED, VAULT_SEED};
use solana_sdk::pubkey::Pubkey;

/// `Market` PDA: `["market", authority, market_id u64 LE]`.
pub fn market_address(authority: &Pubkey, market_id: u64) -> Pubkey {
    Pubkey::find_program_address(
        &[MARKET_SEED, authority.as_ref(), &market_id.to_le_bytes()],
        &concord::ID,
    )
    .0
}

/// The market's vault token account: `["vault", market]`.
pub fn vault_address(market: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[VAULT_SEED, market.as_ref()], &concord::ID).0
}

/// `Node` PDA of an operator in a market: `["node", market, operator]`.
pub fn node_address(market: &Pubkey, operator: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[NODE_SEED, market.as_ref(), operator.as_ref()],
        &concord::ID,
    )
    .0
}

/// `Job` PDA: `["job", market, job_id u64 LE]`. Job ids are sequential from 0, so
/// `job_address(market, id)` for `id < market.next_job_id` enumerates every job.
pub fn job_address(market: &Pubkey, job_id: u64) -> Pubkey {
    Pubkey::find_program_address(
        &[JOB_SEED, market.as_ref(), &job_id.to_le_bytes()],
        &concord::ID,
    )
    .0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_deterministic_and_distinct() {
        let auth = Pubkey::new_unique();
        let m = market_address(&auth, 1);
        assert_eq!(m, market_address(&auth, 1));
        assert_ne!(m, market_address(&auth, 2));
        assert_ne!(job_address(&m, 0), job_address(&m, 1));
        assert_ne!(vault_address(&m), m);
        assert_ne!(
            node_address(&m, &auth),
            node_address(&m, &Pubkey::new_unique())
        );
    }
}
