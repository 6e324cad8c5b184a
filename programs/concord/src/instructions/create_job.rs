use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::JobCreated;
use crate::pricing;
use crate::state::{Job, JobState, Market, Pool, Requirements};
use crate::transfers;

/// What a buyer asks for.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct CreateJobArgs {
    /// Kernel id from the catalogue (`constants::kernel`).
    pub kernel: u8,
    /// Kernel parameters (≤ 64 bytes), encoded as the catalogue defines.
    pub params: Vec<u8>,
    /// `http(s)://` or `inline:` URI of the input (≤ 200 bytes).
    pub input_uri: String,
    /// sha256 of the input bytes.
    pub input_digest: [u8; 32],
    pub requirements: Requirements,
    /// Replication factor N (1..=market.max_replication).
    pub replication: u8,
    /// Quorum Q (N/2 < Q ≤ N).
    pub quorum: u8,
    /// Reward paid to each agreeing worker: the most the buyer pays per seat.
    pub reward_per_worker: u64,
    /// The market fee rate the buyer agreed to; the job is refused if the market's differs.
    pub fee_bps: u16,
}

impl CreateJobArgs {
    /// Checks the arguments; returns the kernel's work units.
    pub fn validate(&self, market: &Market) -> Result<u64> {
        require!(
            (1..=kernel::MAX_KERNEL_ID).contains(&self.kernel),
            ConcordError::UnknownKernel
        );
        require!(
            self.params.len() <= MAX_PARAMS_LEN,
            ConcordError::ParamsTooLong
        );
        let work =
            pricing::work_units(self.kernel, &self.params).ok_or(ConcordError::InvalidParams)?;
        require!(
            !self.input_uri.is_empty() && self.input_uri.len() <= MAX_URI_LEN,
            ConcordError::InvalidUri
        );
        self.requirements.validate()?;
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
        require!(
            self.fee_bps == market.params.fee_bps,
            ConcordError::FeeChanged
        );
        Ok(work)
    }
}

/// `(reward × N, ceil(reward × N × fee_bps / 10000))`, or `MathOverflow` if the escrow
/// reward × N + fee does not fit in a u64.
pub fn job_cost(reward_per_worker: u64, replication: u8, fee_bps: u16) -> Result<(u64, u64)> {
    let rewards = reward_per_worker
        .checked_mul(u64::from(replication))
        .ok_or(ConcordError::MathOverflow)?;
    let fee = pricing::bps_of(rewards, u64::from(fee_bps)).ok_or(ConcordError::MathOverflow)?;
    rewards.checked_add(fee).ok_or(ConcordError::MathOverflow)?;
    Ok((rewards, fee))
}

/// Creates job `market.next_job_id` and escrows reward × N + fee from the buyer. The job is
/// drawn in a later slot, from the pool snapshot of the epoch of its creation slot (taken here
/// if nobody has yet).
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

    #[account(mut, address = market.pool @ ConcordError::WrongPool)]
    pub pool: AccountLoader<'info, Pool>,

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
        let work_units = args.validate(market)?;
        let (rewards, fee) = job_cost(args.reward_per_worker, args.replication, args.fee_bps)?;
        let escrow = rewards + fee; // cannot overflow: checked by job_cost
        let collateral = market.params.collateral_for(args.reward_per_worker)?;
        let clock = Clock::get()?;
        ctx.accounts.pool.load_mut()?.roll(clock.slot);
        let job_id = market.next_job_id;
        market.next_job_id = job_id.checked_add(1).ok_or(ConcordError::MathOverflow)?;
        market.total_escrow = market
            .total_escrow
            .checked_add(escrow)
            .ok_or(ConcordError::MathOverflow)?;

        let price = pricing::price(args.reward_per_worker, work_units);
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
            work_units,
            price,
            fee_bps: args.fee_bps,
            fee,
            escrow,
            collateral_per_seat: collateral,
            min_stake: market.params.min_stake,
            execution_window: market.params.execution_window,
            reveal_window: market.params.reveal_window,
            draw_horizon_slots: market.params.draw_horizon_slots,
            max_reassignments: market.params.max_reassignments,
            created_at: clock.unix_timestamp,
            created_slot: clock.slot,
            seed: [0; 32],
            drawn_slot: 0,
            commit_deadline: 0,
            reveal_deadline: 0,
            reassignments: 0,
            state: JobState::Open,
            seats: Vec::with_capacity(usize::from(args.replication)),
            backups: Vec::new(),
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
        crate::events::emit(JobCreated {
            market: market.key(),
            job: job.key(),
            job_id,
            buyer: job.buyer,
            kernel: job.kernel,
            replication: job.replication,
            quorum: job.quorum,
            reward_per_worker: job.reward_per_worker,
            work_units,
            price,
            fee,
            escrow,
            created_slot: clock.slot,
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
