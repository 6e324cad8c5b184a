//! [`ConcordClient`]: sending transactions (with blockhash refresh, bounded retries, optional
//! priority fee and compute-unit limit) and fetching Concord accounts.

use std::sync::Arc;
use std::time::Duration;

use anchor_lang::AccountDeserialize;
use concord::state::{Job, Market, Node, Pool};
use solana_commitment_config::CommitmentConfig;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcSendTransactionConfig, RpcSimulateTransactionConfig};
use solana_sdk::account::Account;
use solana_sdk::clock::Clock;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature, Signer};
use solana_sdk::transaction::Transaction;

use crate::error::{ClientError, Result};
use crate::ix::MarketInfo;

/// How transactions are sent.
#[derive(Clone, Debug)]
pub struct SendOptions {
    /// Priority fee in micro-lamports per compute unit (a ComputeBudget instruction), if any.
    pub priority_fee: Option<u64>,
    /// Compute-unit limit (a ComputeBudget instruction), if any.
    pub compute_unit_limit: Option<u32>,
    /// Attempts with a fresh blockhash before giving up.
    pub max_attempts: u32,
    /// How often signature statuses are polled.
    pub poll_interval: Duration,
    /// Run the preflight simulation (gives named errors before anything lands).
    pub preflight: bool,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            priority_fee: None,
            compute_unit_limit: None,
            max_attempts: 5,
            poll_interval: Duration::from_millis(200),
            preflight: true,
        }
    }
}

/// Transactions this client (and its clones) confirmed.
#[derive(Debug, Default)]
pub struct ClientStats {
    /// Confirmed transactions.
    pub transactions: std::sync::atomic::AtomicU64,
    /// Their signatures (the base fee is 5 000 lamports per signature).
    pub signatures: std::sync::atomic::AtomicU64,
}

impl ClientStats {
    /// (transactions, signatures) so far.
    pub fn get(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.transactions.load(Relaxed),
            self.signatures.load(Relaxed),
        )
    }
}

/// A Concord client: an RPC connection and the wallet that pays fees.
#[derive(Clone)]
pub struct ConcordClient {
    rpc: Arc<RpcClient>,
    payer: Arc<Keypair>,
    options: SendOptions,
    stats: Arc<ClientStats>,
}

impl ConcordClient {
    /// Connects to `rpc_url` at `confirmed` commitment with `payer` as fee payer.
    pub fn new(rpc_url: impl Into<String>, payer: Keypair) -> Self {
        let rpc = RpcClient::new_with_commitment(rpc_url.into(), CommitmentConfig::confirmed());
        Self::with_rpc(Arc::new(rpc), Arc::new(payer))
    }

    /// Wraps an existing RPC client and fee payer.
    pub fn with_rpc(rpc: Arc<RpcClient>, payer: Arc<Keypair>) -> Self {
        ConcordClient {
            rpc,
            payer,
            options: SendOptions::default(),
            stats: Arc::new(ClientStats::default()),
        }
    }

    /// Replaces the send options.
    pub fn with_options(mut self, options: SendOptions) -> Self {
        self.options = options;
        self
    }

    /// The underlying nonblocking RPC client.
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    /// The fee payer.
    pub fn payer(&self) -> &Keypair {
        &self.payer
    }

    /// The fee payer's address.
    pub fn payer_key(&self) -> Pubkey {
        self.payer.pubkey()
    }

    /// The send options in use.
    pub fn options(&self) -> &SendOptions {
        &self.options
    }

    /// Counts of what this client and its clones confirmed.
    pub fn stats(&self) -> &ClientStats {
        &self.stats
    }

    /// The ComputeBudget instructions `options` ask for, followed by `ixs`.
    pub fn with_budget(&self, ixs: &[Instruction]) -> Vec<Instruction> {
        let mut all = Vec::with_capacity(ixs.len() + 2);
        if let Some(limit) = self.options.compute_unit_limit {
            all.push(ComputeBudgetInstruction::set_compute_unit_limit(limit));
        }
        if let Some(price) = self.options.priority_fee {
            all.push(ComputeBudgetInstruction::set_compute_unit_price(price));
        }
        all.extend_from_slice(ixs);
        all
    }

    /// Signs `ixs` with the payer and `signers`, sends, and waits for confirmation. If the
    /// blockhash expires before confirmation, re-signs with a fresh one, up to `max_attempts`.
    pub async fn send(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Signature> {
        let ixs = self.with_budget(ixs);
        let mut keys: Vec<&Keypair> = vec![&self.payer];
        keys.extend(signers.iter().filter(|k| k.pubkey() != self.payer.pubkey()));
        let config = RpcSendTransactionConfig {
            skip_preflight: !self.options.preflight,
            preflight_commitment: Some(self.rpc.commitment().commitment),
            max_retries: Some(0),
            ..Default::default()
        };
        for attempt in 1..=self.options.max_attempts {
            let blockhash = self.rpc.get_latest_blockhash().await?;
            let tx = sign(&ixs, &self.payer.pubkey(), &keys, blockhash)?;
            let signature = match self.rpc.send_transaction_with_config(&tx, config).await {
                Ok(sig) => sig,
                Err(e) => {
                    let e = ClientError::from(e);
                    // Named program errors and runtime refusals are final; transport errors retry.
                    if matches!(e, ClientError::Rpc(_)) && attempt < self.options.max_attempts {
                        tracing::warn!(attempt, error = %e, "send failed; retrying");
                        tokio::time::sleep(self.options.poll_interval).await;
                        continue;
                    }
                    return Err(e);
                }
            };
            if self.confirm(&signature, &blockhash).await? {
                use std::sync::atomic::Ordering::Relaxed;
                self.stats.transactions.fetch_add(1, Relaxed);
                self.stats
                    .signatures
                    .fetch_add(tx.signatures.len() as u64, Relaxed);
                return Ok(signature);
            }
            tracing::warn!(attempt, %signature, "blockhash expired before confirmation; re-signing");
        }
        Err(ClientError::NotConfirmed {
            attempts: self.options.max_attempts,
        })
    }

    /// Polls until `signature` is confirmed (Ok(true)), fails (Err), or `blockhash` expires
    /// without it landing (Ok(false)).
    async fn confirm(
        &self,
        signature: &Signature,
        blockhash: &solana_sdk::hash::Hash,
    ) -> Result<bool> {
        loop {
            let statuses = self.rpc.get_signature_statuses(&[*signature]).await?.value;
            if let Some(Some(status)) = statuses.first() {
                if let Some(err) = &status.err {
                    return Err(ClientError::from(err.clone()));
                }
                if status.satisfies_commitment(self.rpc.commitment()) {
                    return Ok(true);
                }
            } else if !self
                .rpc
                .is_blockhash_valid(blockhash, self.rpc.commitment())
                .await?
            {
                // One last look: it may have landed just before expiry.
                let last = self.rpc.get_signature_statuses(&[*signature]).await?.value;
                return match last.first() {
                    Some(Some(s)) if s.err.is_none() => Ok(true),
                    Some(Some(s)) => Err(ClientError::from(s.err.clone().expect("checked"))),
                    _ => Ok(false),
                };
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
    }

    /// Compute units the transaction would consume (`simulateTransaction`'s `unitsConsumed`).
    /// Meaningful on a real cluster; natively run programs (the embedded localnet) are not metered.
    pub async fn simulate_units(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Option<u64>> {
        let ixs = self.with_budget(ixs);
        let mut keys: Vec<&Keypair> = vec![&self.payer];
        keys.extend(signers.iter().filter(|k| k.pubkey() != self.payer.pubkey()));
        let blockhash = self.rpc.get_latest_blockhash().await?;
        let tx = sign(&ixs, &self.payer.pubkey(), &keys, blockhash)?;
        let res = self
            .rpc
            .simulate_transaction_with_config(&tx, RpcSimulateTransactionConfig::default())
            .await?
            .value;
        if let Some(err) = res.err {
            return Err(ClientError::from(
                solana_sdk::transaction::TransactionError::from(err),
            ));
        }
        Ok(res.units_consumed)
    }

    // ----- accounts ------------------------------------------------------------------------

    /// The raw account, or `None` if it does not exist.
    pub async fn account(&self, address: &Pubkey) -> Result<Option<Account>> {
        Ok(self
            .rpc
            .get_account_with_commitment(address, self.rpc.commitment())
            .await?
            .value)
    }

    async fn decode<T: AccountDeserialize>(
        &self,
        address: &Pubkey,
        kind: &'static str,
    ) -> Result<T> {
        let acc = self
            .account(address)
            .await?
            .ok_or(ClientError::AccountNotFound(*address))?;
        decode_account(address, &acc, kind)
    }

    /// The market at `address`, decoded.
    pub async fn market(&self, address: &Pubkey) -> Result<MarketInfo> {
        Ok(MarketInfo {
            address: *address,
            state: self.decode::<Market>(address, "Concord market").await?,
        })
    }

    /// The node at `address`, decoded.
    pub async fn node(&self, address: &Pubkey) -> Result<Node> {
        self.decode(address, "Concord node").await
    }

    /// The job at `address`, decoded.
    pub async fn job(&self, address: &Pubkey) -> Result<Job> {
        self.decode(address, "Concord job").await
    }

    /// Decodes many accounts of one type with getMultipleAccounts (100 per request); missing
    /// accounts come back as `None`.
    pub async fn accounts_batch<T: AccountDeserialize>(
        &self,
        addresses: &[Pubkey],
        kind: &'static str,
    ) -> Result<Vec<Option<T>>> {
        let mut out = Vec::with_capacity(addresses.len());
        for chunk in addresses.chunks(100) {
            let accounts = self
                .rpc
                .get_multiple_accounts_with_commitment(chunk, self.rpc.commitment())
                .await?
                .value;
            for (address, acc) in chunk.iter().zip(accounts) {
                out.push(match acc {
                    Some(acc) => Some(decode_account(address, &acc, kind)?),
                    None => None,
                });
            }
        }
        Ok(out)
    }

    /// Jobs `ids` of `market`, batched; closed or never-created ids are `None`.
    pub async fn jobs(
        &self,
        market: &Pubkey,
        ids: std::ops::Range<u64>,
    ) -> Result<Vec<(u64, Pubkey, Option<Job>)>> {
        let addresses: Vec<Pubkey> = ids
            .clone()
            .map(|id| crate::pda::job_address(market, id))
            .collect();
        let jobs = self
            .accounts_batch::<Job>(&addresses, "Concord job")
            .await?;
        Ok(ids
            .zip(addresses)
            .zip(jobs)
            .map(|((id, a), j)| (id, a, j))
            .collect())
    }

    /// Token balance (raw units) of a token account.
    pub async fn token_balance(&self, token_account: &Pubkey) -> Result<u64> {
        let b = self.rpc.get_token_account_balance(token_account).await?;
        b.amount
            .parse()
            .map_err(|_| ClientError::InvalidInput(format!("bad token amount '{}'", b.amount)))
    }

    /// The current slot.
    pub async fn slot(&self) -> Result<u64> {
        Ok(self
            .rpc
            .get_slot_with_commitment(self.rpc.commitment())
            .await?)
    }

    /// The market's pool, decoded (about 115 KB).
    pub async fn pool(&self, market: &MarketInfo) -> Result<Box<Pool>> {
        let address = market.pool();
        let acc = self
            .account(&address)
            .await?
            .ok_or(ClientError::AccountNotFound(address))?;
        Pool::from_account_data(&acc.data).ok_or_else(|| ClientError::InvalidAccount {
            address,
            kind: "Concord pool",
            reason: "not a pool account".into(),
        })
    }

    /// Waits until the market's pool starts its next epoch: nodes that joined (or changed)
    /// before are drawable by jobs created from then on. Returns the slot reached.
    pub async fn wait_for_next_pool_epoch(&self, market: &MarketInfo) -> Result<u64> {
        let epoch_slots = self.pool(market).await?.epoch_slots.max(1);
        let target = (self.slot().await? / epoch_slots + 1) * epoch_slots;
        loop {
            let slot = self.slot().await?;
            if slot >= target {
                return Ok(slot);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The SlotHashes sysvar's data (the draw's seeds).
    pub async fn slot_hashes(&self) -> Result<Vec<u8>> {
        let address = crate::ix::SLOT_HASHES;
        Ok(self
            .account(&address)
            .await?
            .ok_or(ClientError::AccountNotFound(address))?
            .data)
    }

    /// The draw of an open job as the program will compute it now (seats, backups, skipped
    /// nodes). Fails while the job's creation slot has not passed yet.
    pub async fn preview_draw(
        &self,
        market: &MarketInfo,
        address: &Pubkey,
        job: &Job,
    ) -> Result<crate::draw::DrawPreview> {
        let mut pool = self.pool(market).await?;
        let hashes = self.slot_hashes().await?;
        crate::draw::preview(&mut pool, address, job, &hashes).map_err(|e| {
            ClientError::InvalidInput(match e {
                crate::draw::NotYet::SlotHashUnknown => format!(
                    "job {address} cannot be drawn yet: its creation slot {} has not passed",
                    job.created_slot
                ),
                crate::draw::NotYet::SnapshotGone => {
                    format!("job {address} is past its draw horizon")
                }
            })
        })
    }

    /// The cluster's clock (for deadlines).
    pub async fn clock(&self) -> Result<Clock> {
        let acc = self
            .account(&solana_sdk::sysvar::clock::ID)
            .await?
            .ok_or(ClientError::AccountNotFound(solana_sdk::sysvar::clock::ID))?;
        bincode_clock(&acc.data).ok_or_else(|| ClientError::InvalidAccount {
            address: solana_sdk::sysvar::clock::ID,
            kind: "clock sysvar",
            reason: "unexpected layout".into(),
        })
    }

    /// Checks the conservation invariant on chain: the vault holds exactly
    /// `total_stake + total_earnings + total_escrow + treasury`. Returns (vault, expected).
    pub async fn check_conservation(&self, market: &Pubkey) -> Result<(u64, u64)> {
        let m = self.market(market).await?;
        let vault = self.token_balance(&m.vault()).await?;
        let expected =
            m.state
                .expected_vault_balance()
                .ok_or_else(|| ClientError::InvalidAccount {
                    address: *market,
                    kind: "Concord market",
                    reason: "totals overflow".into(),
                })?;
        Ok((vault, expected))
    }
}

/// Builds and signs a transaction, with a clear error if a required signer is missing.
pub fn sign(
    ixs: &[Instruction],
    payer: &Pubkey,
    keys: &[&Keypair],
    blockhash: solana_sdk::hash::Hash,
) -> Result<Transaction> {
    let mut tx = Transaction::new_with_payer(ixs, Some(payer));
    let required = tx.message.header.num_required_signatures as usize;
    if let Some(missing) = tx.message.account_keys[..required]
        .iter()
        .find(|k| !keys.iter().any(|kp| kp.pubkey() == **k))
    {
        return Err(ClientError::InvalidInput(format!(
            "the transaction needs a signature from {missing}, but no keypair for it was given"
        )));
    }
    tx.try_sign(&keys.to_vec(), blockhash)
        .map_err(|e| ClientError::InvalidInput(format!("cannot sign the transaction: {e}")))?;
    Ok(tx)
}

fn decode_account<T: AccountDeserialize>(
    address: &Pubkey,
    acc: &Account,
    kind: &'static str,
) -> Result<T> {
    if acc.owner != concord::ID {
        return Err(ClientError::InvalidAccount {
            address: *address,
            kind,
            reason: format!("owned by {}, not the Concord program", acc.owner),
        });
    }
    T::try_deserialize(&mut acc.data.as_slice()).map_err(|e| ClientError::InvalidAccount {
        address: *address,
        kind,
        reason: e.to_string(),
    })
}

/// The Clock sysvar's layout: slot u64, epoch_start_timestamp i64, epoch u64,
/// leader_schedule_epoch u64, unix_timestamp i64.
fn bincode_clock(data: &[u8]) -> Option<Clock> {
    let word = |i: usize| -> Option<[u8; 8]> { data.get(i * 8..i * 8 + 8)?.try_into().ok() };
    Some(Clock {
        slot: u64::from_le_bytes(word(0)?),
        epoch_start_timestamp: i64::from_le_bytes(word(1)?),
        epoch: u64::from_le_bytes(word(2)?),
        leader_schedule_epoch: u64::from_le_bytes(word(3)?),
        unix_timestamp: i64::from_le_bytes(word(4)?),
    })
}
