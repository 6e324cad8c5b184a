//! Named error codes of the Concord program (Anchor custom errors start at 6000).

use anchor_lang::prelude::*;

#[error_code]
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
    #[msg("collateral_per_slot must be positive and no greater than min_stake")]
    InvalidCollateral,
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
    #[msg("Node still holds job slots")]
    NodeHasActiveSlots,
    #[msg("Insufficient stake")]
    InsufficientStake,
    #[msg("Not enough free stake to lock collateral for a slot")]
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
    #[msg("The job already has claims")]
    JobHasClaims,
    #[msg("The claim window has closed")]
    ClaimWindowClosed,
    #[msg("All slots of the job are taken")]
    JobFull,
    #[msg("This node already holds a slot of this job")]
    DuplicateClaim,
    #[msg("This node holds no slot of this job")]
    SlotNotFound,
    #[msg("This slot has already committed")]
    AlreadyCommitted,
    #[msg("The commit window has closed")]
    CommitWindowClosed,
    #[msg("Reveals open only when the commit phase has closed")]
    RevealNotOpen,
    #[msg("The reveal window has closed")]
    RevealWindowClosed,
    #[msg("This slot has not committed, or has already revealed")]
    NotCommitted,
    #[msg("Revealed digest and salt do not match the commitment")]
    CommitmentMismatch,
    #[msg("Node accounts do not match the job's slots (count, order or identity)")]
    NodeAccountsMismatch,
    #[msg("The job is not in a terminal state")]
    JobNotTerminal,
}
