//! The chain: a bank of the real Solana runtime (agave's `solana-runtime`, as the test validator
//! runs it) with the Concord program loaded natively, the real SPL Token, Token-2022, Associated
//! Token and Memo programs, any fixtures, and a slot clock that follows wall time.
//!
//! Every slot is a new bank on its parent, which registers one blockhash, so a blockhash stays
//! valid for 150 blocks (60 s at 400 ms slots) as on a real cluster. Transactions execute one at a
//! time against the working bank, with logs, inner instructions, return data and balances
//! recorded; each committed transaction goes into the [`History`] and is announced on the
//! [`Chain::subscribe`] channel, which the PubSub server forwards to its subscribers.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use solana_accounts_db::accounts_db::ACCOUNTS_DB_CONFIG_FOR_TESTING;
use solana_program_runtime::loaded_programs::ProgramCacheEntry;
use solana_program_test::{processor, ProgramTest};
use solana_runtime::bank::{Bank, TransactionSimulationResult};
use solana_runtime::bank_forks::BankForks;
use solana_runtime::runtime_config::RuntimeConfig;
use solana_runtime_transaction::runtime_transaction::RuntimeTransaction;
use solana_sdk::account::AccountSharedData;
use solana_sdk::clock::{Clock, Slot, MAX_PROCESSING_AGE};
use solana_sdk::hash::Hash;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::transaction::{
    SanitizedTransaction, TransactionError, TransactionVerificationMode, VersionedTransaction,
};
use solana_svm::transaction_processor::ExecutionRecordingConfig;
use solana_svm_timings::ExecuteTimings;
use solana_transaction_status::{map_inner_instructions, TransactionStatusMeta};
use tokio::sync::broadcast;

use crate::fixtures::Fixtures;
use crate::history::{BlockRecord, History, HistoryLimits, TxRecord};
use crate::logs;

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// What the chain announces; the PubSub server turns these into notifications.
#[derive(Clone, Debug)]
pub enum ChainEvent {
    /// A transaction was received (before it executes): `receivedSignature`.
    Received(Signature),
    /// A transaction was committed, with the post-state of every account it could write.
    Committed {
        record: Arc<TxRecord>,
        accounts: Arc<Vec<(Pubkey, AccountSharedData)>>,
    },
    /// A new working slot began; `root` is the newest rooted (frozen) slot.
    Slot {
        slot: Slot,
        parent: Slot,
        root: Slot,
    },
}

/// The running chain.
pub struct Chain {
    forks: Arc<RwLock<BankForks>>,
    /// The genesis faucet: funds airdrops.
    pub faucet: Keypair,
    pub genesis_hash: Hash,
    /// Executions and simulations hold it shared, the slot advance exclusively: agave's
    /// `set_root` and transaction execution take the bank-forks and program-cache locks in
    /// opposite orders, so they must not overlap.
    gate: RwLock<()>,
    /// One transaction commits at a time, so the history's order is the bank's order.
    commit: Mutex<()>,
    pub history: History,
    events: broadcast::Sender<ChainEvent>,
    pub slot_time: Duration,
}

/// How many chain events a slow PubSub connection may fall behind before it is dropped.
pub const EVENT_BACKLOG: usize = 4096;

impl Chain {
    /// Builds the genesis bank with the programs and `fixtures` in it.
    pub async fn start(
        fixtures: &Fixtures,
        limits: HistoryLimits,
        slot_time: Duration,
    ) -> Arc<Chain> {
        if std::env::var_os("RUST_LOG").is_none() {
            // The runtime logs every instruction at debug level; RUST_LOG=debug shows them.
            std::env::set_var("RUST_LOG", "error");
        }
        // solana-program-test makes the genesis (a funded faucet, one bootstrap validator, all
        // features on) and installs the syscall stubs that natively loaded programs call into.
        let ctx = ProgramTest::default().start_with_context().await;
        concord::native::install_log_routing();
        let genesis = ctx.genesis_config().clone();
        let faucet = ctx.payer.insecure_clone();
        drop(ctx);

        let bank = Bank::new_from_genesis(
            &genesis,
            Arc::new(RuntimeConfig::default()),
            Vec::default(),
            None,
            ACCOUNTS_DB_CONFIG_FOR_TESTING,
            None,
            None,
            Arc::default(),
            None,
            None,
        );
        let rent = genesis.rent.clone();
        for (id, account) in solana_program_binaries::spl_programs(&rent) {
            bank.store_account(&id, &account);
        }
        for (id, account) in solana_program_binaries::core_bpf_programs(&rent, |feature| {
            genesis.accounts.contains_key(feature)
        }) {
            bank.store_account(&id, &account);
        }
        let entry: Option<solana_program_runtime::invoke_context::BuiltinFunctionWithContext> =
            processor!(concord::native::entry);
        let entry = entry.expect("processor! yields Some");
        bank.add_builtin(
            concord::ID,
            "concord",
            ProgramCacheEntry::new_builtin(0, "concord".len(), entry),
        );
        for (address, account) in fixtures.accounts() {
            bank.store_account(address, account);
        }
        bank.fill_bank_with_ticks_for_tests();
        let bank = Arc::new(bank);
        let first = Bank::new_from_parent(Arc::clone(&bank), &Pubkey::default(), bank.slot() + 1);
        let forks = BankForks::new_rw_arc(first);
        let (events, _) = broadcast::channel(EVENT_BACKLOG);
        let chain = Arc::new(Chain {
            forks,
            faucet,
            genesis_hash: genesis.hash(),
            gate: RwLock::new(()),
            commit: Mutex::new(()),
            history: History::new(limits),
            events,
            slot_time,
        });
        chain.sync_clock();
        chain
    }

    /// The working bank: where transactions execute and what every read sees.
    pub fn bank(&self) -> Arc<Bank> {
        self.forks.read().expect("bank forks lock").working_bank()
    }

    /// The working bank's slot.
    pub fn slot(&self) -> Slot {
        self.bank().slot()
    }

    /// The newest rooted slot (the working bank's parent).
    pub fn root(&self) -> Slot {
        self.forks.read().expect("bank forks lock").root()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.events.subscribe()
    }

    pub fn announce(&self, event: ChainEvent) {
        // No subscriber is not an error.
        let _ = self.events.send(event);
    }

    fn sync_clock(&self) {
        let bank = self.bank();
        let mut clock: Clock = bank.clock();
        clock.unix_timestamp = unix_now();
        bank.set_sysvar_for_tests(&clock);
    }

    /// Freezes the working bank (recording its block) and starts the next slot on it.
    pub fn advance(&self) {
        let exclusive = self.gate.write().expect("gate lock");
        let (parent, slot) = {
            let mut forks = self.forks.write().expect("bank forks lock");
            let parent = forks.working_bank();
            parent.fill_bank_with_ticks_for_tests();
            parent.freeze();
            let slot = parent.slot() + 1;
            forks.insert(Bank::new_from_parent(
                Arc::clone(&parent),
                &Pubkey::default(),
                slot,
            ));
            forks.set_root(parent.slot(), None, Some(parent.slot()));
            (parent, slot)
        };
        self.sync_clock();
        self.history.close_block(BlockRecord {
            slot: parent.slot(),
            parent_slot: parent.parent_slot(),
            blockhash: parent.last_blockhash(),
            previous_blockhash: parent.parent_hash(),
            block_time: parent.clock().unix_timestamp,
            block_height: parent.block_height(),
            signatures: Vec::new(),
        });
        drop(exclusive);
        self.announce(ChainEvent::Slot {
            slot,
            parent: parent.slot(),
            root: parent.slot(),
        });
    }

    /// Advances one slot every `slot_time` until the returned task is aborted.
    pub fn spawn_clock(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let chain = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(chain.slot_time);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            tick.tick().await;
            loop {
                tick.tick().await;
                let chain = Arc::clone(&chain);
                if tokio::task::spawn_blocking(move || chain.advance())
                    .await
                    .is_err()
                {
                    tracing::error!("the slot clock panicked; the chain stops advancing");
                    return;
                }
            }
        })
    }

    /// Sanitizes `tx` against the working bank, verifying signatures when `verify` is set.
    pub fn sanitize(
        bank: &Bank,
        tx: VersionedTransaction,
        verify: bool,
    ) -> Result<RuntimeTransaction<SanitizedTransaction>, TransactionError> {
        let mode = if verify {
            TransactionVerificationMode::FullVerification
        } else {
            TransactionVerificationMode::HashOnly
        };
        bank.verify_transaction(tx, mode)
    }

    /// Simulates `tx` on the working bank; nothing is committed.
    pub fn simulate(
        &self,
        tx: VersionedTransaction,
        verify: bool,
        inner_instructions: bool,
    ) -> (
        Arc<Bank>,
        Option<RuntimeTransaction<SanitizedTransaction>>,
        TransactionSimulationResult,
    ) {
        let _shared = self.gate.read().expect("gate lock");
        let bank = self.bank();
        match Self::sanitize(&bank, tx, verify) {
            Err(e) => (bank, None, TransactionSimulationResult::new_error(e)),
            Ok(sanitized) => {
                let mut result =
                    bank.simulate_transaction_unchecked(&sanitized, inner_instructions);
                result.logs = logs::normalize(&result.logs);
                (bank, Some(sanitized), result)
            }
        }
    }

    /// Executes and commits `tx` on the working bank; on success it is in the history and
    /// announced. A transaction that executed and failed is committed too (its fee is paid); the
    /// error is why one that could not execute at all (signature, blockhash, duplicate, fee
    /// payer) did not land.
    pub fn execute(&self, tx: VersionedTransaction) -> Result<Arc<TxRecord>, TransactionError> {
        let _shared = self.gate.read().expect("gate lock");
        let _one = self.commit.lock().expect("commit lock");
        let bank = self.bank();
        let sanitized = Self::sanitize(&bank, tx.clone(), true)?;
        let batch = bank.prepare_sanitized_batch(std::slice::from_ref(&sanitized));
        let (mut results, balances) = bank.load_execute_and_commit_transactions(
            &batch,
            MAX_PROCESSING_AGE,
            ExecutionRecordingConfig {
                enable_cpi_recording: true,
                enable_log_recording: true,
                enable_return_data_recording: true,
                enable_transaction_balance_recording: true,
            },
            &mut ExecuteTimings::default(),
            None,
        );
        drop(batch);
        let committed = results.pop().ok_or(TransactionError::SanitizeFailure)??;
        let (mut pre, mut post, mut pre_tokens, mut post_tokens) =
            balances.map(|b| b.into_vecs()).unwrap_or_default();
        let token = |v: Vec<solana_svm::transaction_balances::SvmTokenInfo>| {
            v.into_iter().map(crate::history::token_balance).collect()
        };
        let meta = TransactionStatusMeta {
            status: committed.status,
            fee: committed.fee_details.total_fee(),
            pre_balances: pre.pop().unwrap_or_default(),
            post_balances: post.pop().unwrap_or_default(),
            inner_instructions: committed
                .inner_instructions
                .map(|i| map_inner_instructions(i).collect()),
            log_messages: committed.log_messages.map(|l| logs::normalize(&l)),
            pre_token_balances: Some(token(pre_tokens.pop().unwrap_or_default())),
            post_token_balances: Some(token(post_tokens.pop().unwrap_or_default())),
            rewards: Some(vec![]),
            loaded_addresses: sanitized.get_loaded_addresses(),
            return_data: committed.return_data,
            compute_units_consumed: Some(committed.executed_units),
            cost_units: None,
        };
        let message = sanitized.message();
        let accounts: Vec<(Pubkey, AccountSharedData)> = message
            .account_keys()
            .iter()
            .enumerate()
            .filter(|(i, _)| message.is_writable(*i))
            .map(|(_, key)| (*key, bank.get_account(key).unwrap_or_default()))
            .collect();
        let record = self.history.record(TxRecord {
            signature: *sanitized.signature(),
            slot: bank.slot(),
            block_time: bank.clock().unix_timestamp,
            transaction: tx,
            meta,
            keys: message.account_keys().iter().copied().collect(),
            memo: solana_transaction_status::extract_and_fmt_memos(message),
        });
        self.announce(ChainEvent::Committed {
            record: Arc::clone(&record),
            accounts: Arc::new(accounts),
        });
        Ok(record)
    }
}
