//! Typed builders for every Concord instruction. They are pure: they derive addresses and encode
//! arguments, and never touch the network.

use anchor_lang::{InstructionData, ToAccountMetas};
use concord::state::{Job, Market, Pool};
use concord::{CreateJobArgs, MarketParams, NodeSpec};
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::pubkey::Pubkey;

use crate::pda::{job_address, market_address, node_address, vault_address};

const SYSTEM_PROGRAM: Pubkey = anchor_lang::system_program::ID;
/// The SlotHashes sysvar, read by the draw.
pub const SLOT_HASHES: Pubkey = concord::constants::SLOT_HASHES_SYSVAR;

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
    /// The market's pool account.
    pub fn pool(&self) -> Pubkey {
        self.state.pool
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

/// Creates the pool account `pool` (a fresh keypair's address, which must sign) with
/// `lamports` (the rent minimum of `Pool::SIZE` bytes), owned by the program: the first
/// instruction of a `create_market` transaction.
pub fn create_pool_account(payer: &Pubkey, pool: &Pubkey, lamports: u64) -> Instruction {
    solana_system_interface::instruction::create_account(
        payer,
        pool,
        lamports,
        Pool::SIZE as u64,
        &concord::ID,
    )
}

/// `create_market`: the signer `authority` creates market `market_id` with its vault for `mint`
/// and its pool `pool` (created just before by [`create_pool_account`]).
pub fn create_market(
    authority: &Pubkey,
    market_id: u64,
    mint: &Pubkey,
    token_program: &Pubkey,
    pool: &Pubkey,
    params: MarketParams,
) -> Instruction {
    let market = market_address(authority, market_id);
    build(
        concord::accounts::CreateMarket {
            authority: *authority,
            market,
            mint: *mint,
            vault: vault_address(&market),
            pool: *pool,
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

/// `sweep_surplus`: tokens sent to the vault from outside go to the treasury (authority).
pub fn sweep_surplus(market: &MarketInfo) -> Instruction {
    build(
        concord::accounts::SweepSurplus {
            authority: market.state.authority,
            market: market.address,
            vault: market.vault(),
        },
        concord::instruction::SweepSurplus {},
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

/// `register_node`: the operator's node with its spec, initial stake from `operator_token` and
/// ask (base units per 10⁹ work units).
pub fn register_node(
    market: &MarketInfo,
    operator: &Pubkey,
    operator_token: &Pubkey,
    spec: NodeSpec,
    stake: u64,
    ask: u64,
) -> Instruction {
    build(
        concord::accounts::RegisterNode {
            operator: *operator,
            market: market.address,
            pool: market.pool(),
            node: market.node_address(operator),
            vault: market.vault(),
            mint: market.mint(),
            operator_token: *operator_token,
            token_program: market.token_program(),
            system_program: SYSTEM_PROGRAM,
        },
        concord::instruction::RegisterNode { spec, stake, ask },
    )
}

/// `update_node`: replaces the operator's node spec.
pub fn update_node(market: &MarketInfo, operator: &Pubkey, spec: NodeSpec) -> Instruction {
    build(
        concord::accounts::UpdateNode {
            operator: *operator,
            market: market.address,
            pool: market.pool(),
            node: market.node_address(operator),
        },
        concord::instruction::UpdateNode { spec },
    )
}

/// `set_available`: puts the operator's node into the draw's pool or takes it out.
pub fn set_available(market: &MarketInfo, operator: &Pubkey, available: bool) -> Instruction {
    build(
        concord::accounts::SetAvailable {
            operator: *operator,
            market: market.address,
            pool: market.pool(),
            node: market.node_address(operator),
        },
        concord::instruction::SetAvailable { available },
    )
}

/// `set_ask`: the lowest price the node accepts (base units per 10⁹ work units).
pub fn set_ask(market: &MarketInfo, operator: &Pubkey, ask: u64) -> Instruction {
    build(
        concord::accounts::SetAsk {
            operator: *operator,
            market: market.address,
            pool: market.pool(),
            node: market.node_address(operator),
        },
        concord::instruction::SetAsk { ask },
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
            pool: market.pool(),
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
            pool: market.pool(),
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
            pool: market.pool(),
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

/// `cancel_job`: cancels an undrawn job in its creation slot; refund to `destination`.
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

fn writable(keys: impl IntoIterator<Item = Pubkey>) -> impl Iterator<Item = AccountMeta> {
    keys.into_iter().map(|k| AccountMeta::new(k, false))
}

/// `draw_job`: draws `job`'s committee (or expires it). `seats` are the seat holders' node
/// accounts the draw picks, in seat order ([`crate::draw::preview`] computes them); empty when
/// the draw cannot staff the job.
pub fn draw_job(
    market: &MarketInfo,
    job_address: &Pubkey,
    job: &Job,
    seats: &[Pubkey],
) -> Instruction {
    let mut ix = build(
        concord::accounts::DrawJob {
            market: market.address,
            pool: market.pool(),
            job: *job_address,
            slot_hashes: SLOT_HASHES,
            vault: market.vault(),
            mint: market.mint(),
            refund_account: job.refund_account,
            token_program: market.token_program(),
        },
        concord::instruction::DrawJob {},
    );
    ix.accounts.extend(writable(seats.iter().copied()));
    ix
}

/// `commit_result`: the operator's node commits to an output (see [`commitment`]). While the
/// job is undrawn this commit draws it: `draw_seats` are then the seat holders the draw picks,
/// in seat order (the committer's own node is left out of the accounts); pass `&[]` otherwise.
pub fn commit_result(
    market: &MarketInfo,
    job: &Pubkey,
    operator: &Pubkey,
    commitment: [u8; 32],
    draw_seats: &[Pubkey],
) -> Instruction {
    let node = market.node_address(operator);
    let mut ix = build(
        concord::accounts::CommitResult {
            operator: *operator,
            market: market.address,
            pool: market.pool(),
            node,
            job: *job,
            slot_hashes: SLOT_HASHES,
        },
        concord::instruction::CommitResult { commitment },
    );
    ix.accounts
        .extend(writable(draw_seats.iter().copied().filter(|k| *k != node)));
    ix
}

/// `reveal_result`: the operator's node reveals digest, salt and output URI; the other seat
/// holders' nodes ride along so that the reveal completing the set can settle the job.
pub fn reveal_result(
    market: &MarketInfo,
    job_address: &Pubkey,
    job: &Job,
    operator: &Pubkey,
    digest: [u8; 32],
    salt: [u8; 32],
    output_uri: String,
) -> Instruction {
    let node = market.node_address(operator);
    let mut ix = build(
        concord::accounts::RevealResult {
            operator: *operator,
            market: market.address,
            pool: market.pool(),
            node,
            job: *job_address,
            vault: market.vault(),
            mint: market.mint(),
            refund_account: job.refund_account,
            token_program: market.token_program(),
        },
        concord::instruction::RevealResult {
            digest,
            salt,
            output_uri,
        },
    );
    ix.accounts.extend(writable(
        job.seats.iter().map(|s| s.node).filter(|k| *k != node),
    ));
    ix
}

/// `settle_job` with the job's seat holders then its backups as writable remaining accounts.
pub fn settle_job(market: &MarketInfo, job_address: &Pubkey, job: &Job) -> Instruction {
    let mut ix = build(
        concord::accounts::SettleJob {
            market: market.address,
            pool: market.pool(),
            job: *job_address,
            vault: market.vault(),
            mint: market.mint(),
            refund_account: job.refund_account,
            token_program: market.token_program(),
        },
        concord::instruction::SettleJob {},
    );
    ix.accounts.extend(writable(
        job.seats
            .iter()
            .map(|s| s.node)
            .chain(job.backups.iter().copied()),
    ));
    ix
}

/// The commitment a node sends in `commit_result` (docs/protocol.md: bound to job and node).
pub fn commitment(job: &Pubkey, node: &Pubkey, digest: &[u8; 32], salt: &[u8; 32]) -> [u8; 32] {
    concord::state::commitment(job, node, digest, salt)
}
