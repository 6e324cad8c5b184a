use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::ResultRevealed;
use crate::settlement::{self, NodeSet, Payout, Transition};
use crate::state::{Job, Market, Node, Pool};

/// Reveals the output digest, the salt and the output URI of a committed seat, in the reveal
/// phase (opened first if the commit deadline has passed with at least Q commits and nothing to
/// reassign). The reveal that completes the set settles the job in the same transaction.
///
/// Remaining accounts: the node account of every seat except the revealer's own, writable, in
/// seat order. They are used only by the reveal that completes the set, but a revealer rarely
/// knows whether it is the last, so clients always pass them.
#[derive(Accounts)]
pub struct RevealResult<'info> {
    pub operator: Signer<'info>,

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
        seeds = [NODE_SEED, node.market.as_ref(), node.operator.as_ref()],
        bump = node.bump,
        has_one = operator @ ConcordError::Unauthorized,
        has_one = market @ ConcordError::WrongMarket,
    )]
    pub node: Account<'info, Node>,

    #[account(
        mut,
        seeds = [JOB_SEED, job.market.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = market @ ConcordError::WrongMarket,
    )]
    pub job: Account<'info, Job>,

    #[account(mut, address = market.vault @ ConcordError::WrongVault)]
    pub vault: InterfaceAccount<'info, TokenAccount>,

    #[account(address = market.mint @ ConcordError::WrongMint)]
    pub mint: InterfaceAccount<'info, Mint>,

    /// CHECK: must be the refund account recorded at job creation (see `settle_job`).
    #[account(mut, address = job.refund_account @ ConcordError::WrongRefundAccount)]
    pub refund_account: UncheckedAccount<'info>,

    #[account(address = market.token_program @ ConcordError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl<'info> RevealResult<'info> {
    pub fn handle(
        ctx: Context<'info, Self>,
        digest: [u8; 32],
        salt: [u8; 32],
        output_uri: String,
    ) -> Result<()> {
        require!(
            !output_uri.is_empty() && output_uri.len() <= MAX_URI_LEN,
            ConcordError::InvalidUri
        );
        let clock = Clock::get()?;
        let (now, slot) = (clock.unix_timestamp, clock.slot);
        let accounts = ctx.accounts;
        if settlement::next_transition(&accounts.job, now, slot) == Transition::OpenReveals {
            settlement::open_reveals(&mut accounts.job, now)?;
        }
        let node_key = accounts.node.key();
        let job_key = accounts.job.key();
        let index = accounts
            .job
            .seat_index(&node_key)
            .ok_or(ConcordError::SeatNotFound)?;
        accounts
            .job
            .reveal(&job_key, index, digest, salt, output_uri.clone(), now)?;
        accounts.node.last_active = now;
        crate::events::emit(ResultRevealed {
            job: job_key,
            node: node_key,
            digest,
            output_uri,
        });
        if accounts.job.reveals_complete() {
            let market_key = accounts.market.key();
            let mut nodes = NodeSet::load(
                Some(&mut accounts.node),
                ctx.remaining_accounts,
                &market_key,
            )?;
            let mut pool = accounts.pool.load_mut()?;
            let payout = Payout {
                token_program: &accounts.token_program,
                vault: &accounts.vault,
                mint: &accounts.mint,
                destination: accounts.refund_account.to_account_info(),
            };
            settlement::advance(
                &mut accounts.market,
                &mut accounts.job,
                &mut pool,
                &mut nodes,
                &payout,
                now,
                slot,
            )?;
            nodes.exit(ctx.program_id)?;
        }
        Ok(())
    }
}
