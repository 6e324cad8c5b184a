//! Test harness: the Concord program loaded natively into solana-program-test's bank, with the
//! real SPL Token / Token-2022 programs. Every transaction sent through `Env::send` is followed by
//! a full conservation-invariant check, whether it succeeded or failed; every expected failure
//! also checks that no tracked account changed at all.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::system_instruction;
use anchor_lang::AccountDeserialize;
use anchor_spl::token::spl_token;
use anchor_spl::token_2022::spl_token_2022;
use anchor_spl::token_2022::spl_token_2022::extension::StateWithExtensions;
use concord::constants::*;
use concord::state::{commitment, Job, JobState, Market, Node, Pool, NO_INDEX};
use concord::{CreateJobArgs, MarketParams, NodeSpec, Requirements};
use concord_client::ix::{self, MarketInfo};
use solana_program_test::{processor, BanksClientError, ProgramTest, ProgramTestContext};
use solana_sdk::account::Account;
use solana_sdk::clock::Clock;
use solana_sdk::instruction::{Instruction, InstructionError};
use solana_sdk::signature::{Keypair, Signer};
use solana_sdk::transaction::{Transaction, TransactionError};
use std::collections::BTreeMap;

pub type TxResult = Result<(), TransactionError>;

pub const DECIMALS: u8 = 6;
pub const UNIT: u64 = 1_000_000;
/// The tests' pool epoch and draw horizon, in slots.
pub const HORIZON: u64 = 16;

pub fn default_params() -> MarketParams {
    MarketParams {
        fee_bps: 250,
        min_stake: 100 * UNIT,
        min_collateral: 20 * UNIT,
        collateral_bps: 10_000,
        execution_window: 900,
        reveal_window: 300,
        unbonding_period: 86_400,
        max_replication: 7,
        draw_horizon_slots: HORIZON,
        max_reassignments: 1,
    }
}

pub fn gpu_spec() -> NodeSpec {
    NodeSpec {
        gpu_model: "NVIDIA H100 80GB HBM3".into(),
        vram_mib: 81_559,
        compute_capability: 90,
        backends: BACKEND_CUDA | BACKEND_CPU,
    }
}

pub fn any_reputation() -> Requirements {
    Requirements {
        min_vram_mib: 8_192,
        min_compute_capability: 80,
        backends: BACKEND_CUDA | BACKEND_CPU,
        min_agreed: 0,
        max_fault_bps: 10_000,
    }
}

pub fn job_args(replication: u8, quorum: u8, reward: u64) -> CreateJobArgs {
    CreateJobArgs {
        kernel: kernel::MATMUL_F32,
        params: [64u32, 64, 64]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        input_uri: "https://data.example/inputs/a.bin".into(),
        input_digest: [7; 32],
        requirements: any_reputation(),
        replication,
        quorum,
        reward_per_worker: reward,
        fee_bps: default_params().fee_bps,
    }
}

/// A wallet with SOL and a token account of the market's mint.
pub struct User {
    pub kp: Keypair,
    pub token: Pubkey,
}

impl User {
    pub fn key(&self) -> Pubkey {
        self.kp.pubkey()
    }
}

/// A node operator and its node PDA.
pub struct Operator {
    pub user: User,
    pub node: Pubkey,
}

impl Operator {
    pub fn key(&self) -> Pubkey {
        self.user.key()
    }
}

pub fn anchor_code(e: concord::errors::ConcordError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + e as u32
}

/// The custom error code carried by a failed transaction.
pub fn custom_code(err: &TransactionError) -> Option<u32> {
    match err {
        TransactionError::InstructionError(_, InstructionError::Custom(c)) => Some(*c),
        _ => None,
    }
}

pub struct Env {
    pub ctx: ProgramTestContext,
    pub token_program: Pubkey,
    pub mint: Pubkey,
    pub mint_authority: Keypair,
    pub authority: Keypair,
    pub market_id: u64,
    pub market: Pubkey,
    pub vault: Pubkey,
    pub pool_kp: Keypair,
    pub pool: Pubkey,
    /// Every token account the tests created: failed transactions must leave them all unchanged.
    pub token_accounts: Vec<Pubkey>,
    pub nodes: Vec<Pubkey>,
    pub jobs: Vec<Pubkey>,
    /// Jobs whose terminal refund is allowed to stay pending (the buyer's refund account died).
    pub pending_refund_ok: Vec<Pubkey>,
    /// Operator keypair of every registered node, by node address.
    pub operators: BTreeMap<Pubkey, Keypair>,
    info: Option<MarketInfo>,
    /// Tokens the tests sent straight to the vault and nobody swept yet.
    pub surplus: u64,
    nonce: u32,
    pub tx_count: u64,
}

pub use concord_client::pda::{
    job_address as job_pda, market_address as market_pda, node_address as node_pda,
    vault_address as vault_pda,
};

impl Env {
    /// A market with default parameters over a plain SPL Token mint.
    pub async fn new() -> Self {
        Self::with(spl_token::ID, default_params()).await
    }

    pub async fn with(token_program: Pubkey, params: MarketParams) -> Self {
        let mut env = Self::bare(token_program).await;
        env.create_mint_plain().await;
        env.create_market_with(params).await.expect("create_market");
        env
    }

    /// Runtime, payer and market authority, but no mint or market yet.
    pub async fn bare(token_program: Pubkey) -> Self {
        if std::env::var_os("RUST_LOG").is_none() {
            // Program logs are noise unless asked for (RUST_LOG=debug shows them).
            std::env::set_var("RUST_LOG", "error");
        }
        let mut pt = ProgramTest::new("concord", concord::ID, processor!(concord::native::entry));
        pt.prefer_bpf(false);
        let ctx = pt.start_with_context().await;
        concord::native::install_log_routing();
        let authority = Keypair::new();
        let market_id = 1;
        let market = market_pda(&authority.pubkey(), market_id);
        let pool_kp = Keypair::new();
        let mut env = Env {
            ctx,
            token_program,
            mint: Pubkey::default(),
            mint_authority: Keypair::new(),
            authority,
            market_id,
            market,
            vault: vault_pda(&market),
            pool: pool_kp.pubkey(),
            pool_kp,
            token_accounts: vec![],
            nodes: vec![],
            jobs: vec![],
            pending_refund_ok: vec![],
            operators: BTreeMap::new(),
            info: None,
            surplus: 0,
            nonce: 0,
            tx_count: 0,
        };
        let a = env.authority.pubkey();
        env.airdrop(&a, 10_000_000_000).await;
        env.set_time(1_700_000_000).await;
        env
    }

    // ----- transactions --------------------------------------------------------------------

    /// Sends `ixs` signed by the payer and `signers`, then checks the conservation invariant.
    pub async fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        let result = self.send_raw(ixs, signers).await;
        self.check_invariant().await;
        result
    }

    /// Sends `ixs` without the invariant check (bulk simulations; tests use `send`).
    #[allow(dead_code)] // used by benches/soundness.rs, which shares this harness
    pub async fn send_unchecked(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        self.send_raw(ixs, signers).await
    }

    async fn send_raw(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        // A distinct compute-unit price makes every transaction unique under one blockhash.
        self.nonce += 1;
        let mut all = vec![
            solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_price(
                u64::from(self.nonce),
            ),
        ];
        all.extend_from_slice(ixs);
        let payer = self.ctx.payer.insecure_clone();
        let mut keys: Vec<&Keypair> = vec![&payer];
        keys.extend_from_slice(signers);
        let blockhash = self.ctx.last_blockhash;
        let tx = Transaction::new_signed_with_payer(&all, Some(&payer.pubkey()), &keys, blockhash);
        self.send_tx(tx).await
    }

    pub async fn send_tx(&mut self, tx: Transaction) -> TxResult {
        self.tx_count += 1;
        match self.ctx.banks_client.process_transaction(tx).await {
            Ok(()) => Ok(()),
            Err(BanksClientError::TransactionError(e)) => Err(e),
            Err(BanksClientError::SimulationError { err, .. }) => Err(err),
            Err(e) => panic!("transport error: {e}"),
        }
    }

    /// Sends and expects the custom error `code`; asserts that no tracked account changed.
    pub async fn send_expect(&mut self, ixs: &[Instruction], signers: &[&Keypair], code: u32) {
        let before = self.snapshot().await;
        let err = self
            .send(ixs, signers)
            .await
            .expect_err("transaction should have failed");
        assert_eq!(
            custom_code(&err),
            Some(code),
            "expected custom error {code}, got {err:?}"
        );
        let after = self.snapshot().await;
        assert_eq!(
            before, after,
            "a failed transaction changed tracked accounts"
        );
    }

    /// Lamports and data of every tracked account (token accounts, market, vault, nodes, jobs).
    pub async fn snapshot(&mut self) -> BTreeMap<Pubkey, Option<(u64, Vec<u8>)>> {
        let mut keys = self.token_accounts.clone();
        keys.extend([self.market, self.vault, self.pool]);
        keys.extend(self.nodes.iter().copied());
        keys.extend(self.jobs.iter().copied());
        let mut out = BTreeMap::new();
        for k in keys {
            let acc = self.ctx.banks_client.get_account(k).await.unwrap();
            out.insert(k, acc.map(|a| (a.lamports, a.data)));
        }
        out
    }

    // ----- clock ---------------------------------------------------------------------------

    pub async fn now(&mut self) -> i64 {
        self.ctx
            .banks_client
            .get_sysvar::<Clock>()
            .await
            .unwrap()
            .unix_timestamp
    }

    pub async fn set_time(&mut self, unix_timestamp: i64) {
        let mut clock: Clock = self.ctx.banks_client.get_sysvar().await.unwrap();
        clock.unix_timestamp = unix_timestamp;
        self.ctx.set_sysvar(&clock);
    }

    pub async fn advance(&mut self, secs: i64) {
        let now = self.now().await;
        self.set_time(now + secs).await;
    }

    pub async fn slot(&mut self) -> u64 {
        self.ctx
            .banks_client
            .get_sysvar::<Clock>()
            .await
            .unwrap()
            .slot
    }

    /// Moves `slots` slots ahead (new banks, so SlotHashes records the slots passed), keeping
    /// the clock's unix time where it was.
    pub async fn warp(&mut self, slots: u64) {
        let clock: Clock = self.ctx.banks_client.get_sysvar().await.unwrap();
        self.ctx.warp_to_slot(clock.slot + slots).unwrap();
        let mut after: Clock = self.ctx.banks_client.get_sysvar().await.unwrap();
        after.unix_timestamp = clock.unix_timestamp;
        self.ctx.set_sysvar(&after);
        self.ctx.last_blockhash = self.ctx.banks_client.get_latest_blockhash().await.unwrap();
    }

    /// Moves to the first slot of the next pool epoch: nodes that joined before are drawable by
    /// jobs created from now on.
    pub async fn next_epoch(&mut self) {
        let slot = self.slot().await;
        let epoch = self.pool_state().await.epoch_slots;
        let next = (slot / epoch + 1) * epoch;
        self.warp(next - slot).await;
    }

    // ----- accounts ------------------------------------------------------------------------

    pub async fn account(&mut self, key: Pubkey) -> Option<Account> {
        self.ctx.banks_client.get_account(key).await.unwrap()
    }

    pub async fn decode<T: AccountDeserialize>(&mut self, key: Pubkey) -> T {
        let acc = self.account(key).await.expect("account exists");
        T::try_deserialize(&mut acc.data.as_slice()).expect("decodes")
    }

    pub async fn market_state(&mut self) -> Market {
        self.decode(self.market).await
    }

    pub async fn node(&mut self, key: Pubkey) -> Node {
        self.decode(key).await
    }

    pub async fn job(&mut self, key: Pubkey) -> Job {
        self.decode(key).await
    }

    pub async fn pool_state(&mut self) -> Box<Pool> {
        let acc = self.account(self.pool).await.expect("pool exists");
        Pool::from_account_data(&acc.data).expect("pool decodes")
    }

    pub async fn slot_hashes(&mut self) -> Vec<u8> {
        self.account(ix::SLOT_HASHES)
            .await
            .expect("SlotHashes")
            .data
    }

    pub async fn balance(&mut self, token_account: Pubkey) -> u64 {
        let acc = self
            .account(token_account)
            .await
            .expect("token account exists");
        StateWithExtensions::<spl_token_2022::state::Account>::unpack(&acc.data)
            .expect("token account")
            .base
            .amount
    }

    pub async fn airdrop(&mut self, to: &Pubkey, lamports: u64) {
        let ix = system_instruction::transfer(&self.ctx.payer.pubkey(), to, lamports);
        self.send_raw(&[ix], &[]).await.expect("airdrop");
    }

    // ----- tokens --------------------------------------------------------------------------

    pub async fn create_mint_plain(&mut self) {
        let mint = Keypair::new();
        self.create_mint(&mint, &[]).await.expect("mint");
        self.mint = mint.pubkey();
    }

    /// Creates a mint of `self.token_program`, running `extension_ixs(mint)` before
    /// InitializeMint2 (Token-2022 extensions); `space` is the mint's account size.
    pub async fn create_mint(&mut self, mint: &Keypair, extensions: &[ExtInit]) -> TxResult {
        let kinds: Vec<_> = extensions.iter().map(|e| e.kind()).collect();
        let space = if kinds.is_empty() {
            82
        } else {
            spl_token_2022::extension::ExtensionType::try_calculate_account_len::<
                spl_token_2022::state::Mint,
            >(&kinds)
            .unwrap()
        };
        let payer = self.ctx.payer.pubkey();
        let rent = self.ctx.banks_client.get_rent().await.unwrap();
        let mut ixs = vec![system_instruction::create_account(
            &payer,
            &mint.pubkey(),
            rent.minimum_balance(space),
            space as u64,
            &self.token_program,
        )];
        for e in extensions {
            ixs.push(e.instruction(
                &self.token_program,
                &mint.pubkey(),
                &self.mint_authority.pubkey(),
            ));
        }
        ixs.push(
            spl_token_2022::instruction::initialize_mint2(
                &self.token_program,
                &mint.pubkey(),
                &self.mint_authority.pubkey(),
                Some(&self.mint_authority.pubkey()),
                DECIMALS,
            )
            .unwrap(),
        );
        self.send_raw(&ixs, &[mint]).await
    }

    /// Creates a token account of `mint` owned by `owner` and mints `amount` into it.
    pub async fn token_account(&mut self, mint: Pubkey, owner: &Pubkey, amount: u64) -> Pubkey {
        let account = Keypair::new();
        let payer = self.ctx.payer.pubkey();
        let rent = self.ctx.banks_client.get_rent().await.unwrap();
        let space = if self.token_program == spl_token::ID {
            165
        } else {
            170
        };
        let mut ixs = vec![system_instruction::create_account(
            &payer,
            &account.pubkey(),
            rent.minimum_balance(space),
            space as u64,
            &self.token_program,
        )];
        if self.token_program == spl_token_2022::ID {
            ixs.push(
                spl_token_2022::instruction::initialize_immutable_owner(
                    &self.token_program,
                    &account.pubkey(),
                )
                .unwrap(),
            );
        }
        ixs.push(
            spl_token_2022::instruction::initialize_account3(
                &self.token_program,
                &account.pubkey(),
                &mint,
                owner,
            )
            .unwrap(),
        );
        if amount > 0 {
            ixs.push(
                spl_token_2022::instruction::mint_to(
                    &self.token_program,
                    &mint,
                    &account.pubkey(),
                    &self.mint_authority.pubkey(),
                    &[],
                    amount,
                )
                .unwrap(),
            );
        }
        let ma = self.mint_authority.insecure_clone();
        let signers: &[&Keypair] = if amount > 0 {
            &[&account, &ma]
        } else {
            &[&account]
        };
        self.send_raw(&ixs, signers).await.expect("token account");
        self.token_accounts.push(account.pubkey());
        account.pubkey()
    }

    /// A new wallet with 10 SOL and `tokens` of the market's mint.
    pub async fn user(&mut self, tokens: u64) -> User {
        let kp = Keypair::new();
        self.airdrop(&kp.pubkey(), 10_000_000_000).await;
        let token = self.token_account(self.mint, &kp.pubkey(), tokens).await;
        User { kp, token }
    }

    // ----- instruction builders: concord-client's ----------------------------------------------

    /// The market as the builders take it (its immutable fields).
    pub fn info(&self) -> &MarketInfo {
        self.info.as_ref().expect("the market exists")
    }

    pub fn create_market_ixs(&self, params: MarketParams, rent: u64) -> Vec<Instruction> {
        vec![
            ix::create_pool_account(&self.authority.pubkey(), &self.pool, rent),
            ix::create_market(
                &self.authority.pubkey(),
                self.market_id,
                &self.mint,
                &self.token_program,
                &self.pool,
                params,
            ),
        ]
    }

    pub async fn pool_rent(&mut self) -> u64 {
        let rent = self.ctx.banks_client.get_rent().await.unwrap();
        rent.minimum_balance(Pool::SIZE)
    }

    pub async fn create_market_with(&mut self, params: MarketParams) -> TxResult {
        let rent = self.pool_rent().await;
        let ixs = self.create_market_ixs(params, rent);
        let (a, p) = (
            self.authority.insecure_clone(),
            self.pool_kp.insecure_clone(),
        );
        self.send(&ixs, &[&a, &p]).await?;
        let state = self.market_state().await;
        self.info = Some(MarketInfo {
            address: self.market,
            state,
        });
        Ok(())
    }

    pub fn register_ix(
        &self,
        op: &Pubkey,
        token: Pubkey,
        spec: NodeSpec,
        stake: u64,
    ) -> Instruction {
        ix::register_node(self.info(), op, &token, spec, stake, 0)
    }

    /// Registers a new operator with `stake` staked and `extra` tokens left in its wallet. It
    /// is drawable from the next pool epoch on (`next_epoch`).
    pub async fn operator(&mut self, stake: u64, extra: u64) -> Operator {
        self.operator_with(gpu_spec(), stake, extra).await
    }

    pub async fn operator_with(&mut self, spec: NodeSpec, stake: u64, extra: u64) -> Operator {
        let user = self.user(stake + extra).await;
        let ix = self.register_ix(&user.key(), user.token, spec, stake);
        let node = node_pda(&self.market, &user.key());
        self.nodes.push(node);
        self.operators.insert(node, user.kp.insecure_clone());
        self.send(&[ix], &[&user.kp]).await.expect("register_node");
        Operator { user, node }
    }

    /// `n` operators with `stake` each, drawable at once (the epoch is moved on).
    pub async fn operators(&mut self, n: usize, stake: u64) -> Vec<Operator> {
        let mut ops = vec![];
        for _ in 0..n {
            ops.push(self.operator(stake, 0).await);
        }
        self.next_epoch().await;
        ops
    }

    pub fn create_job_ix(&self, buyer: &User, job: Pubkey, args: CreateJobArgs) -> Instruction {
        let id = self.jobs_id_of(job);
        ix::create_job(self.info(), id, &buyer.key(), &buyer.token, args)
    }

    fn jobs_id_of(&self, job: Pubkey) -> u64 {
        (0..10_000)
            .find(|id| job_pda(&self.market, *id) == job)
            .expect("a job address of this market")
    }

    pub async fn next_job(&mut self) -> Pubkey {
        let id = self.market_state().await.next_job_id;
        job_pda(&self.market, id)
    }

    pub async fn try_create_job(
        &mut self,
        buyer: &User,
        args: CreateJobArgs,
    ) -> Result<Pubkey, TransactionError> {
        let job = self.next_job().await;
        let ix = self.create_job_ix(buyer, job, args);
        if !self.jobs.contains(&job) {
            self.jobs.push(job);
        }
        self.send(&[ix], &[&buyer.kp]).await.map(|_| job)
    }

    pub async fn create_job(&mut self, buyer: &User, args: CreateJobArgs) -> Pubkey {
        self.try_create_job(buyer, args).await.expect("create_job")
    }

    /// The draw of an open job as the client computes it now.
    pub async fn preview(&mut self, job: Pubkey) -> concord_client::draw::DrawPreview {
        self.try_preview(job).await.expect("drawable")
    }

    /// [`preview`](Self::preview), or `None` if the job does not exist or cannot be drawn now.
    pub async fn try_preview(&mut self, job: Pubkey) -> Option<concord_client::draw::DrawPreview> {
        let acc = self.account(job).await?;
        let j = Job::try_deserialize(&mut acc.data.as_slice()).ok()?;
        let mut pool = self.pool_state().await;
        let hashes = self.slot_hashes().await;
        concord_client::draw::preview(&mut pool, &job, &j, &hashes).ok()
    }

    /// `draw_job` with the seats the draw picks; with none when it cannot be staffed or can no
    /// longer be previewed (past its horizon: the program then expires the job), as a crank does.
    pub async fn draw_ix(&mut self, job: Pubkey) -> Instruction {
        let j = self.job(job).await;
        let seats = match self.try_preview(job).await {
            Some(p) if p.is_staffed(j.replication) => p.seats,
            _ => vec![],
        };
        ix::draw_job(self.info(), &job, &j, &seats)
    }

    /// `draw_job` with no seat accounts (enough for an expiry, or to see a refusal).
    pub async fn draw_ix_unchecked(&mut self, job: Pubkey) -> Instruction {
        let j = self.job(job).await;
        ix::draw_job(self.info(), &job, &j, &[])
    }

    /// Cranks `draw_job` (a slot after creation) and returns the seat holders.
    pub async fn draw(&mut self, job: Pubkey) -> Vec<Pubkey> {
        if self.slot().await <= self.job(job).await.created_slot {
            self.warp(1).await;
        }
        let ix = self.draw_ix(job).await;
        self.send(&[ix], &[]).await.expect("draw_job");
        self.job(job).await.seats.iter().map(|s| s.node).collect()
    }

    /// The operator keypair of `node`.
    pub fn signer_of(&self, node: &Pubkey) -> Keypair {
        self.operators[node].insecure_clone()
    }

    pub async fn commit_ix(&mut self, node: Pubkey, job: Pubkey, c: [u8; 32]) -> Instruction {
        let op = self.operators[&node].pubkey();
        let open = match self.account(job).await {
            Some(acc) => Job::try_deserialize(&mut acc.data.as_slice())
                .is_ok_and(|j| j.state == JobState::Open),
            None => false,
        };
        let seats = if open {
            self.try_preview(job)
                .await
                .map(|p| p.seats)
                .unwrap_or_default()
        } else {
            vec![]
        };
        ix::commit_result(self.info(), &job, &op, c, &seats)
    }

    /// Commits `digest` for `node`'s seat with a salt derived from the node key (drawing first
    /// if the job is undrawn).
    pub async fn commit(&mut self, node: Pubkey, job: Pubkey, digest: [u8; 32]) -> TxResult {
        let c = commitment(&job, &node, &digest, &salt(&node));
        let ix = self.commit_ix(node, job, c).await;
        let kp = self.signer_of(&node);
        self.send(&[ix], &[&kp]).await
    }

    pub async fn reveal_ix_with(
        &mut self,
        node: Pubkey,
        job: Pubkey,
        digest: [u8; 32],
        salt: [u8; 32],
    ) -> Instruction {
        let op = self.operators[&node].pubkey();
        let j = self.job(job).await;
        let uri = format!("https://worker.example/out/{node}");
        ix::reveal_result(self.info(), &job, &j, &op, digest, salt, uri)
    }

    /// `reveal_result` for a job that may not exist (its refund account then is the buyer's).
    pub async fn reveal_ix_any(
        &mut self,
        node: Pubkey,
        job: Pubkey,
        digest: [u8; 32],
        salt: [u8; 32],
    ) -> Option<Instruction> {
        let acc = self.account(job).await?;
        Job::try_deserialize(&mut acc.data.as_slice()).ok()?;
        Some(self.reveal_ix_with(node, job, digest, salt).await)
    }

    pub async fn reveal(&mut self, node: Pubkey, job: Pubkey, digest: [u8; 32]) -> TxResult {
        let ix = self.reveal_ix_with(node, job, digest, salt(&node)).await;
        let kp = self.signer_of(&node);
        self.send(&[ix], &[&kp]).await
    }

    /// settle_job with the job's seats then backups as remaining accounts.
    pub async fn settle_ix(&mut self, job: Pubkey) -> Instruction {
        let j = self.job(job).await;
        ix::settle_job(self.info(), &job, &j)
    }

    pub async fn settle(&mut self, job: Pubkey) -> TxResult {
        let ix = self.settle_ix(job).await;
        self.send(&[ix], &[]).await
    }

    /// Creates a job, draws it, has every seat commit and reveal `digests[i]` (in seat order);
    /// the last reveal settles. Returns the job and its seat holders.
    pub async fn run_job(
        &mut self,
        buyer: &User,
        args: CreateJobArgs,
        digests: &[[u8; 32]],
    ) -> (Pubkey, Vec<Pubkey>) {
        let job = self.create_job(buyer, args).await;
        self.warp(1).await;
        let seats = self.preview(job).await.seats;
        for (node, d) in seats.iter().zip(digests) {
            self.commit(*node, job, *d).await.expect("commit");
        }
        for (node, d) in seats.iter().zip(digests) {
            self.reveal(*node, job, *d).await.expect("reveal");
        }
        (job, seats)
    }

    pub fn cancel_ix(&self, buyer: &User, job: Pubkey) -> Instruction {
        ix::cancel_job(self.info(), &job, &buyer.key(), &buyer.token)
    }

    pub fn close_ix(&self, buyer: &User, job: Pubkey) -> Instruction {
        ix::close_job(self.info(), &job, &buyer.key(), &buyer.token)
    }

    pub fn deposit_ix(&self, op: &Operator, amount: u64) -> Instruction {
        ix::deposit_stake(self.info(), &op.key(), &op.user.token, amount)
    }

    pub fn unbond_ix(&self, op: &Operator) -> Instruction {
        ix::request_unbond(self.info(), &op.key())
    }

    pub fn withdraw_stake_ix(&self, op: &Operator, dest: Pubkey, amount: u64) -> Instruction {
        ix::withdraw_stake(self.info(), &op.key(), &dest, amount)
    }

    pub fn withdraw_earnings_ix(&self, op: &Operator, dest: Pubkey, amount: u64) -> Instruction {
        ix::withdraw_earnings(self.info(), &op.key(), &dest, amount)
    }

    pub fn update_node_ix(&self, op: &Operator, spec: NodeSpec) -> Instruction {
        ix::update_node(self.info(), &op.key(), spec)
    }

    pub fn set_available_ix(&self, op: &Pubkey, available: bool) -> Instruction {
        ix::set_available(self.info(), op, available)
    }

    pub fn set_ask_ix(&self, op: &Pubkey, ask: u64) -> Instruction {
        ix::set_ask(self.info(), op, ask)
    }

    /// Flips `node`'s availability.
    pub async fn set_available(&mut self, node: Pubkey, available: bool) {
        let kp = self.signer_of(&node);
        let ix = self.set_available_ix(&kp.pubkey(), available);
        self.send(&[ix], &[&kp]).await.expect("set_available");
    }

    pub fn update_market_ix(&self, signer: &Pubkey, params: MarketParams) -> Instruction {
        let mut ix = ix::update_market(self.info(), params);
        ix.accounts[0].pubkey = *signer;
        ix
    }

    pub fn set_paused_ix(&self, signer: &Pubkey, paused: bool) -> Instruction {
        let mut ix = ix::set_paused(self.info(), paused);
        ix.accounts[0].pubkey = *signer;
        ix
    }

    pub fn withdraw_treasury_ix(&self, signer: &Pubkey, dest: Pubkey, amount: u64) -> Instruction {
        let mut ix = ix::withdraw_treasury(self.info(), &dest, amount);
        ix.accounts[0].pubkey = *signer;
        ix
    }

    pub fn sweep_ix(&self, signer: &Pubkey) -> Instruction {
        let mut ix = ix::sweep_surplus(self.info());
        ix.accounts[0].pubkey = *signer;
        ix
    }

    pub async fn set_paused(&mut self, paused: bool) {
        let a = self.authority.insecure_clone();
        let ix = self.set_paused_ix(&a.pubkey(), paused);
        self.send(&[ix], &[&a]).await.expect("set_paused");
    }

    // ----- the conservation invariant ------------------------------------------------------

    /// vault = Σ node.stake + Σ node.earnings + Σ escrow of jobs + treasury (+ the surplus the
    /// tests sent to the vault from outside, until swept), with the market's running totals
    /// equal to the sums over the individual accounts, every node's locked collateral equal to
    /// what its open seats hold, and the pool equal to the available nodes: one live entry per
    /// available, active node, mirroring it, and Σ weights = Σ their stake.
    pub async fn check_invariant(&mut self) {
        if self.account(self.market).await.is_none() {
            return; // no market yet (or its creation failed)
        }
        let market = self.market_state().await;
        let vault = self.balance(self.vault).await;
        let pool = self.pool_state().await;

        let (mut stake, mut earnings, mut escrow) = (0u64, 0u64, 0u64);
        let mut locked_by_seats: BTreeMap<Pubkey, (u64, u16)> = BTreeMap::new();
        for job_key in self.jobs.clone() {
            let Some(acc) = self.account(job_key).await else {
                continue; // never created, or closed
            };
            let job = Job::try_deserialize(&mut acc.data.as_slice()).unwrap();
            if job.state.is_terminal() {
                assert!(
                    job.escrow == 0 || self.pending_refund_ok.contains(&job_key),
                    "terminal job {job_key} still holds escrow {}",
                    job.escrow
                );
                assert!(job.seats.iter().all(|s| !s.status.is_open()));
            } else if job.state == JobState::Open {
                assert!(job.seats.is_empty() && job.backups.is_empty());
            } else {
                assert_eq!(job.seats.len(), usize::from(job.replication));
            }
            escrow += job.escrow;
            for s in job.seats.iter().filter(|s| s.status.is_open()) {
                let e = locked_by_seats.entry(s.node).or_default();
                e.0 += job.collateral_per_seat;
                e.1 += 1;
            }
        }
        let (mut pool_stake, mut pool_members) = (0u64, 0u32);
        for node_key in self.nodes.clone() {
            let Some(acc) = self.account(node_key).await else {
                continue;
            };
            let node = Node::try_deserialize(&mut acc.data.as_slice()).unwrap();
            stake += node.stake;
            earnings += node.earnings;
            assert!(
                node.locked_collateral <= node.stake,
                "locked > stake on {node_key}"
            );
            let (locked, seats) = locked_by_seats.get(&node_key).copied().unwrap_or_default();
            assert_eq!(
                node.locked_collateral, locked,
                "locked collateral of {node_key}"
            );
            assert_eq!(node.active_seats, seats, "active seats of {node_key}");
            if node.in_draw() {
                let e = &pool.entries[node.pool_index as usize];
                assert!(
                    e.is_live() && e.node == node_key,
                    "pool entry of {node_key}"
                );
                assert_eq!(
                    (e.weight, e.locked, e.ask, e.vram_mib, e.backends),
                    (
                        node.stake,
                        node.locked_collateral,
                        node.ask,
                        node.spec.vram_mib,
                        node.spec.backends
                    ),
                    "pool entry of {node_key} mirrors the node"
                );
                pool_stake += node.stake;
                pool_members += 1;
            } else {
                assert_eq!(node.pool_index, NO_INDEX, "{node_key} is out of the draw");
            }
        }
        let live: Vec<_> = pool.entries.iter().filter(|e| e.is_live()).collect();
        assert_eq!(live.len() as u32, pool.count, "pool.count");
        assert_eq!(pool.count, pool_members, "one entry per available node");
        assert_eq!(
            live.iter().map(|e| e.weight).sum::<u64>(),
            pool.total_weight,
            "pool.total_weight = Σ entry weights"
        );
        assert_eq!(
            pool.total_weight, pool_stake,
            "Σ weights = Σ stake in the draw"
        );
        assert_eq!(market.total_stake, stake, "market.total_stake");
        assert_eq!(market.total_earnings, earnings, "market.total_earnings");
        assert_eq!(market.total_escrow, escrow, "market.total_escrow");
        assert_eq!(
            vault,
            stake + earnings + escrow + market.treasury + self.surplus,
            "conservation invariant: vault {vault} != stake {stake} + earnings {earnings} + escrow {escrow} + treasury {} + surplus {}",
            market.treasury,
            self.surplus
        );
        assert_eq!(
            market.expected_vault_balance().map(|e| e + self.surplus),
            Some(vault)
        );
    }
}

/// Token-2022 mint extensions the tests can initialise.
pub enum ExtInit {
    TransferFee,
    PermanentDelegate,
    NonTransferable,
    MintClose,
    MetadataPointer,
}

impl ExtInit {
    fn kind(&self) -> spl_token_2022::extension::ExtensionType {
        use spl_token_2022::extension::ExtensionType as E;
        match self {
            ExtInit::TransferFee => E::TransferFeeConfig,
            ExtInit::PermanentDelegate => E::PermanentDelegate,
            ExtInit::NonTransferable => E::NonTransferable,
            ExtInit::MintClose => E::MintCloseAuthority,
            ExtInit::MetadataPointer => E::MetadataPointer,
        }
    }

    fn instruction(&self, program: &Pubkey, mint: &Pubkey, authority: &Pubkey) -> Instruction {
        use spl_token_2022::instruction as ti;
        match self {
            ExtInit::TransferFee => {
                spl_token_2022::extension::transfer_fee::instruction::initialize_transfer_fee_config(
                    program,
                    mint,
                    Some(authority),
                    Some(authority),
                    100,
                    1_000_000,
                )
            }
            ExtInit::PermanentDelegate => ti::initialize_permanent_delegate(program, mint, authority),
            ExtInit::NonTransferable => ti::initialize_non_transferable_mint(program, mint),
            ExtInit::MintClose => ti::initialize_mint_close_authority(program, mint, Some(authority)),
            ExtInit::MetadataPointer => {
                spl_token_2022::extension::metadata_pointer::instruction::initialize(
                    program,
                    mint,
                    Some(*authority),
                    Some(*mint),
                )
            }
        }
        .unwrap()
    }
}

/// Deterministic per-node salt used by the tests.
pub fn salt(node: &Pubkey) -> [u8; 32] {
    let mut s = node.to_bytes();
    s[0] ^= 0x5a;
    s
}

/// A digest standing for an output.
pub fn digest(tag: u8) -> [u8; 32] {
    [tag; 32]
}
