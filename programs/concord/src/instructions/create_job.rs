use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::JobCreated;
use crate::state::{Job, JobState, Market, Requirements};
use crate::transfers;

/// What a buyer asks for.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct CreateJobArgs {
    /// Kernel id from the catalogue (`constants::kernel`).
    pub kernel: u8,
    /// Kernel parameters (≤ 64 bytes), encoded as the catalogue defines.
    pub params: Vec<u8>,
    /// `file://`, `http(s)://` or `inline:` URI of the input (≤ 200 bytes).
    pub input_uri: String,
    /// sha256 of the input bytes.
    pub input_digest: [u8; 32],
    pub requirements: Requirements,
    /// Replication factor N (1..=market.max_replication).
    pub replication: u8,
    /// Quorum Q (N/2 < Q ≤ N).
    pub quorum: u8,
    /// Reward paid to each agreeing worker.
    pub reward_per_worker: u64,
}

impl CreateJobArgs {
    pub fn validate(&self, market: &Market) -> Result<()> {
        require!(
            (1..=kernel::MAX_KERNEL_ID).contains(&self.kernel),
            ConcordError::UnknownKernel
        );
        require!(
            self.params.len() <= MAX_PARAMS_LEN,
            ConcordError::ParamsTooLong
        );
        require!(
            !self.input_uri.is_empty() && self.input_uri.len() <= MAX_URI_LEN,
            ConcordError::InvalidUri
        );
        let r = &self.requirements;
        require!(
            r.backends != 0 && r.backends & !BACKEND_ALL == 0,
            ConcordError::InvalidBackends
        );
        require!(
            self.replication >= 1 && self.replication <= market.params.max_replication,
            ConcordError::InvalidReplication
        );
        require!(
            self.quorum <= self.replication
                && 2 * u16::from(self.quorum) > u16::from(self.replication),
            ConcordError::InvalidQuorum
        );
        require!(self.reward_per_worker > 0, ConcordError::ZeroReward);
        Ok(())
    }
}

/// `(reward × N, ceil(reward × N × fee_bps / 10000))`, or `MathOverflow` if the escrow
/// reward × N + fee does not fit in a u64.
pub fn job_cost(reward_per_worker: u64, replication: u8, fee_bps: u16) -> Result<(u64, u64)> {
    let rewards = reward_per_worker
        .checked_mul(u64::from(replication))
        .ok_or(ConcordError::MathOverflow)?;
    let fee = (u128::from(rewards) * u128::from(fee_bps)).div_ceil(BPS_DENOMINATOR);
    let fee = u64::try_from(fee).map_err(|_| ConcordError::MathOverflow)?;
    rewards.checked_add(fee).ok_or(ConcordError::MathOverflow)?;
    Ok((rewards, fee))
}

/// Creates job `market.next_job_id` and escrows reward × N + fee from the buyer.
#[derive(Accounts)]
#[instruction(args: CreateJobArgs)]
pub struct CreateJob<'info> {
    #[account(mut)]
    pub buyer: Signer<'info>,

    #[account(
        mut,
        seeds = [MARKET_SEED, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
        constraint = !market.paused @ ConcordError::MarketPaused,
    )]
    pub market: Account<'info, Market>,

    #[account(
        init,
        payer = buyer,
        space = Job::size(args.replication.clamp(1, MAX_REPLICATION)),
        seeds = [JOB_SEED, market.key().as_ref(), &market.next_job_id.to_le_bytes()],
        bump,
    )]
    pub job: Account<'info, Job>,

    #[account(mut, address = market.vault @ ConcordError::WrongVault)]
    pub vault: InterfaceAccount<'info, TokenAccount>,

    #[account(address = market.mint @ ConcordError::WrongMint)]
    pub mint: InterfaceAccount<'info, Mint>,

    /// Pays the escrow and receives refunds at settlement.
    #[account(
        mut,
        constraint = buyer_token.mint == market.mint @ ConcordError::WrongMint,
        constraint = buyer_token.owner == buyer.key() @ ConcordError::WrongTokenOwner,
    )]
    pub buyer_token: InterfaceAccount<'info, TokenAccount>,

    #[account(address = market.token_program @ ConcordError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl CreateJob<'_> {
    pub fn handle(ctx: Context<Self>, args: CreateJobArgs) -> Result<()> {
        let market = &mut ctx.accounts.market;
        args.validate(market)?;
        let (rewards, fee) = job_cost(
            args.reward_per_worker,
            args.replication,
            market.params.fee_bps,
        )?;
        let escrow = rewards + fee; // cannot overflow: checked by job_cost
        let now = Clock::get()?.unix_timestamp;
        let claim_deadline = now
            .checked_add(market.params.claim_window)
            .ok_or(ConcordError::MathOverflow)?;
        let job_id = market.next_job_id;
        market.next_job_id = job_id.checked_add(1).ok_or(ConcordError::MathOverflow)?;
        market.total_escrow = market
            .total_escrow
            .checked_add(escrow)
            .ok_or(ConcordError::MathOverflow)?;

        let job = &mut ctx.accounts.job;
        job.set_inner(Job {
            market: market.key(),
            job_id,
            buyer: ctx.accounts.buyer.key(),
            refund_account: ctx.accounts.buyer_token.key(),
            kernel: args.kernel,
            params: args.params,
            input_uri: args.input_uri,
            input_digest: args.input_digest,
            requirements: args.requirements,
            replication: args.replication,
            quorum: args.quorum,
            reward_per_worker: args.reward_per_worker,
            fee,
            escrow,
            collateral_per_slot: market.params.collateral_per_slot,
            execution_window: market.params.execution_window,
            reveal_window: market.params.reveal_window,
            created_at: now,
            claim_deadline,
            commit_deadline: 0,
            reveal_deadline: 0,
            state: JobState::Open,
            slots: Vec::with_capacity(usize::from(args.replication)),
            accepted_digest: None,
            finalized_at: 0,
            bump: ctx.bumps.job,
        });
        transfers::into_vault(
            &ctx.accounts.token_program,
            &ctx.accounts.buyer_token,
            &ctx.accounts.mint,
            &ctx.accounts.vault,
            &ctx.accounts.buyer,
            escrow,
        )?;
        emit!(JobCreated {
            market: market.key(),
            job: job.key(),
            job_id,
            buyer: job.buyer,
            kernel: job.kernel,
            replication: job.replication,
            quorum: job.quorum,
            reward_per_worker: job.reward_per_worker,
            fee,
            escrow,
            claim_deadline,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_rounds_up_and_escrow_is_checked() {
        assert_eq!(job_cost(10, 3, 250).unwrap(), (30, 1)); // 0.75 rounds up to 1
        assert_eq!(job_cost(100, 1, 0).unwrap(), (100, 0));
        assert_eq!(job_cost(10_000, 1, 1_000).unwrap(), (10_000, 1_000));
        assert_eq!(job_cost(1, 7, 1).unwrap(), (7, 1));
        assert!(job_cost(u64::MAX / 2, 3, 0).is_err()); // reward × N overflows
        assert!(job_cost(u64::MAX / 3, 3, 250).is_err()); // + fee overflows
        assert!(job_cost(u64::MAX, 1, 0).is_ok());
    }
}
