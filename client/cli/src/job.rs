//! `concord job …`

use concord_client::concord;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use concord::state::{Job, JobState, SeatStatus};
use concord::Requirements;
use concord_client::amount::{format_amount, parse_amount};
use concord_client::job::result_of;
use concord_client::{data, ix, JobHandle, JobSpec, Kernel, KernelParams, MarketInfo, WaitOptions};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use solana_sdk::pubkey::Pubkey;

use crate::node::{balance, parse_compute_capability, Backend};
use crate::{report, tx, view, App};

#[derive(Subcommand)]
pub enum JobCmd {
    /// Submit a job: kernel, parameters, input, N, Q and reward; escrows reward × N + fee
    Submit(SubmitArgs),
    /// How many nodes (and how much stake) a job would be drawn from at a reward, and the
    /// reward needed for a target number of eligible nodes
    Quote(QuoteArgs),
    /// Show a job (address, or id in the market)
    Show { job: String },
    /// List the market's jobs, newest first
    List {
        /// Only jobs in this state
        #[arg(long, value_enum)]
        state: Option<StateArg>,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Wait until a job is settled (cranking settlement when due), with live progress, following
    /// the job's account by PubSub subscription (see --ws)
    #[command(visible_alias = "watch")]
    Wait {
        job: String,
        /// Give up after this many seconds
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
    },
    /// Cancel a job in its creation slot (full refund); later it is drawn, or expires with a
    /// full refund after its draw horizon
    Cancel { job: String },
    /// Close a finished job: its rent (and any undelivered refund) back to the buyer
    Close { job: String },
    /// Download a settled job's output from the nodes and verify it against the accepted digest
    Result {
        job: String,
        /// Write the output here (default: print its size and digest)
        #[arg(long)]
        out: Option<PathBuf>,
        /// Refuse outputs larger than this many bytes
        #[arg(long, default_value_t = 1 << 30)]
        max_bytes: u64,
    },
}

fn parse_kernel(s: &str) -> Result<Kernel, String> {
    s.parse::<Kernel>().map_err(|e| e.to_string())
}

/// A job state, as `--state` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StateArg {
    Open,
    Assigned,
    Revealing,
    Settled,
    Failed,
    Expired,
    Cancelled,
}

impl StateArg {
    fn matches(self, s: JobState) -> bool {
        matches!(
            (self, s),
            (StateArg::Open, JobState::Open)
                | (StateArg::Assigned, JobState::Assigned)
                | (StateArg::Revealing, JobState::Revealing)
                | (StateArg::Settled, JobState::Settled)
                | (StateArg::Failed, JobState::Failed)
                | (StateArg::Expired, JobState::Expired)
                | (StateArg::Cancelled, JobState::Cancelled)
        )
    }
}

/// What a node must offer to be drawn.
#[derive(clap::Args)]
pub struct RequirementArgs {
    /// Minimum GPU memory in MiB
    #[arg(long, default_value_t = 0)]
    min_vram_mib: u32,
    /// Minimum CUDA compute capability, e.g. 8.0
    #[arg(long, default_value = "0.0", value_parser = parse_compute_capability)]
    min_compute_capability: u16,
    /// Allowed backends: cuda, cpu or cuda,cpu
    #[arg(long, default_value = "cuda,cpu", value_delimiter = ',')]
    backends: Vec<Backend>,
    /// Minimum number of jobs a node agreed with the quorum in
    #[arg(long, default_value_t = 0)]
    min_agreed: u32,
    /// Largest share of faults (dissents and misses) in a node's record, in basis points
    #[arg(long, default_value_t = 10_000)]
    max_fault_bps: u16,
}

impl RequirementArgs {
    fn requirements(&self) -> Result<Requirements> {
        if self.max_fault_bps > 10_000 {
            bail!("--max-fault-bps is at most 10000 (100 %)");
        }
        Ok(Requirements {
            min_vram_mib: self.min_vram_mib,
            min_compute_capability: self.min_compute_capability,
            backends: Backend::mask(&self.backends),
            min_agreed: self.min_agreed,
            max_fault_bps: self.max_fault_bps,
        })
    }
}

#[derive(clap::Args)]
pub struct QuoteArgs {
    /// Kernel from the catalogue: matmul_f32, matmul_i8, mlp_f32, mandelbrot, sha256_batch
    #[arg(long, value_parser = parse_kernel)]
    kernel: Kernel,
    /// Kernel parameters as key=value,... (e.g. m=64,n=64,k=64)
    #[arg(long, default_value = "")]
    params: String,
    /// Reward per worker to quote, in tokens
    #[arg(long)]
    reward: Option<String>,
    /// Also compute the reward needed for this many eligible nodes
    #[arg(long)]
    target_nodes: Option<u32>,
    #[command(flatten)]
    requirements: RequirementArgs,
}

#[derive(clap::Args)]
pub struct SubmitArgs {
    /// Kernel from the catalogue: matmul_f32, matmul_i8, mlp_f32, mandelbrot, sha256_batch
    #[arg(long, value_parser = parse_kernel)]
    kernel: Kernel,
    /// Kernel parameters as key=value,... (e.g. m=64,n=64,k=64)
    #[arg(long, default_value = "")]
    params: String,
    /// Input file (hashed; put inline when small, else referenced by file://)
    #[arg(long, conflicts_with_all = ["input_url", "input_random"])]
    input: Option<PathBuf>,
    /// Input URL (http(s):// or file://); its digest is --input-digest, or computed by downloading it
    #[arg(long, conflicts_with = "input_random")]
    input_url: Option<String>,
    /// sha256 of the --input-url data, in hex
    #[arg(long, requires = "input_url")]
    input_digest: Option<String>,
    /// Generate a deterministic random input of the right size from this seed
    #[arg(long)]
    input_random: Option<u64>,
    /// Replication factor N
    #[arg(short = 'n', long, default_value_t = 3)]
    replication: u8,
    /// Quorum Q (N/2 < Q ≤ N)
    #[arg(short = 'q', long, default_value_t = 2)]
    quorum: u8,
    /// Reward per agreeing worker, in tokens (e.g. 1.5): the most paid per seat; nodes whose
    /// ask is above the price it makes are not drawn
    #[arg(long)]
    reward: String,
    #[command(flatten)]
    requirements: RequirementArgs,
    /// Wait for the result with live progress
    #[arg(long)]
    wait: bool,
}

/// A job given as an address or as an id in the market.
async fn resolve_job(app: &App, m: &MarketInfo, arg: &str) -> Result<(Pubkey, Job)> {
    let address = match arg.parse::<u64>() {
        Ok(id) => m.job_address(id),
        Err(_) => arg
            .parse()
            .with_context(|| format!("'{arg}' is neither a job id nor an address"))?,
    };
    if app.client.account(&address).await?.is_none() {
        bail!(
            "job {arg} not found in market {} (closed, or never created)",
            m.address
        );
    }
    Ok((address, app.client.job(&address).await?))
}

fn splitmix(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Deterministic input for `params`: small floats for f32 kernels, raw bytes otherwise.
pub fn random_input(params: &KernelParams, seed: u64) -> Vec<u8> {
    let len = params.input_len().unwrap_or(0) as usize;
    let mut s = seed;
    match params.kernel() {
        Kernel::MatmulF32 | Kernel::MlpF32 => (0..len / 4)
            .flat_map(|_| {
                let v = (splitmix(&mut s) >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
                v.to_le_bytes()
            })
            .collect(),
        _ => (0..len).map(|_| splitmix(&mut s) as u8).collect(),
    }
}

async fn input_of(args: &SubmitArgs, params: &KernelParams) -> Result<(String, [u8; 32])> {
    let expected = params.input_len().context("input size overflows")?;
    let place = |bytes: Vec<u8>, path: Option<PathBuf>| -> Result<(String, [u8; 32])> {
        if bytes.len() as u64 != expected {
            bail!(
                "{} needs an input of exactly {expected} bytes for these parameters, got {}",
                params.kernel(),
                bytes.len()
            );
        }
        let digest = data::sha256(&bytes);
        if bytes.len() <= data::INLINE_MAX {
            return Ok((data::inline_uri(&bytes), digest));
        }
        let path = match path {
            Some(p) => p,
            None => {
                let dir = PathBuf::from(".concord/inputs");
                std::fs::create_dir_all(&dir)?;
                let p = dir.join(format!("{}.bin", hex::encode(digest)));
                std::fs::write(&p, &bytes)?;
                p
            }
        };
        Ok((data::file_uri(&path)?, digest))
    };
    match (&args.input, &args.input_url, args.input_random) {
        (Some(path), _, _) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read --input {}", path.display()))?;
            place(bytes, Some(path.clone()))
        }
        (None, Some(url), _) => {
            let digest = match &args.input_digest {
                Some(h) => {
                    let v = hex::decode(h)
                        .ok()
                        .filter(|v| v.len() == 32)
                        .context("--input-digest must be 64 hex characters")?;
                    v.try_into().expect("32 bytes")
                }
                None => data::sha256(&data::fetch(url, expected.max(1)).await?),
            };
            Ok((url.clone(), digest))
        }
        (None, None, Some(seed)) => place(random_input(params, seed), None),
        (None, None, None) if expected == 0 => place(vec![], None),
        (None, None, None) => bail!(
            "{} needs input data: give --input FILE, --input-url URL or --input-random SEED",
            params.kernel()
        ),
    }
}

pub async fn run(app: &App, cmd: JobCmd) -> Result<()> {
    let m = app.market().await?;
    let d = m.state.mint_decimals;
    match cmd {
        JobCmd::Submit(args) => submit(app, &m, args).await?,
        JobCmd::Quote(args) => quote(app, &m, args).await?,
        JobCmd::Show { job } => {
            let (address, j) = resolve_job(app, &m, &job).await?;
            let mut v = view::job_json(&address, &j, d);
            if j.state == JobState::Open {
                // Not drawn yet: the committee the draw will pick, with who is skipped and why.
                v["draw_preview"] = match app.client.preview_draw(&m, &address, &j).await {
                    Ok(p) => json!({
                        "seats": p.seats.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                        "backups": p.backups.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                        "skipped": p.skipped.iter().map(|(n, r)| format!("{n}: {r:?}")).collect::<Vec<_>>(),
                        "staffed": p.is_staffed(j.replication),
                    }),
                    Err(e) => json!(e.to_string()),
                };
            }
            app.out.emit(v.clone(), || view::human("Job", &v));
        }
        JobCmd::List { state, limit } => {
            let wanted = state;
            let end = m.state.next_job_id;
            let start = end.saturating_sub(limit.max(1) * 4);
            let mut rows = vec![];
            for (id, address, job) in app
                .client
                .jobs(&m.address, start..end)
                .await?
                .into_iter()
                .rev()
            {
                let Some(j) = job else { continue };
                if wanted.is_some_and(|w| !w.matches(j.state)) {
                    continue;
                }
                rows.push((id, address, j));
                if rows.len() as u64 >= limit {
                    break;
                }
            }
            let list: Vec<_> = rows
                .iter()
                .map(|(_, a, j)| view::job_json(a, j, d))
                .collect();
            app.out.emit(json!(list), || {
                let mut s = format!(
                    "{:>6}  {:<10} {:<13} {:>3} {:>3} {:>12}  {}\n",
                    "id", "state", "kernel", "N", "Q", "reward", "address"
                );
                for v in &list {
                    s.push_str(&format!(
                        "{:>6}  {:<10} {:<13} {:>3} {:>3} {:>12}  {}\n",
                        v["job_id"],
                        v["state"].as_str().unwrap_or_default(),
                        v["kernel"].as_str().unwrap_or_default(),
                        v["replication"],
                        v["quorum"],
                        v["reward_per_worker"].as_str().unwrap_or_default(),
                        v["address"].as_str().unwrap_or_default()
                    ));
                }
                s
            });
        }
        JobCmd::Wait { job, timeout } => {
            let (address, j) = resolve_job(app, &m, &job).await?;
            let handle = JobHandle {
                client: app.client.clone(),
                market: m.clone(),
                id: j.job_id,
                address,
                signature: Default::default(),
            };
            wait(app, &handle, Duration::from_secs(timeout)).await?;
        }
        JobCmd::Cancel { job } => {
            let (address, j) = resolve_job(app, &m, &job).await?;
            let buyer = app.identity_key();
            if j.buyer != buyer {
                bail!("job {job} belongs to {}, not to {buyer}", j.buyer);
            }
            if j.state != JobState::Open {
                bail!(
                    "only an undrawn job can be cancelled (this one is {:?})",
                    j.state
                );
            }
            if app.client.slot().await? != j.created_slot {
                bail!(
                    "job {job} was created in slot {}: it can be cancelled only in that slot (its \
                     draw is public now); it is drawn, or expires with a full refund after slot {}",
                    j.created_slot,
                    j.created_slot + j.draw_horizon_slots
                );
            }
            let (dest, mut ixs) = crate::market::destination(app, &m, &buyer, None);
            ixs.push(ix::cancel_job(&m, &address, &buyer, &dest));
            let sent = app.sender.run(&app.out, ixs, &[&app.identity]).await?;
            report(
                app,
                sent,
                "job cancelled",
                json!({"job": address.to_string(), "refund": format_amount(j.escrow, d)}),
            );
        }
        JobCmd::Close { job } => {
            let (address, j) = resolve_job(app, &m, &job).await?;
            let buyer = app.identity_key();
            if j.buyer != buyer {
                bail!("job {job} belongs to {}, not to {buyer}", j.buyer);
            }
            if !j.state.is_terminal() {
                bail!(
                    "job {job} is {:?}; only finished jobs can be closed",
                    j.state
                );
            }
            let (dest, mut ixs) = crate::market::destination(app, &m, &buyer, None);
            ixs.push(ix::close_job(&m, &address, &buyer, &dest));
            let sent = app.sender.run(&app.out, ixs, &[&app.identity]).await?;
            report(
                app,
                sent,
                "job closed",
                json!({"job": address.to_string(), "refund": format_amount(j.escrow, d)}),
            );
        }
        JobCmd::Result {
            job,
            out,
            max_bytes,
        } => {
            let (address, j) = resolve_job(app, &m, &job).await?;
            if j.state != JobState::Settled {
                let r = result_of(j.clone());
                bail!(
                    "job {job} is {:?}: {}",
                    j.state,
                    r.failure.unwrap_or_default()
                );
            }
            let result = result_of(j);
            let bytes = result.fetch_verified_output(max_bytes).await?;
            let digest = hex::encode(result.accepted_digest.expect("settled"));
            if let Some(path) = &out {
                std::fs::write(path, &bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            let v = json!({
                "job": address.to_string(),
                "digest": digest,
                "bytes": bytes.len(),
                "verified": true,
                "written_to": out.as_ref().map(|p| p.display().to_string()),
            });
            app.out.emit(v.clone(), || {
                view::human("Verified output (sha256 matches the accepted digest)", &v)
            });
        }
    }
    Ok(())
}

async fn quote(app: &App, m: &MarketInfo, args: QuoteArgs) -> Result<()> {
    let params = KernelParams::parse(args.kernel, &args.params)?;
    let requirements = args.requirements.requirements()?;
    let d = m.state.mint_decimals;
    let pool = app.client.pool(m).await?;
    let slot = app.client.slot().await?;
    let encoded = params.encode();
    let id = args.kernel.id();
    let mut v = json!({
        "kernel": args.kernel.name(),
        "work_units": concord::pricing::work_units(id, &encoded),
    });
    if let Some(r) = &args.reward {
        let reward = parse_amount(r, d)?;
        let q = concord_client::draw::quote(
            &pool,
            slot,
            &m.state.params,
            id,
            &encoded,
            &requirements,
            reward,
        )
        .context("the kernel parameters describe no work")?;
        v["reward"] = json!(format_amount(reward, d));
        v["price_per_1e9_work_units"] = json!(format_amount(q.price, d));
        v["collateral_per_seat"] = json!(format_amount(q.collateral, d));
        v["eligible_nodes"] = json!(q.eligible_nodes);
        v["eligible_stake"] = json!(format_amount(q.eligible_stake, d));
        v["pool_nodes"] = json!(q.pool_nodes);
        v["pool_stake"] = json!(format_amount(q.pool_stake, d));
    }
    if let Some(target) = args.target_nodes {
        let r = concord_client::draw::reward_for_target(
            &pool,
            slot,
            &m.state.params,
            id,
            &encoded,
            &requirements,
            target,
        );
        v["target_nodes"] = json!(target);
        v["reward_for_target"] = json!(r.map(|r| format_amount(r, d)));
    }
    if args.reward.is_none() && args.target_nodes.is_none() {
        bail!("give --reward to quote it, --target-nodes to find the reward for that many nodes, or both");
    }
    app.out.emit(v.clone(), || view::human("Quote", &v));
    Ok(())
}

async fn submit(app: &App, m: &MarketInfo, args: SubmitArgs) -> Result<()> {
    let kernel = args.kernel;
    let params = KernelParams::parse(kernel, &args.params)?;
    let (input_uri, input_digest) = input_of(&args, &params).await?;
    let spec = JobSpec {
        params,
        input_uri,
        input_digest,
        requirements: args.requirements.requirements()?,
        replication: args.replication,
        quorum: args.quorum,
        reward_per_worker: parse_amount(&args.reward, m.state.mint_decimals)?,
    };
    spec.validate(m)?;
    let escrow = spec.escrow(m)?;
    let buyer = app.identity_key();
    let buyer_token = m.token_account_of(&buyer);
    let have = balance(app, &buyer_token).await?;
    if have < escrow && !app.sender.sign_only {
        bail!(
            "insufficient balance: the job escrows {} (reward × N + fee) but {buyer_token} holds {}",
            format_amount(escrow, m.state.mint_decimals),
            format_amount(have, m.state.mint_decimals)
        );
    }
    let mut market = m.clone();
    for attempt in 0..3 {
        let id = market.state.next_job_id;
        let create = spec.create_args(market.state.params.fee_bps);
        let ix = ix::create_job(&market, id, &buyer, &buyer_token, create);
        match app.sender.run(&app.out, vec![ix], &[&app.identity]).await {
            Ok(tx::Sent::SignedOnly) => return Ok(()),
            Ok(tx::Sent::Confirmed(signature)) => {
                let handle = JobHandle {
                    client: app.client.clone(),
                    market: market.clone(),
                    id,
                    address: market.job_address(id),
                    signature,
                };
                let v = json!({
                    "job": handle.address.to_string(),
                    "job_id": id,
                    "signature": signature.to_string(),
                    "kernel": kernel.name(),
                    "input_uri": spec.input_uri,
                    "input_digest": hex::encode(spec.input_digest),
                    "escrow": format_amount(escrow, m.state.mint_decimals),
                });
                if args.wait {
                    if !app.out.json() {
                        println!(
                            "job {id} submitted: {} (escrow {})",
                            handle.address,
                            format_amount(escrow, m.state.mint_decimals)
                        );
                    }
                    return wait(app, &handle, Duration::from_secs(3600)).await;
                }
                app.out.emit(v.clone(), || view::human("Job submitted", &v));
                return Ok(());
            }
            Err(e)
                if attempt < 2
                    && e.downcast_ref::<concord_client::ClientError>()
                        .is_some_and(|c| {
                            c.is_anchor(concord_client::error::AnchorError::ConstraintSeeds)
                        }) =>
            {
                market = app.client.market(&m.address).await?;
            }
            Err(e) => return Err(e),
        }
    }
    bail!("another buyer kept taking the next job id; try again")
}

fn progress_line(j: &Job) -> String {
    let n = j.replication as usize;
    let count = |f: fn(SeatStatus) -> bool| j.seats.iter().filter(|s| f(s.status)).count();
    let committed = count(|s| s != SeatStatus::Assigned);
    let revealed = count(|s| matches!(s, SeatStatus::Revealed | SeatStatus::Paid));
    let drawn = if j.state == JobState::Open {
        "not drawn yet".to_string()
    } else {
        format!("drawn (seed {}…)", &hex::encode(j.seed)[..8])
    };
    let reassigned = if j.reassignments > 0 {
        format!("  reassigned {}×", j.reassignments)
    } else {
        String::new()
    };
    format!(
        "{:<9} {drawn}  commits {committed}/{n}  reveals {revealed}/{n}{reassigned}",
        format!("{:?}", j.state)
    )
}

async fn wait(app: &App, handle: &JobHandle, timeout: Duration) -> Result<()> {
    let bar = (!app.out.json()).then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} job {prefix}: {msg} [{elapsed}]")
                .expect("template"),
        );
        b.set_prefix(handle.id.to_string());
        b.enable_steady_tick(Duration::from_millis(120));
        b
    });
    let opts = WaitOptions {
        timeout,
        websocket: Some(app.ws.clone()),
        ..WaitOptions::default()
    };
    let result = handle
        .wait_with(&opts, |j| {
            if let Some(b) = &bar {
                b.set_message(progress_line(j));
            }
        })
        .await;
    if let Some(b) = &bar {
        b.finish();
    }
    let r = result?;
    let d = handle.market.state.mint_decimals;
    let v = json!({
        "job": handle.address.to_string(),
        "job_id": handle.id,
        "state": format!("{:?}", r.state),
        "accepted_digest": r.accepted_digest.map(hex::encode),
        "output_uris": r.output_uris,
        "failure": r.failure,
        "seats": r.job.seats.iter().map(|s| s.node.to_string()).collect::<Vec<_>>(),
        "reassignments": r.job.reassignments,
        "paid": r.job.seats.iter().filter(|s| s.status == SeatStatus::Paid).map(|s| s.node.to_string()).collect::<Vec<_>>(),
        "slashed": r.job.seats.iter().filter(|s| s.status == SeatStatus::Slashed).map(|s| s.node.to_string()).collect::<Vec<_>>(),
        "fee": format_amount(if r.state == JobState::Settled { r.job.fee } else { 0 }, d),
    });
    app.out.emit(v.clone(), || view::human("Job finished", &v));
    Ok(())
}
