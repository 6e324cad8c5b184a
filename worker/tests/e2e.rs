//! In-process workers against the embedded JSON-RPC network: every kernel end to end and paid
//! (the draw gives every node of a three-node pool a seat); a dishonest worker (test-only fault
//! injection) outvoted and slashed; a corrupted input, and an input the fetch policy refuses,
//! committed as invalid by every seat and paid for by the buyer; a worker killed after committing
//! resumes from its journal, reveals and is paid, its output unpublished until then; one killed
//! before committing computes on restart; a corrupt journal stops the worker.

use std::path::Path;
use std::time::{Duration, Instant};

use concord::state::{input_invalid_digest, JobState, SeatStatus};
use concord::Requirements;
use concord_client::kernels::KernelParams;
use concord_client::{data, JobHandle, JobSpec, WaitOptions};
use concord_tests::{Net, Worker as TestOperator};
use concord_worker::journal::{Journal, Step};
use concord_worker::metrics::Metrics;
use concord_worker::{Fault, Publish, Worker, WorkerConfig, WorkerHandle};
use solana_sdk::signature::read_keypair_file;

const REWARD: u64 = 2_000_000;

fn config(net: &Net, i: usize, fault: Option<Fault>) -> WorkerConfig {
    let dir = net.dir.path().join(format!("worker-{i}"));
    WorkerConfig {
        max_concurrent_jobs: 4,
        max_input_bytes: 1 << 20,
        poll_interval_ms: 200,
        // The tests' inputs are files on this machine.
        allow_file_uris: true,
        allow_private_addresses: true,
        fault,
        ..WorkerConfig::new(
            net.url(),
            net.operator(i),
            net.market(),
            dir.clone(),
            Publish::File {
                dir: dir.join("public"),
            },
        )
    }
}

fn start(net: &Net, cfg: WorkerConfig) -> WorkerHandle {
    let _runtime = net.rt.enter();
    Worker::spawn(cfg).unwrap()
}

/// Registers operators `0..n` and waits for the pool epoch that puts them in the draw.
fn register(net: &Net, n: usize) -> concord_client::MarketInfo {
    let client = net.client(&net.buyer());
    let market = net.rt.block_on(client.market(&net.market())).unwrap();
    for i in 0..n {
        net.rt
            .block_on(TestOperator::new(net, &net.operator(i)).register(&market, 300_000_000));
    }
    net.rt
        .block_on(client.wait_for_next_pool_epoch(&market))
        .unwrap();
    market
}

fn register_all(net: &Net) -> concord_client::MarketInfo {
    register(net, 3)
}

fn input_file(dir: &Path, name: &str, bytes: &[u8]) -> (String, [u8; 32]) {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    (data::file_uri(&p).unwrap(), data::sha256(bytes))
}

fn f32s(n: usize, seed: u32) -> Vec<u8> {
    (0..n)
        .flat_map(|i| {
            ((((i as u32).wrapping_mul(2654435761u32)) ^ seed) as f32 / u32::MAX as f32 - 0.5)
                .to_le_bytes()
        })
        .collect()
}

fn submit(net: &Net, params: KernelParams, input: (String, [u8; 32]), n: u8, q: u8) -> JobHandle {
    let buyer = read_keypair_file(net.buyer()).unwrap();
    let spec = JobSpec {
        params,
        input_uri: input.0,
        input_digest: input.1,
        requirements: Requirements {
            min_vram_mib: 0,
            min_compute_capability: 0,
            backends: concord::constants::BACKEND_CPU,
            min_agreed: 0,
            max_fault_bps: 10_000,
        },
        replication: n,
        quorum: q,
        reward_per_worker: REWARD,
    };
    net.rt
        .block_on(
            net.client(&net.buyer())
                .submit_job(&net.market(), &buyer, &spec),
        )
        .unwrap()
}

fn wait(net: &Net, h: &JobHandle) -> concord_client::JobResult {
    let opts = WaitOptions {
        poll_interval: Duration::from_millis(200),
        timeout: Duration::from_secs(90),
        crank: true,
        websocket: None,
    };
    net.rt.block_on(h.wait_with(&opts, |_| {})).unwrap()
}

#[test]
fn every_kernel_end_to_end_and_paid() {
    let net = Net::start();
    register_all(&net);
    let d = net.dir.path();
    let jobs = vec![
        submit(
            &net,
            KernelParams::MatmulF32 { m: 8, n: 6, k: 9 },
            input_file(d, "a", &f32s(8 * 9 + 9 * 6, 1)),
            3,
            2,
        ),
        submit(
            &net,
            KernelParams::MatmulI8 { m: 5, n: 7, k: 33 },
            input_file(
                d,
                "b",
                &(0..5 * 33 + 33 * 7)
                    .map(|i| (i * 37 % 256) as u8)
                    .collect::<Vec<_>>(),
            ),
            3,
            2,
        ),
        submit(
            &net,
            KernelParams::MlpF32 {
                batch: 3,
                sizes: vec![4, 8, 3],
            },
            input_file(d, "c", &f32s(4 * 8 + 8 + 8 * 3 + 3 + 3 * 4, 2)),
            3,
            2,
        ),
        submit(
            &net,
            KernelParams::Mandelbrot {
                width: 24,
                height: 16,
                cx: -0.5,
                cy: 0.0,
                scale: 0.1,
                max_iter: 64,
            },
            (data::inline_uri(&[]), data::sha256(&[])),
            3,
            2,
        ),
        submit(
            &net,
            KernelParams::Sha256Batch { count: 6, len: 20 },
            input_file(d, "e", &[7u8; 120]),
            3,
            2,
        ),
    ];
    let workers: Vec<WorkerHandle> = (0..3).map(|i| start(&net, config(&net, i, None))).collect();
    for h in &jobs {
        let r = wait(&net, h);
        assert_eq!(r.state, JobState::Settled, "job {}: {:?}", h.id, r.failure);
        assert!(r.job.seats.iter().all(|s| s.status == SeatStatus::Paid));
        let out = net.rt.block_on(r.fetch_verified_output(1 << 20)).unwrap();
        let params =
            KernelParams::decode(r.job.kernel, &r.job.params, &Default::default()).unwrap();
        assert_eq!(out.len() as u64, params.output_len().unwrap());
    }
    // The workers observe the settlements on their next poll.
    let deadline = Instant::now() + Duration::from_secs(30);
    while workers
        .iter()
        .any(|w| Metrics::get(&w.worker().metrics.jobs_paid) < 5)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    for w in &workers {
        assert_eq!(Metrics::get(&w.worker().metrics.jobs_paid), 5);
        assert!(w
            .worker()
            .metrics
            .render()
            .contains("concord_jobs_paid_total 5"));
    }
    let client = net.client(&net.buyer());
    let m = net.rt.block_on(client.market(&net.market())).unwrap();
    for i in 0..3 {
        let op = read_keypair_file(net.operator(i)).unwrap();
        let node = net
            .rt
            .block_on(client.node(&m.node_address(&solana_sdk::signer::Signer::pubkey(&op))))
            .unwrap();
        assert_eq!(
            (node.earnings, node.agreed, node.active_seats),
            (5 * REWARD, 5, 0)
        );
    }
    let (vault, expected) = net
        .rt
        .block_on(client.check_conservation(&net.market()))
        .unwrap();
    assert_eq!(vault, expected);
    for w in workers {
        net.rt.block_on(w.shutdown()).unwrap();
    }
}

#[test]
fn dishonest_worker_is_outvoted_and_slashed() {
    let net = Net::start();
    register_all(&net);
    let workers: Vec<WorkerHandle> = (0..3)
        .map(|i| {
            start(
                &net,
                config(&net, i, (i == 1).then_some(Fault::FlipOutputByteForTesting)),
            )
        })
        .collect();
    let h = submit(
        &net,
        KernelParams::MatmulF32 { m: 4, n: 4, k: 4 },
        input_file(net.dir.path(), "in", &f32s(32, 9)),
        3,
        2,
    );
    let r = wait(&net, &h);
    assert_eq!(r.state, JobState::Settled);
    let dishonest =
        concord_client::pda::node_address(&net.market(), &workers[1].worker().operator());
    for s in &r.job.seats {
        let expected = if s.node == dishonest {
            SeatStatus::Slashed
        } else {
            SeatStatus::Paid
        };
        assert_eq!(s.status, expected);
    }
    // Wait for the workers to observe the settlement.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Metrics::get(&workers[1].worker().metrics.jobs_slashed) == 0 && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(Metrics::get(&workers[1].worker().metrics.jobs_slashed), 1);
}

/// Every seat holder commits the invalid-input digest; the quorum on it settles the job and
/// pays the nodes (the buyer supplied the bad input), and there is no output to fetch.
fn expect_settled_as_invalid(net: &Net, workers: &[WorkerHandle], h: &JobHandle) {
    let r = wait(net, h);
    assert_eq!(r.state, JobState::Settled, "{:?}", r.failure);
    assert_eq!(r.accepted_digest, Some(input_invalid_digest(&h.address)));
    assert!(r.job.seats.iter().all(|s| s.status == SeatStatus::Paid));
    let failure = r.failure.clone().unwrap_or_default();
    assert!(failure.contains("input"), "{failure}");
    assert!(net.rt.block_on(r.fetch_verified_output(1 << 20)).is_err());
    let deadline = Instant::now() + Duration::from_secs(30);
    while workers
        .iter()
        .any(|w| Metrics::get(&w.worker().metrics.jobs_paid) == 0)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    for w in workers {
        assert_eq!(Metrics::get(&w.worker().metrics.inputs_rejected), 1);
        assert_eq!(Metrics::get(&w.worker().metrics.jobs_paid), 1);
    }
}

#[test]
fn a_corrupted_input_is_committed_as_invalid_and_the_seats_are_paid() {
    let net = Net::start();
    register_all(&net);
    let workers: Vec<WorkerHandle> = (0..3).map(|i| start(&net, config(&net, i, None))).collect();
    let (uri, _) = input_file(net.dir.path(), "in", &f32s(32, 3));
    let h = submit(
        &net,
        KernelParams::MatmulF32 { m: 4, n: 4, k: 4 },
        (uri, [0xAB; 32]),
        3,
        2,
    );
    expect_settled_as_invalid(&net, &workers, &h);
}

/// A worker signs with a hot key but sends its earnings to a wallet it cannot spend from (a
/// hardware wallet in production): the cold wallet's token account receives the reward, created
/// on the way, and the node's earnings drop to zero.
#[test]
fn earnings_are_withdrawn_to_the_cold_wallet() {
    let net = Net::start();
    register_all(&net);
    let cold = solana_sdk::pubkey::Pubkey::new_unique();
    let workers: Vec<WorkerHandle> = (0..3)
        .map(|i| {
            let mut cfg = config(&net, i, None);
            if i == 0 {
                cfg.withdraw_threshold = Some(1);
                cfg.withdraw_to = Some(cold);
            }
            start(&net, cfg)
        })
        .collect();
    let h = submit(
        &net,
        KernelParams::Sha256Batch { count: 2, len: 8 },
        (data::inline_uri(&[3u8; 16]), data::sha256(&[3u8; 16])),
        3,
        2,
    );
    assert_eq!(wait(&net, &h).state, JobState::Settled);
    let client = net.client(&net.buyer());
    let m = net.rt.block_on(client.market(&net.market())).unwrap();
    let cold_account = m.token_account_of(&cold);
    let hot = m.node_address(&workers[0].worker().operator());
    let deadline = Instant::now() + Duration::from_secs(30);
    let balance = || net.rt.block_on(client.token_balance(&cold_account)).ok();
    while balance() != Some(REWARD) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(balance(), Some(REWARD));
    assert_eq!(net.rt.block_on(client.node(&hot)).unwrap().earnings, 0);
    for w in workers {
        net.rt.block_on(w.shutdown()).unwrap();
    }
}

#[test]
fn the_fetch_policy_refuses_file_inputs_by_default() {
    let net = Net::start();
    register_all(&net);
    // Workers as deployed: no file:// inputs, no private addresses.
    let workers: Vec<WorkerHandle> = (0..3)
        .map(|i| {
            let mut cfg = config(&net, i, None);
            cfg.allow_file_uris = false;
            cfg.allow_private_addresses = false;
            start(&net, cfg)
        })
        .collect();
    let bytes = f32s(32, 4);
    let h = submit(
        &net,
        KernelParams::MatmulF32 { m: 4, n: 4, k: 4 },
        input_file(net.dir.path(), "local", &bytes),
        3,
        2,
    );
    expect_settled_as_invalid(&net, &workers, &h);
}

#[test]
fn worker_killed_after_commit_resumes_and_is_paid() {
    let net = Net::start();
    register(&net, 2);
    let steady = start(&net, config(&net, 0, None));
    let mut cfg = config(&net, 1, None);
    cfg.poll_interval_ms = 1_000;
    let victim = start(&net, cfg.clone());
    let h = submit(
        &net,
        KernelParams::Sha256Batch { count: 3, len: 64 },
        input_file(net.dir.path(), "in", &[1u8; 192]),
        2,
        2,
    );

    // Kill the victim as soon as its journal records the commit.
    let journal = Journal::open(&cfg.data_dir.join("journal")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if journal
            .all()
            .unwrap()
            .iter()
            .any(|e| e.step == Step::Committed)
        {
            break;
        }
        assert!(Instant::now() < deadline, "victim never committed");
        std::thread::sleep(Duration::from_millis(10));
    }
    victim.kill();
    let entry = journal.all().unwrap().remove(0);
    let job = net.rt.block_on(h.fetch()).unwrap();
    let victim_node = concord_client::pda::node_address(&net.market(), &victim.worker().operator());
    let seat = job.seats.iter().find(|s| s.node == victim_node).unwrap();
    assert_eq!(
        seat.status,
        SeatStatus::Committed,
        "killed between commit and reveal"
    );
    // Nothing is published before the job settles with the node's digest.
    let public = cfg
        .data_dir
        .join("public")
        .join(format!("{}.bin", h.address));
    assert!(!public.exists(), "an output was readable before settlement");

    // A new process with the same data directory resumes from the journal.
    let revived = start(&net, cfg);
    let r = wait(&net, &h);
    assert_eq!(r.state, JobState::Settled);
    assert!(
        r.job.seats.iter().all(|s| s.status == SeatStatus::Paid),
        "{:?}",
        r.job.seats
    );
    let revealed = r.job.seats.iter().find(|s| s.node == victim_node).unwrap();
    assert_eq!(
        hex::encode(revealed.digest),
        entry.digest,
        "the journaled digest, never a new one"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while Metrics::get(&revived.worker().metrics.jobs_paid) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(Metrics::get(&revived.worker().metrics.jobs_paid), 1);
    assert!(
        journal.all().unwrap().is_empty(),
        "finished jobs leave the journal"
    );
    assert!(public.exists(), "published once paid");
    drop(steady);
}

/// Killed after the draw gave it a seat but before the commitment was journaled: the restarted
/// worker finds the Computing entry, computes, commits (drawing the job), reveals and is paid
/// instead of being slashed as a no-show.
#[test]
fn worker_killed_before_committing_resumes_and_is_paid() {
    let net = Net::start();
    register(&net, 1);
    let cfg = config(&net, 0, None);
    let h = submit(
        &net,
        KernelParams::Sha256Batch { count: 2, len: 10 },
        input_file(net.dir.path(), "in", &[3u8; 20]),
        1,
        1,
    );
    // The state a crash leaves: the journal says Computing, nothing is on chain.
    let journal = Journal::open(&cfg.data_dir.join("journal")).unwrap();
    journal
        .put(&concord_worker::journal::Entry {
            job: h.address.to_string(),
            job_id: h.id,
            step: Step::Computing,
            salt: String::new(),
            digest: String::new(),
            output_file: cfg
                .data_dir
                .join("outputs")
                .join(format!("{}.bin", h.address)),
        })
        .unwrap();
    let revived = start(&net, cfg);
    let r = wait(&net, &h);
    assert_eq!(r.state, JobState::Settled);
    assert_eq!(r.job.seats[0].status, SeatStatus::Paid);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !journal.all().unwrap().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(journal.all().unwrap().is_empty());
    assert_eq!(Metrics::get(&revived.worker().metrics.jobs_paid), 1);
    assert_eq!(
        Metrics::get(&revived.worker().metrics.seats_drawn),
        0,
        "served from the journal only"
    );
}

#[test]
fn a_corrupt_journal_entry_stops_the_worker_with_a_clear_error() {
    let net = Net::start();
    register(&net, 1);
    let cfg = config(&net, 0, None);
    let dir = cfg.data_dir.join("journal");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("J.json"),
        br#"{"job":"J","job_id":0,"step":"Committed","salt":"00","digest":"11","output_file":"x"}"#,
    )
    .unwrap();
    let w = start(&net, cfg);
    let err = net.rt.block_on(w.join()).unwrap_err().to_string();
    assert!(err.contains("J.json") && err.contains("corrupt"), "{err}");
}
