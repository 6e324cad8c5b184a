//! The chain: solana-program-test's bank with the Concord program (native) and the real SPL
//! Token, Token-2022 and Associated Token programs, and a clock that follows wall time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use solana_program_test::{processor, BanksClient, ProgramTest, ProgramTestContext};
use solana_sdk::account_info::AccountInfo;
use solana_sdk::clock::Clock;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use tokio::sync::Mutex;

fn entry_wrapper(
    program_id: &Pubkey,
    accounts: &[AccountInfo],
    data: &[u8],
) -> solana_sdk::entrypoint::ProgramResult {
    // Anchor's entry wants one lifetime for all three borrows; processor! hands out distinct
    // ones. The runtime keeps all of them alive for the whole call.
    let accounts: &[AccountInfo] = unsafe { std::mem::transmute(accounts) };
    concord::entry(program_id, accounts, data)
}

/// The running bank.
pub struct Chain {
    ctx: Mutex<ProgramTestContext>,
    pub banks: BanksClient,
    /// The genesis payer: funds airdrops.
    pub faucet: Keypair,
    /// The working bank's slot.
    slot: AtomicU64,
    pub genesis_hash: solana_sdk::hash::Hash,
    /// Bank access is shared by RPC requests and exclusive for slot advances: agave's
    /// `warp_to_slot` and transaction execution take the bank-forks and program-cache locks in
    /// opposite orders, so running them concurrently can deadlock.
    pub gate: tokio::sync::RwLock<()>,
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

impl Chain {
    pub async fn start() -> Arc<Chain> {
        if std::env::var_os("RUST_LOG").is_none() {
            // The runtime logs every instruction at debug level; RUST_LOG=debug shows them.
            std::env::set_var("RUST_LOG", "error");
        }
        let mut pt = ProgramTest::new("concord", concord::ID, processor!(entry_wrapper));
        pt.prefer_bpf(false);
        let ctx = pt.start_with_context().await;
        let slot = ctx
            .banks_client
            .get_sysvar::<Clock>()
            .await
            .map(|c| c.slot)
            .unwrap_or_default();
        let chain = Arc::new(Chain {
            banks: ctx.banks_client.clone(),
            faucet: ctx.payer.insecure_clone(),
            genesis_hash: ctx.genesis_config().hash(),
            ctx: Mutex::new(ctx),
            slot: AtomicU64::new(slot),
            gate: tokio::sync::RwLock::new(()),
        });
        chain.sync_clock().await;
        chain
    }

    /// The working bank's slot.
    pub fn slot(&self) -> u64 {
        self.slot.load(Ordering::Acquire)
    }

    /// Sets the clock's unix_timestamp to wall time.
    async fn sync_clock(&self) {
        let ctx = self.ctx.lock().await;
        if let Ok(mut clock) = self.banks.get_sysvar::<Clock>().await {
            clock.unix_timestamp = unix_now();
            ctx.set_sysvar(&clock);
        }
    }

    /// Advances one slot every `slot_time` (a new bank, so a new blockhash) and keeps the clock's
    /// unix_timestamp on wall time, until the returned task is aborted.
    pub fn spawn_clock(self: &Arc<Self>, slot_time: Duration) -> tokio::task::JoinHandle<()> {
        let chain = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(slot_time);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                let exclusive = chain.gate.write().await;
                let mut ctx = chain.ctx.lock().await;
                let next = chain.slot.load(Ordering::Acquire) + 1;
                // A failed warp means the bank was already at `next`: move on from there.
                if let Err(e) = ctx.warp_to_slot(next) {
                    tracing::debug!("slot advance to {next}: {e:?}");
                }
                chain.slot.store(next, Ordering::Release);
                drop(ctx);
                chain.sync_clock().await;
                drop(exclusive);
            }
        })
    }
}
