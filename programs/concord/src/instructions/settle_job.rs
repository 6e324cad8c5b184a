use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::ConcordError;
use crate::settlement::{self, Transition};
use crate::state::{Job, Market, Node};

/// Permissionless crank: applies every transition that time or completeness allows, and on a
/// terminal transition pays, slashes, takes the fee and refunds the buyer. Idempotent: a call
/// with nothing due, or on a terminal job, succeeds and changes nothing.
///
/// Remaining accounts: the node account of every slot, writable, in slot order. They are needed
/// only when the job reaches a terminal state.
#[derive(Accounts)]
pub struct SettleJob<'info> {
    #[account(
        mut,
        seeds = [MARKET_SEED, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Account<'info, Market>,

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

    /// CHECK: must be the refund account recorded at job creation; it receives the refund if it
    /// is still a live token account of the mint (see `settlement::deliver_refund`).
    #[account(mut, address = job.refund_account @ ConcordError::WrongRefundAccount)]
    pub refund_account: UncheckedAccount<'info>,

    #[account(address = market.token_program @ ConcordError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl<'info> SettleJob<'info> {
    pub fn handle(ctx: Context<'info, Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = ctx.accounts;
        if accounts.job.state.is_terminal() {
            return Ok(());
        }
        settlement::open_reveals_if_due(&mut accounts.job, now)?;
        let Transition::Finalize(to) = settlement::next_transition(&accounts.job, now) else {
            return Ok(());
        };

        let mut nodes = load_nodes(ctx.remaining_accounts)?;
        let outcome =
            settlement::finalize(&mut accounts.market, &mut accounts.job, &mut nodes, to, now)?;
        for node in &nodes {
            node.exit(ctx.program_id)?;
        }
        let delivered = settlement::deliver_refund(
            &mut accounts.market,
            &mut accounts.job,
            &accounts.token_program,
            &accounts.vault,
            &accounts.mint,
            &accounts.refund_account.to_account_info(),
        )?;
        settlement::emit_finalized(&accounts.job, outcome, delivered);
        Ok(())
    }
}

/// Deserialises the remaining accounts as writable `Node`s owned by this program.
fn load_nodes<'info>(infos: &'info [AccountInfo<'info>]) -> Result<Vec<Account<'info, Node>>> {
    infos
        .iter()
        .map(|info| {
            require!(info.is_writable, ConcordError::NodeAccountsMismatch);
            Account::<Node>::try_from(info)
        })
        .collect()
}
