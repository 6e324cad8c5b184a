//! Named error codes of the Concord program (Anchor custom errors start at 6000).

use anchor_lang::prelude::*;

#[error_code]
#[derive(PartialEq, Eq)]
pub enum ConcordError {
    // --- arithmetic and parameters -------------------------------------------------------
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("Protocol fee exceeds the maximum of 1000 basis points")]
    FeeTooHigh,
    #[msg("max_replication must be between 1 and 7")]
    InvalidMaxReplication,
    #[msg("A window is outside the allowed bounds")]
    InvalidWindow,
    #[msg("min_collateral must be positive and at most min_stake; collateral_bps at most 50000")]
    InvalidCollateral,
    #[msg("draw_horizon_slots must be between 2 and 512")]
    InvalidDrawHorizon,
    #[msg("max_reassignments must be at most 3")]
    InvalidReassignments,
    #[msg("This parameter is fixed at market creation")]
    ImmutableParameter,
    #[msg("Amount must be positive")]
    ZeroAmount,

    // --- mint and token accounts ---------------------------------------------------------
    #[msg("The mint has a Token-2022 extension that breaks the market's accounting")]
    UnsupportedMintExtension,
    #[msg("Token account has the wrong mint")]
    WrongMint,
    #[msg("Account is not the market's vault")]
    WrongVault,
    #[msg("Token account is not owned by the expected wallet")]
    WrongTokenOwner,
    #[msg("Token program does not match the market's token program")]
    WrongTokenProgram,
    #[msg("Refund account does not match the one recorded at job creation")]
    WrongRefundAccount,
    #[msg("Destination is frozen or not a live token account of the mint")]
    RefundAccountUnusable,

    // --- authority and market ------------------------------------------------------------
    #[msg("Signer is not allowed to perform this action")]
    Unauthorized,
    #[msg("The market is paused")]
    MarketPaused,
    #[msg("Account belongs to another market")]
    WrongMarket,
    #[msg("Insufficient treasury balance")]
    InsufficientTreasury,
    #[msg("The vault holds no surplus")]
    NoSurplus,
    #[msg("Account is not the market's pool")]
    WrongPool,
    #[msg("The pool is full: no more nodes can be available in this market")]
    PoolFull,
    #[msg("Pool entry does not match the node")]
    PoolEntryMismatch,

    // --- nodes ---------------------------------------------------------------------------
    #[msg("GPU model name is longer than 32 bytes")]
    GpuModelTooLong,
    #[msg("Backends bitmask is empty or has unknown bits")]
    InvalidBackends,
    #[msg("Node is unbonding")]
    NodeUnbonding,
    #[msg("Node is not unbonding")]
    NodeNotUnbonding,
    #[msg("Unbonding window has not elapsed")]
    UnbondingNotElapsed,
    #[msg("Node still holds job seats")]
    NodeHasActiveSeats,
    #[msg("Insufficient stake")]
    InsufficientStake,
    #[msg("Not enough free stake to lock collateral for a seat")]
    InsufficientFreeStake,
    #[msg("Insufficient earnings")]
    InsufficientEarnings,
    #[msg("Node does not meet the job's hardware requirements")]
    RequirementsNotMet,

    // --- jobs ----------------------------------------------------------------------------
    #[msg("Unknown kernel id")]
    UnknownKernel,
    #[msg("Kernel parameters longer than 64 bytes")]
    ParamsTooLong,
    #[msg("Kernel parameters do not decode, or describe no work or too much")]
    InvalidParams,
    #[msg("Requirements are out of range")]
    InvalidRequirements,
    #[msg("The market's fee differs from the fee the buyer agreed to")]
    FeeChanged,
    #[msg("URI is empty or longer than 200 bytes")]
    InvalidUri,
    #[msg("Replication must be between 1 and the market's max_replication")]
    InvalidReplication,
    #[msg("Quorum must satisfy N/2 < Q <= N")]
    InvalidQuorum,
    #[msg("Reward per worker must be positive")]
    ZeroReward,
    #[msg("Job id does not match the market's next job id")]
    WrongJobId,
    #[msg("The job is not in the state this action needs")]
    InvalidJobState,
    #[msg("A job can be cancelled only in its creation slot; after that it is drawn, or expires with a full refund")]
    CancelWindowClosed,
    #[msg("The job cannot be staffed (past its draw horizon, or too few eligible nodes): crank draw_job to expire it")]
    DrawUnstaffed,
    #[msg("The job has been drawn already")]
    AlreadyDrawn,
    #[msg("The draw needs a slot after the job's creation slot")]
    DrawTooEarly,
    #[msg("The job's slot hash is not in the SlotHashes sysvar")]
    SlotHashUnavailable,
    #[msg("This node holds no seat of this job")]
    SeatNotFound,
    #[msg("This seat has already committed")]
    AlreadyCommitted,
    #[msg("The commit window has closed")]
    CommitWindowClosed,
    #[msg("Reveals open only when the commit phase has closed")]
    RevealNotOpen,
    #[msg("The reveal window has closed")]
    RevealWindowClosed,
    #[msg("This seat has not committed, or has already revealed")]
    NotCommitted,
    #[msg("Revealed digest and salt do not match the commitment")]
    CommitmentMismatch,
    #[msg("Node accounts do not match the job's seats or draw (count, order or identity)")]
    NodeAccountsMismatch,
    #[msg("The job is not in a terminal state")]
    JobNotTerminal,
}

impl ConcordError {
    /// Every error, in code order (code = 6000 + index). The client's tests check this list
    /// against the IDL, so it cannot drift from the enum.
    pub const ALL: [ConcordError; 59] = [
        ConcordError::MathOverflow,
        ConcordError::FeeTooHigh,
        ConcordError::InvalidMaxReplication,
        ConcordError::InvalidWindow,
        ConcordError::InvalidCollateral,
        ConcordError::InvalidDrawHorizon,
        ConcordError::InvalidReassignments,
        ConcordError::ImmutableParameter,
        ConcordError::ZeroAmount,
        ConcordError::UnsupportedMintExtension,
        ConcordError::WrongMint,
        ConcordError::WrongVault,
        ConcordError::WrongTokenOwner,
        ConcordError::WrongTokenProgram,
        ConcordError::WrongRefundAccount,
        ConcordError::RefundAccountUnusable,
        ConcordError::Unauthorized,
        ConcordError::MarketPaused,
        ConcordError::WrongMarket,
        ConcordError::InsufficientTreasury,
        ConcordError::NoSurplus,
        ConcordError::WrongPool,
        ConcordError::PoolFull,
        ConcordError::PoolEntryMismatch,
        ConcordError::GpuModelTooLong,
        ConcordError::InvalidBackends,
        ConcordError::NodeUnbonding,
        ConcordError::NodeNotUnbonding,
        ConcordError::UnbondingNotElapsed,
        ConcordError::NodeHasActiveSeats,
        ConcordError::InsufficientStake,
        ConcordError::InsufficientFreeStake,
        ConcordError::InsufficientEarnings,
        ConcordError::RequirementsNotMet,
        ConcordError::UnknownKernel,
        ConcordError::ParamsTooLong,
        ConcordError::InvalidParams,
        ConcordError::InvalidRequirements,
        ConcordError::FeeChanged,
        ConcordError::InvalidUri,
        ConcordError::InvalidReplication,
        ConcordError::InvalidQuorum,
        ConcordError::ZeroReward,
        ConcordError::WrongJobId,
        ConcordError::InvalidJobState,
        ConcordError::CancelWindowClosed,
        ConcordError::DrawUnstaffed,
        ConcordError::AlreadyDrawn,
        ConcordError::DrawTooEarly,
        ConcordError::SlotHashUnavailable,
        ConcordError::SeatNotFound,
        ConcordError::AlreadyCommitted,
        ConcordError::CommitWindowClosed,
        ConcordError::RevealNotOpen,
        ConcordError::RevealWindowClosed,
        ConcordError::NotCommitted,
        ConcordError::CommitmentMismatch,
        ConcordError::NodeAccountsMismatch,
        ConcordError::JobNotTerminal,
    ];

    /// The error with Anchor code `code` (6000 + its index), if it is one of Concord's.
    pub fn from_code(code: u32) -> Option<ConcordError> {
        let index = code.checked_sub(anchor_lang::error::ERROR_CODE_OFFSET)?;
        Self::ALL.get(index as usize).copied()
    }
}
