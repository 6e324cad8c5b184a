//! The buyer's flow: submit a job, wait for the verified result, download and check the output.

use std::time::{Duration, Instant};

use concord::settlement::{next_transition, Transition};
use concord::state::{Job, JobState, SeatStatus};
use concord::{CreateJobArgs, Requirements};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature, Signer};

use crate::client::ConcordClient;
use crate::data;
use crate::error::{ClientError, Result};
use crate::ix::{self, MarketInfo};
use crate::kernels::KernelParams;

/// Everything a buyer decides about a job.
#[derive(Clone, Debug)]
pub struct JobSpec {
    /// Kernel and parameters.
    pub params: KernelParams,
    /// `http(s)://` or `inline:` URI of the input (`file://` only for workers that enable it).
    pub input_uri: String,
    /// sha256 of the input.
    pub input_digest: [u8; 32],
    /// Hardware (and optionally reputation) a node needs to be drawn for the job.
    pub requirements: Requirements,
    /// Replication N.
    pub replication: u8,
    /// Quorum Q (N/2 < Q ≤ N).
    pub quorum: u8,
    /// Reward per agreeing worker, in raw token units.
    pub reward_per_worker: u64,
}

impl JobSpec {
    /// Checks the spec against the market before anything is sent, with messages that say what
    /// to fix.
    pub fn validate(&self, market: &MarketInfo) -> Result<()> {
        let bad = |m: String| Err(ClientError::InvalidInput(m));
        self.params.validate(&crate::kernels::Limits::default())?;
        let max = market.state.params.max_replication;
        if self.replication == 0 || self.replication > max {
            return bad(format!(
                "replication N = {} must be between 1 and {max}",
                self.replication
            ));
        }
        if self.quorum > self.replication
            || 2 * u16::from(self.quorum) <= u16::from(self.replication)
        {
            return bad(format!(
                "quorum Q = {} must be a majority of N = {}: N/2 < Q <= N",
                self.quorum, self.replication
            ));
        }
        if self.reward_per_worker == 0 {
            return bad("the reward per worker must be positive".into());
        }
        if self.input_uri.is_empty() || self.input_uri.len() > concord::constants::MAX_URI_LEN {
            return bad(format!(
                "the input URI must be 1 to {} bytes (inputs this large go by file:// or http(s)://)",
                concord::constants::MAX_URI_LEN
            ));
        }
        if market.state.paused {
            return bad("the market is paused: no new jobs".into());
        }
        Ok(())
    }

    /// reward × N + fee: what `submit_job` takes from the buyer.
    pub fn escrow(&self, market: &MarketInfo) -> Result<u64> {
        let (rewards, fee) = concord::job_cost(
            self.reward_per_worker,
            self.replication,
            market.state.params.fee_bps,
        )
        .map_err(|_| ClientError::InvalidInput("reward × N + fee overflows a u64".into()))?;
        Ok(rewards + fee)
    }

    /// The `create_job` arguments this spec encodes, agreeing to the fee rate `fee_bps` (the
    /// market's current one, normally: the job is refused if the market's differs).
    pub fn create_args(&self, fee_bps: u16) -> CreateJobArgs {
        CreateJobArgs {
            kernel: self.params.kernel().id(),
            params: self.params.encode(),
            input_uri: self.input_uri.clone(),
            input_digest: self.input_digest,
            requirements: self.requirements,
            replication: self.replication,
            quorum: self.quorum,
            reward_per_worker: self.reward_per_worker,
            fee_bps,
        }
    }
}

/// A submitted job.
#[derive(Clone)]
pub struct JobHandle {
    /// The client that submitted it.
    pub client: ConcordClient,
    /// The job's market.
    pub market: MarketInfo,
    /// The job id.
    pub id: u64,
    /// The job PDA.
    pub address: Pubkey,
    /// Signature of the `create_job` transaction.
    pub signature: Signature,
}

impl std::fmt::Debug for JobHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobHandle")
            .field("market", &self.market.address)
            .field("id", &self.id)
            .field("address", &self.address)
            .field("signature", &self.signature)
            .finish()
    }
}

/// How a job ended.
#[derive(Clone, Debug)]
pub struct JobResult {
    /// The terminal state.
    pub state: JobState,
    /// The digest a quorum agreed on (Settled only).
    pub accepted_digest: Option<[u8; 32]>,
    /// Output URIs revealed by the nodes that agreed with the accepted digest.
    pub output_uris: Vec<String>,
    /// Why the job did not settle, for every other terminal state.
    pub failure: Option<String>,
    /// The job account as finally read.
    pub job: Job,
}

/// Options of [`JobHandle::wait`].
#[derive(Clone, Debug)]
pub struct WaitOptions {
    /// How often the job is read (with a subscription: how often at the latest, for deadlines
    /// that pass without any transaction).
    pub poll_interval: Duration,
    /// A PubSub (websocket) URL: the job is re-read as soon as its account changes, instead of
    /// only every `poll_interval`. See [`websocket_url`]. When the endpoint cannot be reached
    /// within 5 s, waiting falls back to polling (and says so in a `tracing` warning).
    pub websocket: Option<String>,
    /// Give up after this long.
    pub timeout: Duration,
    /// Send `settle_job` whenever a transition is due (any account may crank it).
    pub crank: bool,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            poll_interval: Duration::from_millis(500),
            websocket: None,
            timeout: Duration::from_secs(3600),
            crank: true,
        }
    }
}

impl ConcordClient {
    /// Submits a job: validates the spec against the market and the buyer's balance, creates the
    /// buyer's token account if needed, and escrows reward × N + fee. `buyer` signs and pays the
    /// escrow from its associated token account. Retries if another buyer takes the job id first.
    pub async fn submit_job(
        &self,
        market: &Pubkey,
        buyer: &Keypair,
        spec: &JobSpec,
    ) -> Result<JobHandle> {
        let mut info = self.market(market).await?;
        spec.validate(&info)?;
        let escrow = spec.escrow(&info)?;
        let buyer_token = info.token_account_of(&buyer.pubkey());
        let balance = match self.account(&buyer_token).await? {
            Some(_) => self.token_balance(&buyer_token).await?,
            None => 0,
        };
        if balance < escrow {
            return Err(ClientError::InvalidInput(format!(
                "insufficient balance: the job escrows {} (reward × N + fee) but {} holds {}",
                crate::amount::format_amount(escrow, info.state.mint_decimals),
                buyer_token,
                crate::amount::format_amount(balance, info.state.mint_decimals),
            )));
        }
        for attempt in 0..5 {
            let id = info.state.next_job_id;
            let args = spec.create_args(info.state.params.fee_bps);
            let ix = ix::create_job(&info, id, &buyer.pubkey(), &buyer_token, args);
            match self.send(&[ix], &[buyer]).await {
                Ok(signature) => {
                    return Ok(JobHandle {
                        client: self.clone(),
                        address: info.job_address(id),
                        market: info,
                        id,
                        signature,
                    })
                }
                // Another buyer took this id between our read and our send.
                Err(e)
                    if e.is_anchor(anchor_lang::error::ErrorCode::ConstraintSeeds)
                        && attempt < 4 =>
                {
                    info = self.market(market).await?;
                }
                Err(e) => return Err(e),
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// Moves `job` along if it is due: `settle_job` when a transition is due now; `draw_job`
    /// when the job is still undrawn half-way through its draw horizon (its seat holders draw it
    /// with their first commit; this makes sure no-shows are slashed rather than the job left to
    /// expire). Returns whether a transaction was sent.
    pub async fn crank(&self, market: &MarketInfo, address: &Pubkey, job: &Job) -> Result<bool> {
        if job.state.is_terminal() {
            return Ok(false);
        }
        let slot = self.slot().await?;
        if job.state == JobState::Open
            && !job.draw_expired(slot)
            && slot > job.created_slot + job.draw_horizon_slots / 2
        {
            let preview = self.preview_draw(market, address, job).await?;
            let seats = if preview.is_staffed(job.replication) {
                preview.seats
            } else {
                vec![]
            };
            self.send(&[ix::draw_job(market, address, job, &seats)], &[])
                .await?;
            return Ok(true);
        }
        let now = self.clock().await?.unix_timestamp;
        if next_transition(job, now, slot) == Transition::None {
            return Ok(false);
        }
        self.send(&[ix::settle_job(market, address, job)], &[])
            .await?;
        Ok(true)
    }
}

impl JobHandle {
    /// The job as it is now.
    pub async fn fetch(&self) -> Result<Job> {
        self.client.job(&self.address).await
    }

    /// Waits until the job is terminal, cranking settlement when due (unless disabled), calling
    /// `progress` with every new state of the account.
    pub async fn wait_with(
        &self,
        opts: &WaitOptions,
        mut progress: impl FnMut(&Job),
    ) -> Result<JobResult> {
        let start = Instant::now();
        let mut last: Option<Vec<u8>> = None;
        let pubsub = match &opts.websocket {
            Some(url) => {
                let connect = solana_pubsub_client::nonblocking::pubsub_client::PubsubClient::new(
                    url.as_str(),
                );
                match tokio::time::timeout(Duration::from_secs(5), connect).await {
                    Ok(Ok(client)) => Some(client),
                    Ok(Err(e)) => {
                        tracing::warn!(%url, error = %e, "no PubSub endpoint; following the job by polling");
                        None
                    }
                    Err(_) => {
                        tracing::warn!(%url, "the PubSub endpoint did not answer within 5 s; following the job by polling");
                        None
                    }
                }
            }
            None => None,
        };
        let mut changes = match &pubsub {
            Some(client) => {
                let config = solana_rpc_client_api::config::RpcAccountInfoConfig {
                    encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
                    commitment: Some(solana_commitment_config::CommitmentConfig::confirmed()),
                    ..Default::default()
                };
                match client.account_subscribe(&self.address, Some(config)).await {
                    Ok((stream, _unsubscribe)) => Some(stream),
                    Err(e) => {
                        tracing::warn!(error = %e, "accountSubscribe failed; following the job by polling");
                        None
                    }
                }
            }
            None => None,
        };
        // Subscribed: the account's notifications wake the loop; the timer only catches deadlines.
        let interval = match changes {
            Some(_) => opts.poll_interval.max(Duration::from_secs(2)),
            None => opts.poll_interval,
        };
        loop {
            let job = self.fetch().await?;
            let mut snapshot = Vec::new();
            anchor_lang::AnchorSerialize::serialize(&job, &mut snapshot)
                .expect("serializing into a Vec cannot fail");
            if last.as_ref() != Some(&snapshot) {
                progress(&job);
                last = Some(snapshot);
            }
            if job.state.is_terminal() {
                return Ok(result_of(job));
            }
            if opts.crank {
                if let Err(e) = self.client.crank(&self.market, &self.address, &job).await {
                    tracing::debug!(error = %e, "settle_job crank failed; will retry");
                }
            }
            if start.elapsed() > opts.timeout {
                return Err(ClientError::Timeout(self.address));
            }
            match changes.as_mut() {
                Some(stream) => {
                    tokio::select! {
                        next = futures_util::StreamExt::next(stream) => {
                            if next.is_none() {
                                tracing::warn!("the PubSub subscription ended; following the job by polling");
                                changes = None;
                            }
                        }
                        () = tokio::time::sleep(interval) => {}
                    }
                }
                None => tokio::time::sleep(opts.poll_interval).await,
            }
        }
    }

    /// [`wait_with`](Self::wait_with) with default options and no progress callback.
    pub async fn wait(&self) -> Result<JobResult> {
        self.wait_with(&WaitOptions::default(), |_| {}).await
    }
}

/// The PubSub (websocket) URL of an RPC URL, by the Solana CLI's rule: `http` becomes `ws` and
/// `https` `wss`, and an explicit port goes up by one (solana-test-validator and `concord
/// localnet` serve PubSub on the RPC port + 1); without a port the host's default is kept.
pub fn websocket_url(rpc_url: &str) -> Result<String> {
    let mut url = url::Url::parse(rpc_url)
        .map_err(|e| ClientError::InvalidInput(format!("'{rpc_url}' is not a URL: {e}")))?;
    let scheme = match url.scheme() {
        "http" => "ws",
        "https" => "wss",
        "ws" | "wss" => return Ok(url.to_string()),
        other => {
            return Err(ClientError::InvalidInput(format!(
                "'{rpc_url}': no websocket for a {other}:// URL"
            )))
        }
    };
    url.set_scheme(scheme).map_err(|()| {
        ClientError::InvalidInput(format!("cannot make '{rpc_url}' a websocket URL"))
    })?;
    if let Some(port) = url.port() {
        let next = port.checked_add(1).ok_or_else(|| {
            ClientError::InvalidInput(format!("'{rpc_url}': the port after {port} does not exist"))
        })?;
        url.set_port(Some(next)).map_err(|()| {
            ClientError::InvalidInput(format!("cannot set the port of '{rpc_url}'"))
        })?;
    }
    Ok(url.to_string())
}

/// Summarises a terminal job.
pub fn result_of(job: Job) -> JobResult {
    let address = crate::pda::job_address(&job.market, job.job_id);
    let invalid_input = job.accepted_digest == Some(concord::state::input_invalid_digest(&address));
    let output_uris = match job.accepted_digest {
        Some(_) if invalid_input => vec![],
        Some(d) => job
            .seats
            .iter()
            .filter(|s| s.status == SeatStatus::Paid && s.digest == d)
            .map(|s| s.output_uri.clone())
            .collect(),
        None => vec![],
    };
    let failure = match job.state {
        JobState::Settled if invalid_input => Some(
            "the nodes agreed that the input could not be fetched or did not match its digest \
             (the job settled on the invalid-input digest: the nodes were paid, there is no output)"
                .to_string(),
        ),
        JobState::Settled => None,
        JobState::Failed => Some(
            if job
                .seats
                .iter()
                .any(|s| s.status == SeatStatus::Released && !s.output_uri.is_empty())
            {
                "no digest reached the quorum: the revealed outputs disagreed".to_string()
            } else {
                "too few nodes committed or revealed in time".to_string()
            },
        ),
        JobState::Expired => Some(format!(
            "no committee of {} eligible nodes was drawn within {} slots (too few nodes meet the \
             requirements at this price: see `concord job quote`)",
            job.replication, job.draw_horizon_slots
        )),
        JobState::Cancelled => Some("cancelled by the buyer".to_string()),
        _ => Some("not finished".to_string()),
    };
    JobResult {
        state: job.state,
        accepted_digest: job.accepted_digest,
        output_uris,
        failure,
        job,
    }
}

/// How long [`JobResult::fetch_verified_output`] keeps trying: nodes publish an output once they
/// see their seat paid, a poll interval or so after the settlement.
pub const OUTPUT_WAIT: Duration = Duration::from_secs(30);

impl JobResult {
    /// Downloads the output from the paid nodes' URIs, in turn, until one matches the accepted
    /// digest; retries for up to [`OUTPUT_WAIT`] while the nodes publish it.
    pub async fn fetch_verified_output(&self, max_bytes: u64) -> Result<Vec<u8>> {
        let digest = match (self.accepted_digest, &self.failure) {
            (Some(d), None) => d,
            _ => {
                return Err(ClientError::Data(format!(
                    "the job has no accepted output: {}",
                    self.failure.as_deref().unwrap_or("not settled")
                )))
            }
        };
        let started = Instant::now();
        loop {
            let mut errors = vec![];
            for uri in &self.output_uris {
                match data::fetch_verified(uri, &digest, max_bytes).await {
                    Ok(bytes) => return Ok(bytes),
                    Err(e) => errors.push(e.to_string()),
                }
            }
            if started.elapsed() >= OUTPUT_WAIT {
                return Err(ClientError::Data(format!(
                    "no output URI delivered bytes with the accepted digest within {} s: {}",
                    OUTPUT_WAIT.as_secs(),
                    errors.join("; ")
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls_follow_the_solana_cli() {
        assert_eq!(
            websocket_url("http://127.0.0.1:8899").unwrap(),
            "ws://127.0.0.1:8900/"
        );
        assert_eq!(
            websocket_url("https://api.devnet.solana.com").unwrap(),
            "wss://api.devnet.solana.com/"
        );
        assert_eq!(
            websocket_url("https://rpc.example:443/path").unwrap(),
            "wss://rpc.example/path",
            "443 is https's default, so the URL carries no port"
        );
        assert_eq!(websocket_url("ws://h:1/").unwrap(), "ws://h:1/");
        assert!(websocket_url("http://h:65535").is_err());
        assert!(websocket_url("ftp://h").is_err());
        assert!(websocket_url("not a url").is_err());
    }
}
