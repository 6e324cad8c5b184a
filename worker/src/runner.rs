//! The job loop: discover jobs → compute their draw → for each seat of this node (or a backup
//! seat once reassigned): verify the input → compute → journal → commit (drawing the job if
//! nobody has) → reveal (settling the job if it is the last) → publish the output once the job
//! is Settled with this node's digest.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use concord::settlement::{next_transition, Transition};
use concord::state::{input_invalid_digest, Job, JobState, SeatStatus};
use concord_client::draw::DrawPreview;
use concord_client::kernels::{KernelParams, Limits};
use concord_client::{data, ix, ClientError, ConcordClient, ConcordError, MarketInfo, SendOptions};
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
    /// Job ids already decided on (served, or drawn for other nodes), so they are not
    /// reconsidered. Jobs where this node is a backup stay undecided until they end.
    decided: Mutex<HashSet<u64>>,
    /// Lowest job id that may still be live.
    cursor: Mutex<u64>,
    /// The GPU, when CUDA is offered and a device was found.
    gpu: Option<Arc<crate::cuda::CudaBackend>>,
}

/// A worker whose job loop runs on a tokio runtime, as [`Worker::spawn`] starts it. The binary,
/// the demo, the tests and the system benchmark all run workers through this one handle.
pub struct WorkerHandle {
    worker: Arc<Worker>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<()>>,
    /// The HTTP endpoints (published outputs, `/metrics`): they serve while the handle lives.
    _endpoints: Endpoints,
}

/// Server tasks that end when dropped.
struct Endpoints(Vec<tokio::task::AbortHandle>);

impl Drop for Endpoints {
    fn drop(&mut self) {
        for e in &self.0 {
            e.abort();
        }
    }
}

impl WorkerHandle {
    /// The running worker (its operator key, metrics and transaction counts).
    pub fn worker(&self) -> &Arc<Worker> {
        &self.worker
    }

    /// Asks the loop to stop: no new seat is taken up, jobs in flight are left to the journal.
    /// Calling it again does nothing; [`join`](Self::join) waits for the loop to end.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Whether the loop has ended (stopped, failed or killed).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits for the loop to end and returns how it ended: its own error (an unregistered node,
    /// a corrupt journal, an unreachable market), or a panic or [`kill`](Self::kill) as one.
    pub async fn join(self) -> Result<()> {
        Self::ended(self.task.await)
    }

    /// Waits until the loop ends by itself (then as [`join`](Self::join)) or `signal` resolves
    /// (then as [`shutdown`](Self::shutdown)): the binary's Ctrl-C / SIGTERM handling.
    pub async fn join_until(mut self, signal: impl std::future::Future<Output = ()>) -> Result<()> {
        tokio::select! {
            ended = &mut self.task => Self::ended(ended),
            () = signal => self.shutdown().await,
        }
    }

    fn ended(result: Result<Result<()>, tokio::task::JoinError>) -> Result<()> {
        match result {
            Ok(result) => result,
            Err(e) if e.is_cancelled() => anyhow::bail!("the worker was killed"),
            Err(e) => anyhow::bail!("the worker's job loop panicked: {e}"),
        }
    }

    /// [`stop`](Self::stop), then [`join`](Self::join).
    pub async fn shutdown(self) -> Result<()> {
        self.stop();
        self.join().await
    }

    /// Ends the loop at once, as a crash would: nothing in flight finishes, and a worker started
    /// again on the same data directory resumes from the journal.
    pub fn kill(&self) {
        self.task.abort();
        for e in &self._endpoints.0 {
            e.abort();
        }
    }
}

/// A non-blocking listener on `addr`, for the current runtime.
fn listen(addr: &str) -> Result<tokio::net::TcpListener> {
    let l =
        std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    l.set_nonblocking(true)?;
    Ok(tokio::net::TcpListener::from_std(l)?)
}

impl Worker {
    /// Creates a worker from `cfg` and starts, on the current tokio runtime, its job loop and
    /// its HTTP endpoints: published outputs on `publish.bind` (HTTP publishing) and `/metrics`
    /// on `metrics_addr`. A port that cannot be bound is an error, before the loop starts.
    pub fn spawn(cfg: WorkerConfig) -> Result<WorkerHandle> {
        let runtime = tokio::runtime::Handle::try_current()
            .context("Worker::spawn needs a tokio runtime: call it from inside one")?;
        let _entered = runtime.enter();
        let worker = Worker::new(cfg)?;
        let mut servers = vec![];
        if let crate::config::Publish::Http { dir, bind, .. } = &worker.cfg.publish {
            let listener = listen(bind)?;
            tracing::info!(%bind, "serving published outputs and /metrics");
            let serve = publish::serve(listener, Some(dir.clone()), Arc::clone(&worker.metrics));
            servers.push(runtime.spawn(serve).abort_handle());
        }
        if let Some(addr) = &worker.cfg.metrics_addr {
            let listener = listen(addr)?;
            tracing::info!(%addr, "serving /metrics");
            let serve = publish::serve(listener, None, Arc::clone(&worker.metrics));
            servers.push(runtime.spawn(serve).abort_handle());
        }
        let (stop, shutdown) = watch::channel(false);
        let task = runtime.spawn(Arc::clone(&worker).run(shutdown));
        Ok(WorkerHandle {
            worker,
            stop,
            task,
            _endpoints: Endpoints(servers),
        })
    }

    fn new(cfg: WorkerConfig) -> Result<Arc<Worker>> {
        cfg.validate()?;
        let kp = read_keypair_file(&cfg.keypair)
            .map_err(|e| anyhow::anyhow!("cannot read keypair {}: {e}", cfg.keypair.display()))?;
        let client = ConcordClient::new(cfg.rpc_url.clone(), kp.insecure_clone()).with_options(
            SendOptions {
                priority_fee: cfg.priority_fee,
                ..SendOptions::default()
            },
        );
        let gpu = if cfg.backends.contains(&concord_client::spec::Backend::Cuda) {
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
            market: cfg.market,
            journal: Journal::open(&cfg.data_dir.join("journal"))?,
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
    /// ones. On shutdown no new seat is taken up and in-flight jobs are left to the journal. A
    /// corrupt journal is an error before anything is sent.
    async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let market = self.market().await.context("cannot read the market")?;
        let node = market.node_address(&self.operator());
        if self.client.account(&node).await?.is_none() {
            anyhow::bail!(
                "{} has no node in market {}: register it first with `concord -k <THIS_KEYPAIR> --market {} node register …`",
                self.operator(),
                self.market,
                self.market
            );
        }
        let journaled = self.journal.all()?;
        self.sync_terms(&market).await?;
        let slots = Arc::new(Semaphore::new(self.cfg.max_concurrent_jobs));
        let mut tasks = tokio::task::JoinSet::new();
        for entry in journaled {
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
            "shutting down: no new jobs; in-flight jobs resume from the journal"
        );
        Ok(())
    }

    /// Sets the on-chain ask and availability to the config's, where it states them.
    async fn sync_terms(&self, market: &MarketInfo) -> Result<()> {
        let me = self.operator();
        let node = self.client.node(&market.node_address(&me)).await?;
        let mut ixs = vec![];
        if let Some(ask) = self.cfg.ask.filter(|a| *a != node.ask) {
            tracing::info!(ask, "setting the node's ask");
            ixs.push(ix::set_ask(market, &me, ask));
        }
        if let Some(available) = self.cfg.available.filter(|a| *a != node.available) {
            tracing::info!(available, "setting the node's availability");
            ixs.push(ix::set_available(market, &me, available));
        }
        if !ixs.is_empty() {
            self.client.send(&ixs, &[&self.kp]).await?;
        }
        Ok(())
    }

    async fn discover(
        self: &Arc<Self>,
        slots: &Arc<Semaphore>,
        tasks: &mut tokio::task::JoinSet<()>,
    ) -> Result<()> {
        let market = self.market().await?;
        let me = market.node_address(&self.operator());
        let mut cursor = *self.cursor.lock().await;
        let end = market.state.next_job_id;
        let mut lowest_live = None;
        // The pool and SlotHashes, read once a round and only if an undrawn job needs them.
        let mut draw_data: Option<(Box<concord::state::Pool>, Vec<u8>)> = None;
        while cursor < end {
            let hi = (cursor + BATCH).min(end);
            let jobs = self.client.jobs(&self.market, cursor..hi).await;
            self.counted(&jobs);
            for (id, address, job) in jobs? {
                let Some(job) = job else { continue };
                if job.state.is_terminal() {
                    continue;
                }
                lowest_live.get_or_insert(id);
                if self.decided.lock().await.contains(&id) {
                    continue;
                }
                let role = match job.state {
                    JobState::Open => {
                        if draw_data.is_none() {
                            let pool = self.client.pool(&market).await?;
                            let hashes = self.client.slot_hashes().await?;
                            Metrics::add(&self.metrics.rpc_requests, 2);
                            draw_data = Some((pool, hashes));
                        }
                        let (pool, hashes) = draw_data.as_mut().expect("just set");
                        match concord_client::draw::preview(pool, &address, &job, hashes) {
                            Ok(p) => Role::of_preview(&p, &me),
                            Err(_) => continue, // not drawable yet: next round
                        }
                    }
                    _ => Role::of_job(&job, &me),
                };
                match role {
                    Role::Seat => {}
                    Role::Backup => continue, // watched until reassigned or over
                    Role::None => {
                        self.decided.lock().await.insert(id);
                        continue;
                    }
                }
                let Ok(permit) = Arc::clone(slots).try_acquire_owned() else {
                    return Ok(()); // busy: look again next round
                };
                self.decided.lock().await.insert(id);
                Metrics::inc(&self.metrics.seats_drawn);
                let me_ = Arc::clone(self);
                let market = market.clone();
                tasks.spawn(async move {
                    if let Err(e) = me_.serve(&market, id, address, job).await {
                        tracing::warn!(job_id = id, error = %e, "job abandoned");
                    }
                    drop(permit);
                });
            }
            cursor = hi;
        }
        *self.cursor.lock().await = lowest_live.unwrap_or(end);
        Ok(())
    }

    /// Journals the seat, verifies the input, computes and journals the commitment; then
    /// follows the job up. A job still undrawn past half its horizon is drawn first, so that a
    /// slow computation cannot let it expire.
    async fn serve(&self, market: &MarketInfo, id: u64, address: Pubkey, job: Job) -> Result<()> {
        tracing::info!(job_id = id, kernel = job.kernel, "drawn for a seat");
        if job.state == JobState::Open {
            let r = self.client.crank(market, &address, &job).await;
            self.counted(&r);
        }
        let private = self
            .cfg
            .data_dir
            .join("outputs")
            .join(format!("{address}.bin"));
        self.journal.put(&Entry {
            job: address.to_string(),
            job_id: id,
            step: Step::Computing,
            salt: String::new(),
            digest: String::new(),
            output_file: private,
        })?;
        if self.cfg.fault == Some(Fault::DelayBeforeComputeForTesting) {
            tokio::time::sleep(Duration::from_secs(4)).await;
        }
        let entry = self.compute_and_journal(&address, id, &job).await?;
        self.follow_up(entry).await;
        Ok(())
    }

    /// Fetches and verifies the input, runs the kernel (GPU when allowed and present, else CPU),
    /// stores the output privately and journals salt and digest, durably, before any commit is
    /// sent. An input that cannot be fetched or does not match its digest (or parameters that do
    /// not decode) is committed as [`input_invalid_digest`]: the honest seats agree on it and are
    /// paid, so a buyer cannot get them slashed with a job nobody can run.
    async fn compute_and_journal(&self, address: &Pubkey, id: u64, job: &Job) -> Result<Entry> {
        let output = match self.fetch_and_run(job).await {
            Ok(out) => Some(out),
            Err(reason) => {
                Metrics::inc(&self.metrics.inputs_rejected);
                tracing::warn!(job_id = id, %reason, "input invalid: committing the invalid-input digest");
                None
            }
        };
        let private = self
            .cfg
            .data_dir
            .join("outputs")
            .join(format!("{address}.bin"));
        let digest = match &output {
            Some(bytes) => {
                write_durably(&private, bytes)?;
                data::sha256(bytes)
            }
            None => input_invalid_digest(address),
        };
        let salt: [u8; 32] = rand::random();
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

    /// The job's output, or why its input or parameters cannot be used.
    async fn fetch_and_run(&self, job: &Job) -> Result<Vec<u8>, String> {
        let params = KernelParams::decode(job.kernel, &job.params, &Limits::default())
            .map_err(|e| e.to_string())?;
        let expected = params.input_len().unwrap_or(u64::MAX);
        if expected > self.cfg.max_input_bytes {
            return Err(format!(
                "the input would be {expected} bytes, over max_input_bytes = {}",
                self.cfg.max_input_bytes
            ));
        }
        let policy = self.cfg.fetch_policy();
        let input = data::fetch_verified_with(&job.input_uri, &job.input_digest, &policy)
            .await
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        // The GPU when this job allows CUDA and a device is here; otherwise (or if the GPU run
        // fails) the CPU backend, whose bytes are the same.
        let gpu = self
            .gpu
            .clone()
            .filter(|_| job.requirements.backends & concord::constants::BACKEND_CUDA != 0);
        let run = tokio::task::spawn_blocking(move || {
            if let Some(gpu) = gpu {
                match gpu.run(&params, &input) {
                    Ok(out) => return Ok(out),
                    // Refused parameters or input: the CPU backend refuses them the same way.
                    Err(crate::cuda::GpuError::Input(e)) => return Err(e),
                    Err(e) => {
                        tracing::warn!(error = %e, "GPU run failed; computing on the CPU backend")
                    }
                }
            }
            kernels::run_cpu(&params, &input, &Limits::default())
        })
        .await
        .map_err(|e| format!("kernel task: {e}"))?;
        let mut output = run.map_err(|e| e.to_string())?;
        self.metrics.kernel_micros.fetch_add(
            started.elapsed().as_micros() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        if self.cfg.fault == Some(Fault::FlipOutputByteForTesting) && !output.is_empty() {
            output[0] ^= 0x01;
        }
        Ok(output)
    }

    /// Drives a journaled job to its end: compute (after a restart), commit (if it has not
    /// landed), reveal when the reveal phase is open, crank settlement when due, publish the
    /// output if the job settled with this node's digest, record the outcome.
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
        if entry.step == Step::Computing && !job.state.is_terminal() {
            // Killed before the commitment was journaled: compute now.
            *entry = self
                .compute_and_journal(address, entry.job_id, &job)
                .await?;
            return Ok(false);
        }
        let me = self.operator();
        let status = job.seats.iter().find(|s| s.node == *node).map(|s| s.status);
        let status = match (job.state, status) {
            // Undrawn: the draw gives this node a seat (the commit will draw it).
            (JobState::Open, None) => SeatStatus::Assigned,
            (_, Some(s)) => s,
            (_, None) => {
                // The seat went to a backup (this node did not commit in time), or the draw
                // changed: nothing more to do.
                self.journal.remove(&entry.job)?;
                return Ok(true);
            }
        };
        match status {
            SeatStatus::Paid | SeatStatus::Slashed | SeatStatus::Released => {
                let counter = match status {
                    SeatStatus::Paid => {
                        // Paid means this node's digest is the accepted one: publish it now.
                        if entry.digest() != input_invalid_digest(address) {
                            publish::publish(&self.cfg.publish, &entry.job, &entry.output_file)?;
                        }
                        self.metrics
                            .earnings_raw
                            .fetch_add(job.reward_per_worker, std::sync::atomic::Ordering::Relaxed);
                        &self.metrics.jobs_paid
                    }
                    SeatStatus::Slashed => &self.metrics.jobs_slashed,
                    _ => &self.metrics.jobs_released,
                };
                Metrics::inc(counter);
                tracing::info!(job = %entry.job, outcome = ?status, "job settled");
                self.journal.remove(&entry.job)?;
                return Ok(true);
            }
            SeatStatus::Assigned => {
                if job.state.is_terminal() {
                    return Ok(false); // settles on the next look
                }
                // While undrawn, this commit draws the job and passes the seat holders.
                let seats = if job.state == JobState::Open {
                    let preview: DrawPreview =
                        self.client.preview_draw(&market, address, &job).await?;
                    if !preview.seats.contains(node) {
                        self.journal.remove(&entry.job)?;
                        return Ok(true);
                    }
                    preview.seats
                } else {
                    vec![]
                };
                // The journaled commitment, never a new one.
                let c = ix::commitment(address, node, &entry.digest(), &entry.salt());
                let r = self
                    .client
                    .send(
                        &[ix::commit_result(&market, address, &me, c, &seats)],
                        &[&self.kp],
                    )
                    .await;
                self.counted(&r);
                match r {
                    Ok(_) => {
                        Metrics::inc(&self.metrics.jobs_committed);
                        entry.step = Step::Committed;
                        self.journal.put(entry)?;
                        tracing::info!(job = %entry.job, "committed");
                    }
                    Err(e) if e.is(ConcordError::CommitWindowClosed) => {
                        self.crank(&market, address, &job).await
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            SeatStatus::Committed => {
                let now = self.client.clock().await?.unix_timestamp;
                let slot = self.client.slot().await?;
                let reveal_open = job.state == JobState::Revealing
                    || next_transition(&job, now, slot) == Transition::OpenReveals;
                if reveal_open {
                    // The URI the output will be served at once paid; nothing is readable yet.
                    let uri = publish::uri(&self.cfg.publish, &entry.job)?;
                    let ix = ix::reveal_result(
                        &market,
                        address,
                        &job,
                        &me,
                        entry.digest(),
                        entry.salt(),
                        uri,
                    );
                    let r = self.client.send(&[ix], &[&self.kp]).await;
                    self.counted(&r);
                    match r {
                        Ok(_) => {
                            Metrics::inc(&self.metrics.jobs_revealed);
                            entry.step = Step::Revealed;
                            self.journal.put(entry)?;
                            tracing::info!(job = %entry.job, "revealed");
                        }
                        Err(e) if e.is(ConcordError::RevealWindowClosed) => {
                            self.crank(&market, address, &job).await
                        }
                        Err(e) => return Err(e.into()),
                    }
                } else {
                    self.crank(&market, address, &job).await;
                }
            }
            SeatStatus::Revealed => self.crank(&market, address, &job).await,
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
        let owner = self.cfg.withdraw_to.unwrap_or(me);
        let dest = market.token_account_of(&owner);
        let ixs = [
            ix::create_token_account_idempotent(
                &me,
                &owner,
                &market.mint(),
                &market.token_program(),
            ),
            ix::withdraw_earnings(&market, &me, &dest, node.earnings),
        ];
        let r = self.client.send(&ixs, &[&self.kp]).await;
        self.counted(&r);
        r?;
        tracing::info!(amount = node.earnings, to = %owner, "earnings withdrawn");
        Ok(())
    }
}

/// What the draw made of this node for one job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Seat,
    Backup,
    None,
}

impl Role {
    fn of_preview(p: &DrawPreview, me: &Pubkey) -> Role {
        if p.seats.contains(me) {
            Role::Seat
        } else if p.backups.contains(me) {
            Role::Backup
        } else {
            Role::None
        }
    }

    fn of_job(job: &Job, me: &Pubkey) -> Role {
        match job.seats.iter().find(|s| s.node == *me) {
            Some(s) if s.status == SeatStatus::Assigned => Role::Seat,
            Some(_) => Role::None, // already served (a journaled job resumes on its own)
            None if job.backups.contains(me) => Role::Backup,
            None => Role::None,
        }
    }
}
