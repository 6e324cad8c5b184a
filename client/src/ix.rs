//! Typed builders for every Concord instruction. They are pure: they derive addresses and encode
//! arguments, and never touch the network.

use anchor_lang::{InstructionData, ToAccountMetas};
use concord::state::{Job, Market};
use concord::{CreateJobArgs, MarketParams, NodeSpec};
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::pubkey::Pubkey;

use crate::pda::{job_address, market_address, node_address, vault_address};

const SYSTEM_PROGRAM: Pubkey = anchor_lang::system_program::ID;

/// A market's address with its decoded state: what every market-scoped builder needs.
#[derive(Clone, Debug)]
pub struct MarketInfo {
    /// The market PDA.
    pub address: Pubkey,
    /// Its decoded state.
    pub state: Market,
}

impl MarketInfo {
    /// The market's mint.
    pub fn mint(&self) -> Pubkey {
        self.state.mint
    }
    /// The token program that owns the mint.
    pub fn token_program(&self) -> Pubkey {
        self.state.token_program
    }
    /// The market's vault token account.
    pub fn vault(&self) -> Pubkey {
        self.state.vault
    }
    /// The node PDA of `operator` in this market.
    pub fn node_address(&self, operator: &Pubkey) -> Pubkey {
        node_address(&self.address, operator)
    }
    /// The job PDA of `job_id` in this market.
    pub fn job_address(&self, job_id: u64) -> Pubkey {
        job_address(&self.address, job_id)
    }
    /// The wallet's associated token account for this market's mint.
    pub fn token_account_of(&self, wallet: &Pubkey) -> Pubkey {
        associated_token_address(wallet, &self.mint(), &self.token_program())
    }
}

/// Associated token account of `wallet` for `mint` under `token_program`.
pub fn associated_token_address(wallet: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(
        wallet,
        mint,
        token_program,
    )
}

/// Creates `wallet`'s associated token account if it does not exist yet.
pub fn create_token_account_idempotent(
    payer: &Pubkey,
    wallet: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
        payer,
        wallet,
        mint,
        token_program,
    )
}

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: concord::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// `create_market`: the signer `authority` creates market `market_id` with its vault for `mint`.
pub fn create_market(
    authority: &Pubkey,
    market_id: u64,
    mint: &Pubkey,
    token_program: &Pubkey,
    params: MarketParams,
) -> Instruction {
    let market = market_address(authority, market_id);
    build(
        concord::accounts::CreateMarket {
            authority: *authority,
            market,
            mint: *mint,
            vault: vault_address(&market),
            token_program: *token_program,
            system_program: SYSTEM_PROGRAM,
        },
        concord::instruction::CreateMarket { market_id, params },
    )
}

/// `update_market`: replaces the parameters (signed by the authority).
pub fn update_market(market: &MarketInfo, params: MarketParams) -> Instruction {
    build(
        concord::accounts::UpdateMarket {
            authority: market.state.authority,
            market: market.address,
        },
        concord::instruction::UpdateMarket { params },
    )
}

/// `set_paused`: pauses or unpauses the market (signed by the authority).
pub fn set_paused(market: &MarketInfo, paused: bool) -> Instruction {
    build(
        concord::accounts::SetPaused {
            authority: market.state.authority,
            market: market.address,
        },
        concord::instruction::SetPaused { paused },
    )
}

/// `withdraw_treasury`: treasury to `destination` (signed by the authority).
pub fn withdraw_treasury(market: &MarketInfo, destination: &Pubkey, amount: u64) -> Instruction {
    build(
        concord::accounts::WithdrawTreasury {
            authority: market.state.authority,
            market: market.address,
            vault: market.vault(),
            mint: market.mint(),
            destination: *destination,
            token_program: market.token_program(),
        },
        concord::instruction::WithdrawTreasury { amount },
    )
}

/// `register_node`: the operator's node with its spec and initial stake from `operator_token`.
pub fn register_node(
    market: &MarketInfo,
    operator: &Pubkey,
    operator_token: &Pubkey,
    spec: NodeSpec,
    stake: u64,
) -> Instruction {
    build(
        concord::accounts::RegisterNode {
            operator: *operator,
            market: market.address,
            node: market.node_address(operator),
            vault: market.vault(),
            mint: market.mint(),
            operator_token: *operator_token,
            token_program: market.token_program(),
            system_program: SYSTEM_PROGRAM,
        },
        concord::instruction::RegisterNode { spec, stake },
    )
}

/// `update_node`: replaces the operator's node spec.
pub fn update_node(market: &MarketInfo, operator: &Pubkey, spec: NodeSpec) -> Instruction {
    build(
        concord::accounts::UpdateNode {
            operator: *operator,
            node: market.node_address(operator),
        },
        concord::instruction::UpdateNode { spec },
    )
}

/// `deposit_stake`: adds `amount` from `operator_token` to the node's stake.
pub fn deposit_stake(
    market: &MarketInfo,
    operator: &Pubkey,
    operator_token: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        concord::accounts::DepositStake {
            operator: *operator,
            market: market.address,
            node: market.node_address(operator),
            vault: market.vault(),
            mint: market.mint(),
            operator_token: *operator_token,
            token_program: market.token_program(),
        },
        concord::instruction::DepositStake { amount },
    )
}

/// `request_unbond`: starts the node's unbonding.
pub fn request_unbond(market: &MarketInfo, operator: &Pubkey) -> Instruction {
    build(
        concord::accounts::RequestUnbond {
            operator: *operator,
            market: market.address,
            node: market.node_address(operator),
        },
        concord::instruction::RequestUnbond {},
    )
}

/// `withdraw_stake`: stake to `destination`, after unbonding.
pub fn withdraw_stake(
    market: &MarketInfo,
    operator: &Pubkey,
    destination: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        concord::accounts::WithdrawStake {
            operator: *operator,
            market: market.address,
            node: market.node_address(operator),
            vault: market.vault(),
            mint: market.mint(),
            destination: *destination,
            token_program: market.token_program(),
        },
        concord::instruction::WithdrawStake { amount },
    )
}

/// `withdraw_earnings`: earnings to `destination`.
pub fn withdraw_earnings(
    market: &MarketInfo,
    operator: &Pubkey,
    destination: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        concord::accounts::WithdrawEarnings {
            operator: *operator,
            market: market.address,
            node: market.node_address(operator),
            vault: market.vault(),
            mint: market.mint(),
            destination: *destination,
            token_program: market.token_program(),
        },
        concord::instruction::WithdrawEarnings { amount },
    )
}

/// Creates job `job_id`, which must be the market's current `next_job_id`.
pub fn create_job(
    market: &MarketInfo,
    job_id: u64,
    buyer: &Pubkey,
    buyer_token: &Pubkey,
    args: CreateJobArgs,
) -> Instruction {
    build(
        concord::accounts::CreateJob {
            buyer: *buyer,
            market: market.address,
            job: market.job_address(job_id),
            vault: market.vault(),
            mint: market.mint(),
            buyer_token: *buyer_token,
            token_program: market.token_program(),
            system_program: SYSTEM_PROGRAM,
        },
        concord::instruction::CreateJob { args },
    )
}

/// `cancel_job`: cancels an open job without claims; refund to `destination`.
pub fn cancel_job(
    market: &MarketInfo,
    job: &Pubkey,
    buyer: &Pubkey,
    destination: &Pubkey,
) -> Instruction {
    build(
        concord::accounts::CancelJob {
            buyer: *buyer,
            market: market.address,
            job: *job,
            vault: market.vault(),
            mint: market.mint(),
            destination: *destination,
            token_program: market.token_program(),
        },
        concord::instruction::CancelJob {},
    )
}

/// `close_job`: closes a terminal job; rent to the buyer, pending refund to `destination`.
pub fn close_job(
    market: &MarketInfo,
    job: &Pubkey,
    buyer: &Pubkey,
    destination: &Pubkey,
) -> Instruction {
    build(
        concord::accounts::CloseJob {
            buyer: *buyer,
            market: market.address,
            job: *job,
            vault: market.vault(),
            mint: market.mint(),
            destination: *destination,
            token_program: market.token_program(),
        },
        concord::instruction::CloseJob {},
    )
}

/// `claim_job`: the operator's node takes a slot of `job`.
pub fn claim_job(market: &MarketInfo, job: &Pubkey, operator: &Pubkey) -> Instruction {
    build(
        concord::accounts::ClaimJob {
            operator: *operator,
            market: market.address,
            node: market.node_address(operator),
            job: *job,
        },
        concord::instruction::ClaimJob {},
    )
}

/// `commit_result`: the operator's node commits to an output (see [`commitment`]).
pub fn commit_result(
    market: &MarketInfo,
    job: &Pubkey,
    operator: &Pubkey,
    commitment: [u8; 32],
) -> Instruction {
    build(
        concord::accounts::CommitResult {
            operator: *operator,
            node: market.node_address(operator),
            job: *job,
        },
        concord::instruction::CommitResult { commitment },
    )
}

/// `reveal_result`: the operator's node reveals digest, salt and output URI.
pub fn reveal_result(
    market: &MarketInfo,
    job: &Pubkey,
    operator: &Pubkey,
    digest: [u8; 32],
    salt: [u8; 32],
    output_uri: String,
) -> Instruction {
    build(
        concord::accounts::RevealResult {
            operator: *operator,
            node: market.node_address(operator),
            job: *job,
        },
        concord::instruction::RevealResult {
            digest,
            salt,
            output_uri,
        },
    )
}

/// `settle_job` with the job's slot nodes as writable remaining accounts, in slot order.
pub fn settle_job(market: &MarketInfo, job_address: &Pubkey, job: &Job) -> Instruction {
    let mut ix = build(
        concord::accounts::SettleJob {
            market: market.address,
            job: *job_address,
            vault: market.vault(),
            mint: market.mint(),
            refund_account: job.refund_account,
            token_program: market.token_program(),
        },
        concord::instruction::SettleJob {},
    );
    ix.accounts
        .extend(job.slots.iter().map(|s| AccountMeta::new(s.node, false)));
    ix
}

/// The commitment a node sends in `commit_result` (PROTOCOL.md: bound to job and node).
pub fn commitment(job: &Pubkey, node: &Pubkey, digest: &[u8; 32], salt: &[u8; 32]) -> [u8; 32] {
    concord::state::commitment(job, node, digest, salt)
}
