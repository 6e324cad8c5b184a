//! The client library's buyer flow against the embedded JSON-RPC network: submit a job, let
//! test-side workers commit (the first draws the job) and reveal (the last settles it), wait for
//! the verified result, download and check the output, and confirm the on-chain conservation
//! invariant.

use std::time::Duration;

use concord::state::JobState;
use concord::Requirements;
use concord_client::{data, ClientError, JobSpec, KernelParams, WaitOptions};
use concord_tests::{matmul_f32, Net, Worker};
use solana_sdk::signature::read_keypair_file;

fn spec(input: &[u8], n: u8, q: u8) -> JobSpec {
    JobSpec {
        params: KernelParams::MatmulF32 { m: 2, n: 3, k: 4 },
        input_uri: data::inline_uri(input),
        input_digest: data::sha256(input),
        requirements: Requirements {
            min_vram_mib: 8_192,
            min_compute_capability: 80,
            backends: concord::constants::BACKEND_CPU,
            min_agreed: 0,
            max_fault_bps: 10_000,
        },
        replication: n,
        quorum: q,
        reward_per_worker: 1_500_000,
    }
}

fn input() -> Vec<u8> {
    // A: 2×4, B: 4×3 small floats: small enough to go inline.
    (0..(2 * 4 + 4 * 3))
        .flat_map(|i| ((i as f32 * 0.37).sin()).to_le_bytes())
        .collect()
}

/// Three test-side workers registered and in the draw, and a buyer's N = 3, Q = 2 matmul job on
/// [`input`].
struct Submitted {
    buyer: concord_client::ConcordClient,
    market: concord_client::MarketInfo,
    workers: Vec<Worker>,
    handle: concord_client::JobHandle,
    input: Vec<u8>,
}

fn submitted(net: &Net) -> Submitted {
    let buyer_kp = read_keypair_file(net.buyer()).unwrap();
    let buyer = net.client(&net.buyer());
    let market = net.rt.block_on(buyer.market(&net.market())).unwrap();
    let workers: Vec<Worker> = (0..3).map(|i| Worker::new(net, &net.operator(i))).collect();
    for w in &workers {
        net.rt.block_on(w.register(&market, 200_000_000));
    }
    // The registrations enter the draw with the pool's next epoch.
    net.rt
        .block_on(buyer.wait_for_next_pool_epoch(&market))
        .unwrap();
    let input = input();
    let handle = net
        .rt
        .block_on(buyer.submit_job(&net.market(), &buyer_kp, &spec(&input, 3, 2)))
        .unwrap();
    Submitted {
        buyer,
        market,
        workers,
        handle,
        input,
    }
}

#[test]
fn submit_wait_and_fetch_the_verified_output() {
    let net = Net::start();
    let Submitted {
        buyer,
        market,
        workers,
        handle,
        ..
    } = submitted(&net);
    assert_eq!(handle.id, 0);

    // Workers: the input arrives inline and is checked before running. The draw needs a slot
    // after the job's.
    let job = net.rt.block_on(handle.fetch()).unwrap();
    while net.rt.block_on(buyer.slot()).unwrap() <= job.created_slot {
        std::thread::sleep(Duration::from_millis(50));
    }
    let fetched = net
        .rt
        .block_on(data::fetch_verified(
            &job.input_uri,
            &job.input_digest,
            1 << 20,
        ))
        .unwrap();
    let honest = matmul_f32(&fetched, 2, 3, 4);
    let mut wrong = honest.clone();
    wrong[11] ^= 0x40;
    let outputs = [&honest, &wrong, &honest];
    let salts: Vec<_> = workers
        .iter()
        .zip(outputs)
        .map(|(w, out)| net.rt.block_on(w.commit(&market, &handle.address, out)))
        .collect();
    assert_eq!(
        net.rt.block_on(handle.fetch()).unwrap().state,
        JobState::Revealing
    );
    for ((w, out), salt) in workers.iter().zip(outputs).zip(salts) {
        net.rt
            .block_on(w.reveal(&market, &handle.address, out, salt, net.dir.path()));
    }
    // The last reveal settled the job.
    assert_eq!(
        net.rt.block_on(handle.fetch()).unwrap().state,
        JobState::Settled
    );

    let mut states = vec![];
    let opts = WaitOptions {
        poll_interval: Duration::from_millis(100),
        timeout: Duration::from_secs(60),
        crank: true,
        // Nothing listens there: waiting says so and polls.
        websocket: Some("ws://127.0.0.1:9/".into()),
    };
    let result = net
        .rt
        .block_on(handle.wait_with(&opts, |j| states.push(j.state)))
        .unwrap();
    assert_eq!(result.state, JobState::Settled);
    assert_eq!(states.last(), Some(&JobState::Settled));
    assert_eq!(result.accepted_digest, Some(data::sha256(&honest)));
    assert_eq!(result.output_uris.len(), 2, "the two agreeing nodes' URIs");
    let output = net
        .rt
        .block_on(result.fetch_verified_output(1 << 20))
        .unwrap();
    assert_eq!(output, honest);

    // Batched fetch, balances and the invariant read from chain.
    let jobs = net.rt.block_on(buyer.jobs(&net.market(), 0..3)).unwrap();
    assert!(jobs[0].2.is_some() && jobs[1].2.is_none());
    let (vault, expected) = net
        .rt
        .block_on(buyer.check_conservation(&net.market()))
        .unwrap();
    assert_eq!(vault, expected);
}

/// With a PubSub URL, waiting follows the job's account notifications: with a poll interval of
/// a minute it still sees the job drawn, revealing and settled as the transactions land, and
/// returns long before the first poll would have happened.
#[test]
fn waiting_follows_the_job_by_subscription() {
    let net = Net::start();
    let Submitted {
        buyer,
        market,
        workers,
        handle,
        input,
    } = submitted(&net);
    let opts = WaitOptions {
        poll_interval: Duration::from_secs(60),
        timeout: Duration::from_secs(120),
        crank: false,
        websocket: Some(concord_client::job::websocket_url(&net.url()).unwrap()),
    };
    let output = matmul_f32(&input, 2, 3, 4);
    let mut states = vec![];
    let started = std::time::Instant::now();
    let (result, ()) = net.rt.block_on(async {
        let waiting = handle.wait_with(&opts, |j| states.push(j.state));
        let acting = async {
            // Give the subscription time to be in place, then play the three seats.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let created = handle.fetch().await.unwrap().created_slot;
            while buyer.slot().await.unwrap() <= created {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let mut salts = vec![];
            for w in &workers {
                salts.push(w.commit(&market, &handle.address, &output).await);
            }
            for (w, salt) in workers.iter().zip(salts) {
                w.reveal(&market, &handle.address, &output, salt, net.dir.path())
                    .await;
            }
        };
        tokio::join!(waiting, acting)
    });
    let result = result.unwrap();
    assert_eq!(result.state, JobState::Settled);
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "woken by notifications, not by the 60 s poll ({:?})",
        started.elapsed()
    );
    assert_eq!(states.first(), Some(&JobState::Open));
    assert!(states.contains(&JobState::Revealing), "{states:?}");
    assert_eq!(states.last(), Some(&JobState::Settled));
}

#[test]
fn failures_are_typed_and_explained() {
    let net = Net::start();
    let buyer_kp = read_keypair_file(net.buyer()).unwrap();
    let buyer = net.client(&net.buyer());
    let input = input();

    // Invalid specs are refused before anything is sent.
    let err = net
        .rt
        .block_on(buyer.submit_job(&net.market(), &buyer_kp, &spec(&input, 4, 2)))
        .unwrap_err();
    assert!(
        matches!(err, ClientError::InvalidInput(ref m) if m.contains("majority")),
        "{err}"
    );
    let mut rich = spec(&input, 3, 2);
    rich.reward_per_worker = u64::MAX / 4;
    let err = net
        .rt
        .block_on(buyer.submit_job(&net.market(), &buyer_kp, &rich))
        .unwrap_err();
    assert!(
        err.to_string().contains("overflows") || err.to_string().contains("insufficient"),
        "{err}"
    );

    // A program refusal is typed: committing without a node (an Anchor constraint), and
    // drawing a job in its own slot (a Concord error).
    let handle = net
        .rt
        .block_on(buyer.submit_job(&net.market(), &buyer_kp, &spec(&input, 1, 1)))
        .unwrap();
    let market = net.rt.block_on(buyer.market(&net.market())).unwrap();
    let w = Worker::new(&net, &net.operator(0));
    let ix = concord_client::ix::commit_result(
        &market,
        &handle.address,
        &solana_sdk::signer::Signer::pubkey(&w.kp),
        [0; 32],
        &[],
    );
    let err = net.rt.block_on(w.client.send(&[ix], &[&w.kp])).unwrap_err();
    assert!(
        err.is_anchor(anchor_lang::error::ErrorCode::AccountNotInitialized),
        "{err}"
    );
    assert_eq!(err.program_error_name(), Some("AccountNotInitialized"));

    // A job nobody can serve (the pool is empty) is not drawn; waiting reports why, and the
    // result has no output.
    net.rt.block_on(w.register(&market, 200_000_000));
    let result = {
        let opts = WaitOptions {
            poll_interval: Duration::from_millis(200),
            timeout: Duration::from_millis(600),
            crank: true,
            websocket: None,
        };
        net.rt.block_on(handle.wait_with(&opts, |_| {}))
    };
    assert!(matches!(result, Err(ClientError::Timeout(_))));
    let j = net.rt.block_on(handle.fetch()).unwrap();
    let r = concord_client::job::result_of(j);
    assert!(r.failure.is_some());
    let err = net
        .rt
        .block_on(r.fetch_verified_output(1 << 20))
        .unwrap_err();
    assert!(err.to_string().contains("no accepted output"), "{err}");
}
