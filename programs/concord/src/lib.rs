//! # Concord on-chain program
//!
//! A decentralized GPU compute market: buyers escrow SPL tokens for jobs; the program draws each
//! job's committee at random, weighted by stake, from the market's pool of available nodes; the
//! seat holders commit and reveal the digest of their output, and the reveal that completes the
//! set settles the job by quorum. See `docs/protocol.md` for the protocol this implements and
//! `docs/program.md` for the program's reference.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod constants;
pub mod draw;
pub mod errors;
pub mod events;
pub mod instructions;
#[cfg(not(target_os = "solana"))]
pub mod native;
pub mod pricing;
pub mod settlement;
pub mod state;
pub mod transfers;

pub use instructions::*;
pub use state::{MarketParams, NodeSpec, Requirements};

declare_id!("2xhuC4ezLy1Psy8Cx1EBscUugSfs16VJhnmCwmbrT2QE");

#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "Concord",
    project_url: "https://github.com/concord-market/concord",
    contacts: "email:security@concord.market",
    policy: "https://github.com/concord-market/concord/blob/main/SECURITY.md",
    source_code: "https://github.com/concord-market/concord"
}

#[program]
pub mod concord {
    use super::*;

    // --- market (authority) ----------------------------------------------------------------

    /// Creates market `market_id` of the signer, with its vault for `mint`.
    pub fn create_market(
        ctx: Context<CreateMarket>,
        market_id: u64,
        params: MarketParams,
    ) -> Result<()> {
        CreateMarket::handle(ctx, market_id, params)
    }

    /// Replaces the market's parameters (authority only).
    pub fn update_market(ctx: Context<UpdateMarket>, params: MarketParams) -> Result<()> {
        UpdateMarket::handle(ctx, params)
    }

    /// Pauses (`true`) or unpauses (`false`) the market (authority only).
    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        SetPaused::handle(ctx, paused)
    }

    /// Withdraws `amount` from the treasury to any token account of the mint (authority only).
    pub fn withdraw_treasury(ctx: Context<WithdrawTreasury>, amount: u64) -> Result<()> {
        WithdrawTreasury::handle(ctx, amount)
    }

    /// Moves tokens sent to the vault from outside the protocol into the treasury (authority).
    pub fn sweep_surplus(ctx: Context<SweepSurplus>) -> Result<()> {
        SweepSurplus::handle(ctx)
    }

    // --- nodes (operator) ------------------------------------------------------------------

    /// Registers the signer's node with its spec, an initial stake and its ask; the node is
    /// available (in the draw's pool) at once.
    pub fn register_node(
        ctx: Context<RegisterNode>,
        spec: NodeSpec,
        stake: u64,
        ask: u64,
    ) -> Result<()> {
        RegisterNode::handle(ctx, spec, stake, ask)
    }

    /// Replaces the node's hardware spec.
    pub fn update_node(ctx: Context<UpdateNode>, spec: NodeSpec) -> Result<()> {
        UpdateNode::handle(ctx, spec)
    }

    /// Puts the node into the draw's pool (`true`) or takes it out (`false`).
    pub fn set_available(ctx: Context<SetAvailable>, available: bool) -> Result<()> {
        SetAvailable::handle(ctx, available)
    }

    /// Sets the lowest price the node accepts (base units per 10⁹ work units).
    pub fn set_ask(ctx: Context<SetAsk>, ask: u64) -> Result<()> {
        SetAsk::handle(ctx, ask)
    }

    /// Adds `amount` to the node's stake.
    pub fn deposit_stake(ctx: Context<DepositStake>, amount: u64) -> Result<()> {
        DepositStake::handle(ctx, amount)
    }

    /// Starts unbonding: out of the draw from now on.
    pub fn request_unbond(ctx: Context<RequestUnbond>) -> Result<()> {
        RequestUnbond::handle(ctx)
    }

    /// Withdraws stake after the unbonding period, with no seat held.
    pub fn withdraw_stake(ctx: Context<WithdrawStake>, amount: u64) -> Result<()> {
        WithdrawStake::handle(ctx, amount)
    }

    /// Withdraws earned rewards.
    pub fn withdraw_earnings(ctx: Context<WithdrawEarnings>, amount: u64) -> Result<()> {
        WithdrawEarnings::handle(ctx, amount)
    }

    // --- jobs (buyer) ----------------------------------------------------------------------

    /// Creates job `market.next_job_id` and escrows reward × N + fee.
    pub fn create_job(ctx: Context<CreateJob>, args: CreateJobArgs) -> Result<()> {
        CreateJob::handle(ctx, args)
    }

    /// Cancels an undrawn job in its creation slot; full refund.
    pub fn cancel_job<'info>(ctx: Context<'info, CancelJob<'info>>) -> Result<()> {
        CancelJob::handle(ctx)
    }

    /// Closes a terminal job, returning rent and any undelivered refund.
    pub fn close_job(ctx: Context<CloseJob>) -> Result<()> {
        CloseJob::handle(ctx)
    }

    // --- jobs (seat holders and cranks) ---------------------------------------------------

    /// Draws the job's committee (seats and backups) from the pool, or expires it. Remaining
    /// accounts: the picked seat holders' nodes, writable, in seat order.
    pub fn draw_job<'info>(ctx: Context<'info, DrawJob<'info>>) -> Result<()> {
        DrawJob::handle(ctx)
    }

    /// Commits to an output digest: `sha256("concord-commit-v2" ‖ job ‖ node ‖ digest ‖ salt)`;
    /// draws the job first if nobody has.
    pub fn commit_result<'info>(
        ctx: Context<'info, CommitResult<'info>>,
        commitment: [u8; 32],
    ) -> Result<()> {
        CommitResult::handle(ctx, commitment)
    }

    /// Reveals the committed digest, its salt and the output URI; the reveal that completes the
    /// set settles the job.
    pub fn reveal_result<'info>(
        ctx: Context<'info, RevealResult<'info>>,
        digest: [u8; 32],
        salt: [u8; 32],
        output_uri: String,
    ) -> Result<()> {
        RevealResult::handle(ctx, digest, salt, output_uri)
    }

    // --- anyone ----------------------------------------------------------------------------

    /// Applies every transition that is due; settles terminal jobs. Remaining accounts: the
    /// seats' node accounts then the backups', writable, in order.
    pub fn settle_job<'info>(ctx: Context<'info, SettleJob<'info>>) -> Result<()> {
        SettleJob::handle(ctx)
    }
}
