//! The job loop: discover → verify input → claim → compute → journal → commit → reveal → settle.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use concord::settlement::{next_transition, Transition};
use concord::state::{Job, JobState, SlotStatus};
use concord_client::kernels::{KernelParams, Limits};
use concord_client::{data, ix, ClientError, ConcordClient, MarketInfo, SendOptions};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, Keypair, Signer};
use tokio::sync::{watch, Mutex, Semaphore};

use crate::config::{Fault, WorkerConfig};
use crate::journal::{write_durably, Entry, Journal, Step};
use crate::kernels;
use crate::metrics::Metrics;
use crate::publish;

/// Jobs scanned per getMultipleAccounts request.
const BATCH: u64 = 100;

/// A running node.
pub struct Worker {
    cfg: WorkerConfig,
    client: ConcordClient,
    kp: Arc<Keypair>,
    market: Pubkey,
    journal: Journal,
    pub metrics: Arc<Metrics>,
    backends: u8,
    /// Job ids already decided on (claimed, skipped or refused), so they are not reconsidered.
    decided: Mutex<HashSet<u64>>,
    /// Lowest job id that may still be open.
    cursor: Mutex<u64>,
    /// The GPU, when CUDA is offered and a device was found.
    gpu: Option<Arc<crate::cuda::CudaBackend>>,
}

impl Worker {
    pub fn new(cfg: WorkerConfig) -> Result<Arc<Worker>> {
        cfg.validate()?;
        let kp = read_keypair_file(&cfg.keypair)
            .map_err(|e| anyhow::anyhow!("cannot read keypair {}: {e}", cfg.keypair.display()))?;
        let client = ConcordClient::new(cfg.rpc_url.clone(), kp.insecure_clone()).with_options(
            SendOptions {
                priority_fee: cfg.priority_fee,
                ..SendOptions::default()
            },
        );
        let gpu = if cfg.backends.iter().any(|b| b == "cuda") {
            match crate::cuda::CudaBackend::detect() {
                Ok(g) => {
                    tracing::info!(device = %g.name, cc = g.compute_capability, vram_mib = g.vram_mib, "CUDA backend ready");
                    Some(Arc::new(g))
                }
                Err(reason) => {
                    tracing::warn!(%reason, "CUDA offered but unavailable; running every kernel on the bit-identical CPU backend");
                    None
                }
            }
        } else {
            None
        };
        Ok(Arc::new(Worker {
            gpu,
            market: cfg.market_key()?,
            journal: Journal::open(&cfg.data_dir.join("journal"))?,
            backends: cfg.backend_mask()?,
            metrics: Arc::new(Metrics::default()),
            kp: Arc::new(kp),
            client,
            cfg,
            decided: Mutex::new(HashSet::new()),
            cursor: Mutex::new(0),
        }))
    }

    pub fn operator(&self) -> Pubkey {
        self.kp.pubkey()
    }

    /// Transactions and signatures this worker confirmed.
    pub fn client_stats(&self) -> &concord_client::ClientStats {
        self.client.stats()
    }

    fn counted<T>(&self, r: &Result<T, ClientError>) {
        Metrics::inc(&self.metrics.rpc_requests);
        if matches!(r, Err(ClientError::Rpc(_))) {
            Metrics::inc(&self.metrics.rpc_errors);
        }
    }

    async fn market(&self) -> Result<MarketInfo, ClientError> {
        let r = self.client.market(&self.market).await;
        self.counted(&r);
        r
    }

    /// Runs until `shutdown` turns true: resumes journaled jobs, then discovers and serves new
    /// ones. On shutdown no new job is claimed and in-flight jobs are left to the journal.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let market = self.market().await.context("cannot read the market")?;
        let node = market.node_address(&self.operator());
        if self.client.account(&node).await?.is_none() {
            anyhow::bail!(
                "{} has no node in market {}: run `concord-worker register` first",
                self.operator(),
                self.market
            );
        }
        let slots = Arc::new(Semaphore::new(self.cfg.max_concurrent_jobs));
        let mut tasks = tokio::task::JoinSet::new();
        for entry in self.journal.all() {
            tracing::info!(job = %entry.job, step = ?entry.step, "resuming journaled job");
            self.decided.lock().await.insert(entry.job_id);
            let me = Arc::clone(&self);
            let permit = Arc::clone(&slots).acquire_owned().await?;
            tasks.spawn(async move {
                me.follow_up(entry).await;
                drop(permit);
            });
        }
        let mut backoff = Duration::from_millis(self.cfg.poll_interval_ms);
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.discover(&slots, &mut tasks).await {
                Ok(()) => backoff = Duration::from_millis(self.cfg.poll_interval_ms),
                Err(e) => {
                    tracing::warn!(error = %e, "discovery failed; backing off {:?}", backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
            if let Err(e) = self.withdraw_if_due().await {
                tracing::warn!(error = %e, "earnings withdrawal failed");
            }
            while tasks.try_join_next().is_some() {}
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!(
            in_flight = tasks.len(),
            "shutting down: no new claims; in-flight jobs resume from the journal"
        );
        Ok(())
    }

    async fn discover(
        self: &Arc<Self>,
        slots: &Arc<Semaphore>,
        tasks: &mut tokio::task::JoinSet<()>,
    ) -> Result<()> {
        let market = self.market().await?;
        let node = self
            .client
            .node(&market.node_address(&self.operator()))
            .await?;
        Metrics::inc(&self.metrics.rpc_requests);
        if !node.is_active() {
            return Ok(());
        }
        let mut cursor = *self.cursor.lock().await;
        let end = market.state.next_job_id;
        let mut lowest_open = None;
        while cursor < end {
            let hi = (cursor + BATCH).min(end);
            let jobs = self.client.jobs(&self.market, cursor..hi).await;
            self.counted(&jobs);
            for (id, address, job) in jobs? {
                let Some(job) = job else { continue };
                if job.state != JobState::Open {
                    continue;
                }
                lowest_open.get_or_insert(id);
                if self.decided.lock().await.contains(&id) {
                    continue;
                }
                if let Some(reason) = self.cannot_serve(&job, &node.spec) {
                    tracing::debug!(job_id = id, reason, "skipping job");
                    self.decided.lock().await.insert(id);
                    continue;
                }
                let Ok(permit) = Arc::clone(slots).try_acquire_owned() else {
                    return Ok(()); // busy: look again next round
                };
                self.decided.lock().await.insert(id);
                let me = Arc::clone(self);
                let market = market.clone();
                tasks.spawn(async move {
                    if let Err(e) = me.serve(&market, id, address, job).await {
                        tracing::warn!(job_id = id, error = %e, "job abandoned");
                    }
                    drop(permit);
                });
            }
            cursor = hi;
        }
        *self.cursor.lock().await = lowest_open.unwrap_or(end);
        Ok(())
    }

    /// Why this node cannot take `job`, if it cannot.
    fn cannot_serve(&self, job: &Job, spec: &concord::NodeSpec) -> Option<&'static str> {
        let r = &job.requirements;
        if spec.vram_mib < r.min_vram_mib || spec.compute_capability < r.min_compute_capability {
            return Some("hardware requirements not met");
        }
        if r.backends & self.backends == 0 {
            return Some("no allowed backend offered");
        }
        if job
            .slots
            .iter()
            .any(|s| s.node == concord_client::pda::node_address(&self.market, &self.operator()))
        {
            return Some("already holds a slot");
        }
        match KernelParams::decode(job.kernel, &job.params, &Limits::default()) {
            Ok(p) if p.input_len().is_some_and(|l| l <= self.cfg.max_input_bytes) => None,
            Ok(_) => Some("input larger than max_input_bytes"),
            Err(_) => Some("invalid kernel parameters"),
        }
    }

    /// Verifies the input, claims, computes, journals and commits; then follows the job up.
    async fn serve(&self, market: &MarketInfo, id: u64, address: Pubkey, job: Job) -> Result<()> {
        let params = KernelParams::decode(job.kernel, &job.params, &Limits::default())?;
        // The input is fetched and checked before claiming: a bad input costs nobody collateral.
        let input = match data::fetch_verified(
            &job.input_uri,
            &job.input_digest,
            self.cfg.max_input_bytes,
        )
        .await
        {
            Ok(b) => b,
            Err(e) => {
                Metrics::inc(&self.metrics.inputs_rejected);
                tracing::warn!(job_id = id, error = %e, "refusing job: input failed verification");
                return Ok(());
            }
        };
        let me = self.operator();
        let private = self
            .cfg
            .data_dir
            .join("outputs")
            .join(format!("{address}.bin"));
        // Journaled before the claim is sent: a restart after the claim lands still commits.
        self.journal.put(&Entry {
            job: address.to_string(),
            job_id: id,
            step: Step::Claiming,
            salt: String::new(),
            digest: String::new(),
            output_file: private,
        })?;
        let claim = self
            .client
            .send(&[ix::claim_job(market, &address, &me)], &[&self.kp])
            .await;
        self.counted(&claim);
        if let Err(e) = claim {
            self.journal.remove(&address.to_string())?;
            Metrics::inc(&self.metrics.claims_lost);
            tracing::info!(job_id = id, error = %e, "claim not taken");
            return Ok(());
        }
        Metrics::inc(&self.metrics.jobs_claimed);
        tracing::info!(job_id = id, kernel = params.kernel().name(), "claimed");
        let entry = self.compute_and_journal(&address, id, &job, input).await?;
        self.follow_up(entry).await;
        Ok(())
    }

    /// Runs the kernel (GPU when allowed and present, else CPU), stores the output privately and
    /// journals salt and digest, durably, before any commit is sent.
    async fn compute_and_journal(
        &self,
        address: &Pubkey,
        id: u64,
        job: &Job,
        input: Vec<u8>,
    ) -> Result<Entry> {
        let params = KernelParams::decode(job.kernel, &job.params, &Limits::default())?;
        let started = Instant::now();
        // The GPU when this job allows CUDA and a device is here; otherwise (or if the GPU run
        // fails) the CPU backend, whose bytes are the same.
        let gpu = self
            .gpu
            .clone()
            .filter(|_| job.requirements.backends & concord::constants::BACKEND_CUDA != 0);
        let mut output = tokio::task::spawn_blocking(move || {
            if let Some(gpu) = gpu {
                match gpu.run(&params, &input) {
                    Ok(out) => return Ok(out),
                    Err(e) => {
                        tracing::warn!(error = %e, "GPU run failed; computing on the CPU backend")
                    }
                }
            }
            kernels::run_cpu(&params, &input, &Limits::default())
        })
        .await??;
        self.metrics.kernel_micros.fetch_add(
            started.elapsed().as_micros() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        if self.cfg.fault == Some(Fault::FlipOutputByteForTesting) && !output.is_empty() {
            output[0] ^= 0x01;
        }
        let digest = data::sha256(&output);
        let salt: [u8; 32] = rand::random();
        let private = self
            .cfg
            .data_dir
            .join("outputs")
            .join(format!("{address}.bin"));
        write_durably(&private, &output)?;
        let entry = Entry {
            job: address.to_string(),
            job_id: id,
            step: Step::Committing,
            salt: hex::encode(salt),
            digest: hex::encode(digest),
            output_file: private,
        };
        self.journal.put(&entry)?;
        Ok(entry)
    }

    /// Drives a journaled job to its end: commit (if it has not landed), reveal when the commit
    /// phase closes, crank settlement when due, record the outcome.
    pub async fn follow_up(&self, mut entry: Entry) {
        let address: Pubkey = match entry.job.parse() {
            Ok(a) => a,
            Err(_) => return,
        };
        let node = concord_client::pda::node_address(&self.market, &self.operator());
        let poll = Duration::from_millis(self.cfg.poll_interval_ms.min(500));
        loop {
            let step = self.advance(&address, &node, &mut entry).await;
            match step {
                Ok(true) => return,
                Ok(false) => {}
                Err(e) => tracing::warn!(job = %entry.job, error = %e, "job step failed; retrying"),
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// One step; `Ok(true)` when the job is over for this node.
    async fn advance(&self, address: &Pubkey, node: &Pubkey, entry: &mut Entry) -> Result<bool> {
        let market = self.market().await?;
        let job = match self.client.account(address).await? {
            Some(_) => self.client.job(address).await?,
            None => {
                // Closed by its buyer after settlement.
                self.journal.remove(&entry.job)?;
                return Ok(true);
            }
        };
        Metrics::inc(&self.metrics.rpc_requests);
        let Some(slot) = job.slots.iter().find(|s| s.node == *node) else {
            self.journal.remove(&entry.job)?;
            return Ok(true);
        };
        let me = self.operator();
        if entry.step == Step::Claiming
            && slot.status == SlotStatus::Claimed
            && !job.state.is_terminal()
        {
            // Killed between claiming and journaling the commitment: compute now.
            let input =
                data::fetch_verified(&job.input_uri, &job.input_digest, self.cfg.max_input_bytes)
                    .await?;
            *entry = self
                .compute_and_journal(address, entry.job_id, &job, input)
                .await?;
            return Ok(false);
        }
        match slot.status {
            SlotStatus::Paid | SlotStatus::Slashed | SlotStatus::Released => {
                let counter = match slot.status {
                    SlotStatus::Paid => {
                        self.metrics
                            .earnings_raw
                            .fetch_add(job.reward_per_worker, std::sync::atomic::Ordering::Relaxed);
                        &self.metrics.jobs_paid
                    }
                    SlotStatus::Slashed => &self.metrics.jobs_slashed,
                    _ => &self.metrics.jobs_released,
                };
                Metrics::inc(counter);
                tracing::info!(job = %entry.job, outcome = ?slot.status, "job settled");
                self.journal.remove(&entry.job)?;
                return Ok(true);
            }
            SlotStatus::Claimed => {
                if job.state.is_terminal() {
                    return Ok(false); // settles on the next look
                }
                // The journaled commitment, never a new one.
                let c = ix::commitment(address, node, &entry.digest(), &entry.salt());
                let r = self
                    .client
                    .send(&[ix::commit_result(&market, address, &me, c)], &[&self.kp])
                    .await;
                self.counted(&r);
                match r {
                    Ok(_) => {
                        Metrics::inc(&self.metrics.jobs_committed);
                        entry.step = Step::Committed;
                        self.journal.put(entry)?;
                        tracing::info!(job = %entry.job, "committed");
                    }
                    Err(e) if e.program_error_name() == Some("CommitWindowClosed") => {
                        self.crank(&market, address, &job).await
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            SlotStatus::Committed => {
                let now = self.client.clock().await?.unix_timestamp;
                let reveal_open = job.state == JobState::Revealing
                    || (job.state == JobState::Running
                        && next_transition(&job, now) == Transition::OpenReveals);
                if reveal_open {
                    // Only now, with the commit phase closed, does the output become readable.
                    let uri = publish::publish(&self.cfg.publish, &entry.job, &entry.output_file)?;
                    let ix =
                        ix::reveal_result(&market, address, &me, entry.digest(), entry.salt(), uri);
                    let r = self.client.send(&[ix], &[&self.kp]).await;
                    self.counted(&r);
                    match r {
                        Ok(_) => {
                            Metrics::inc(&self.metrics.jobs_revealed);
                            entry.step = Step::Revealed;
                            self.journal.put(entry)?;
                            tracing::info!(job = %entry.job, "revealed");
                        }
                        Err(e) if e.program_error_name() == Some("RevealWindowClosed") => {
                            self.crank(&market, address, &job).await
                        }
                        Err(e) => return Err(e.into()),
                    }
                } else {
                    self.crank(&market, address, &job).await;
                }
            }
            SlotStatus::Revealed => self.crank(&market, address, &job).await,
        }
        Ok(false)
    }

    async fn crank(&self, market: &MarketInfo, address: &Pubkey, job: &Job) {
        let r = self.client.crank(market, address, job).await;
        self.counted(&r);
        if let Err(e) = r {
            tracing::debug!(error = %e, "settle crank failed");
        }
    }

    async fn withdraw_if_due(&self) -> Result<()> {
        let Some(threshold) = self.cfg.withdraw_threshold else {
            return Ok(());
        };
        let market = self.market().await?;
        let node = self
            .client
            .node(&market.node_address(&self.operator()))
            .await?;
        if node.earnings == 0 || node.earnings < threshold {
            return Ok(());
        }
        let me = self.operator();
        let dest = market.token_account_of(&me);
        let ixs = [
            ix::create_token_account_idempotent(&me, &me, &market.mint(), &market.token_program()),
            ix::withdraw_earnings(&market, &me, &dest, node.earnings),
        ];
        let r = self.client.send(&ixs, &[&self.kp]).await;
        self.counted(&r);
        r?;
        tracing::info!(amount = node.earnings, "earnings withdrawn");
        Ok(())
    }
}
