use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use solana_sdk_ids::sysvar::slot_hashes;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::settlement::{self, DrawEnd, NodeSet, Payout};
use crate::state::{Job, JobState, Market, Pool};

/// Permissionless crank: draws an open job's committee in a slot after its creation slot (the
/// first `commit_result` does the same). A job past its draw horizon, or one for which the draw
/// finds fewer than N eligible nodes, expires with a full refund instead.
///
/// Remaining accounts: the node account of every seat the draw picks, writable, in seat order
/// (`concord-client` computes the draw off-chain). Any other set is refused: the accounts
/// cannot change the draw, only complete it.
#[derive(Accounts)]
pub struct DrawJob<'info> {
    #[account(
        mut,
        seeds = [MARKET_SEED, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Account<'info, Market>,

    #[account(mut, address = market.pool @ ConcordError::WrongPool)]
    pub pool: AccountLoader<'info, Pool>,

    #[account(
        mut,
        seeds = [JOB_SEED, job.market.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = market @ ConcordError::WrongMarket,
    )]
    pub job: Account<'info, Job>,

    /// CHECK: the SlotHashes sysvar, read raw (it is too large to deserialise on chain).
    #[account(address = slot_hashes::ID)]
    pub slot_hashes: UncheckedAccount<'info>,

    #[account(mut, address = market.vault @ ConcordError::WrongVault)]
    pub vault: InterfaceAccount<'info, TokenAccount>,

    #[account(address = market.mint @ ConcordError::WrongMint)]
    pub mint: InterfaceAccount<'info, Mint>,

    /// CHECK: must be the refund account recorded at job creation; it receives the refund of an
    /// expired job if it is still a live token account of the mint.
    #[account(mut, address = job.refund_account @ ConcordError::WrongRefundAccount)]
    pub refund_account: UncheckedAccount<'info>,

    #[account(address = market.token_program @ ConcordError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl<'info> DrawJob<'info> {
    pub fn handle(ctx: Context<'info, Self>) -> Result<()> {
        let clock = Clock::get()?;
        let accounts = ctx.accounts;
        let market_key = accounts.market.key();
        let mut nodes = NodeSet::load(None, ctx.remaining_accounts, &market_key)?;
        let end = {
            let mut pool = accounts.pool.load_mut()?;
            let hashes = accounts.slot_hashes.try_borrow_data()?;
            settlement::perform_draw(
                &accounts.market,
                &mut accounts.job,
                &mut pool,
                &hashes,
                &mut nodes,
                clock.unix_timestamp,
                clock.slot,
            )?
        };
        match end {
            DrawEnd::Assigned => nodes.exit(ctx.program_id),
            DrawEnd::Unstaffed => {
                let outcome = settlement::finalize(
                    &mut accounts.market,
                    &mut accounts.job,
                    None,
                    &mut nodes,
                    JobState::Expired,
                    clock.unix_timestamp,
                    clock.slot,
                )?;
                let payout = Payout {
                    token_program: &accounts.token_program,
                    vault: &accounts.vault,
                    mint: &accounts.mint,
                    destination: accounts.refund_account.to_account_info(),
                };
                let delivered =
                    settlement::deliver_refund(&mut accounts.market, &mut accounts.job, &payout)?;
                settlement::emit_finalized(&accounts.job, outcome, delivered);
                Ok(())
            }
        }
    }
}
