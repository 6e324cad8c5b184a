//! The `concord` binary end to end against the embedded JSON-RPC network: market and nodes, a
//! job with test-side workers (commit, reveal), settlement, verified output, withdrawals;
//! offline signing; Solana CLI config and monikers; every bad-input error; JSON output.

use concord_client::concord;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use concord::state::JobState;
use concord_client::data;
use concord_tests::{matmul_f32, Net, Worker};
use serde_json::Value;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, Keypair, Signer};

/// The CLI run against a test network.
trait Cli {
    fn cli(&self, keypair: &Path, args: &[&str]) -> Command;
    fn json(&self, keypair: &Path, args: &[&str]) -> Value;
    fn fails(&self, keypair: &Path, args: &[&str], message: &str);
}

impl Cli for Net {
    /// `concord -u URL --market M -k KEYPAIR --output json ARGS`, run in the temp dir.
    fn cli(&self, keypair: &Path, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("concord").unwrap();
        c.current_dir(self.dir.path())
            .env_remove("CONCORD_URL")
            .env_remove("CONCORD_MARKET")
            .env("HOME", self.dir.path())
            .args([
                "-u",
                &self.url(),
                "--market",
                &self.market().to_string(),
                "-k",
            ])
            .arg(keypair)
            .args(["--output", "json"])
            .args(args)
            .timeout(Duration::from_secs(120));
        c
    }
    fn json(&self, keypair: &Path, args: &[&str]) -> Value {
        json_of(&mut self.cli(keypair, args), args)
    }
    fn fails(&self, keypair: &Path, args: &[&str], message: &str) {
        let out = self
            .cli(keypair, args)
            .assert()
            .failure()
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(message),
            "{args:?}: expected '{message}' in: {stderr}"
        );
    }
}

/// Runs `c`, which must succeed, and reads its stdout as one JSON value.
fn json_of(c: &mut Command, args: &[&str]) -> Value {
    let out = c.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out)
        )
    })
}

#[test]
fn whole_market_flow_through_the_cli() {
    let net = Net::start();
    let dir = net.dir.path().to_path_buf();

    // Operators register and stake with the CLI.
    for i in 0..3 {
        let v = net.json(
            &net.operator(i),
            &[
                "node",
                "register",
                "--gpu-model",
                "NVIDIA L4",
                "--vram-mib",
                "23034",
                "--compute-capability",
                "8.9",
                "--backends",
                "cuda,cpu",
                "--stake",
                "150",
            ],
        );
        assert!(
            v["action"].as_str().unwrap().starts_with("node registered"),
            "{v}"
        );
        let v = net.json(&net.operator(i), &["node", "stake", "50.5"]);
        assert_eq!(v["stake"], "200.5");
    }
    let shown = net.json(&net.operator(0), &["node", "show"]);
    assert_eq!(
        (
            shown["stake"].as_str(),
            shown["compute_capability"].as_str()
        ),
        (Some("200.5"), Some("8.9"))
    );

    // The registrations enter the draw with the pool's next epoch.
    let buyer_client = net.client(&net.buyer());
    let market_info = net.rt.block_on(buyer_client.market(&net.market())).unwrap();
    net.rt
        .block_on(buyer_client.wait_for_next_pool_epoch(&market_info))
        .unwrap();
    // A quote: three nodes eligible at this reward, all of the pool.
    let q = net.json(
        &net.buyer(),
        &[
            "job",
            "quote",
            "--kernel",
            "matmul_f32",
            "--params",
            "m=8,n=4,k=16",
            "--reward",
            "2.5",
            "--target-nodes",
            "3",
        ],
    );
    assert_eq!(q["eligible_nodes"], 3, "{q}");
    assert_eq!(q["work_units"], 2 * 8 * 4 * 16);
    assert_eq!(
        q["reward_for_target"], "0.000001",
        "asks are 0: the smallest reward will do"
    );

    // The buyer submits a matmul job with a generated input.
    let sub = net.json(
        &net.buyer(),
        &[
            "job",
            "submit",
            "--kernel",
            "matmul_f32",
            "--params",
            "m=8,n=4,k=16",
            "--input-random",
            "42",
            "-n",
            "3",
            "-q",
            "2",
            "--reward",
            "2.5",
        ],
    );
    let job: Pubkey = sub["job"].as_str().unwrap().parse().unwrap();
    assert_eq!(sub["escrow"], "7.6875"); // 3 × 2.5 + 2.5% fee
    let listed = net.json(&net.buyer(), &["job", "list"]);
    assert_eq!(listed[0]["state"], "Open");

    // Test-side workers: two honest, one dishonest.
    let input_uri = sub["input_uri"].as_str().unwrap().to_string();
    let input = net.rt.block_on(data::fetch(&input_uri, 1 << 20)).unwrap();
    assert_eq!(
        hex::encode(data::sha256(&input)),
        sub["input_digest"].as_str().unwrap()
    );
    let honest = matmul_f32(&input, 8, 4, 16);
    let mut wrong = honest.clone();
    wrong[0] ^= 1;
    let workers: Vec<Worker> = (0..3)
        .map(|i| Worker::new(&net, &net.operator(i)))
        .collect();
    let m = net
        .rt
        .block_on(workers[0].client.market(&net.market()))
        .unwrap();
    // The job's view shows the draw it will make (three nodes, three seats).
    let created = net
        .rt
        .block_on(buyer_client.job(&job))
        .unwrap()
        .created_slot;
    while net.rt.block_on(buyer_client.slot()).unwrap() <= created {
        std::thread::sleep(Duration::from_millis(50));
    }
    let shown = net.json(&net.buyer(), &["job", "show", &job.to_string()]);
    assert_eq!(shown["draw_preview"]["staffed"], true, "{shown}");
    assert_eq!(shown["draw_preview"]["seats"].as_array().unwrap().len(), 3);
    let outputs = [&honest, &honest, &wrong];
    let salts: Vec<_> = workers
        .iter()
        .zip(outputs)
        .map(|(w, out)| net.rt.block_on(w.commit(&m, &job, out)))
        .collect();
    for ((w, out), salt) in workers.iter().zip(outputs).zip(salts) {
        net.rt.block_on(w.reveal(&m, &job, out, salt, &dir));
    }

    // The last reveal settled the job; `job wait` reports who was paid and slashed.
    let done = net.json(
        &net.buyer(),
        &["job", "wait", &job.to_string(), "--timeout", "60"],
    );
    assert_eq!(done["state"], "Settled");
    assert_eq!(done["accepted_digest"], hex::encode(data::sha256(&honest)));
    assert_eq!(done["paid"].as_array().unwrap().len(), 2);
    assert_eq!(done["slashed"].as_array().unwrap().len(), 1);
    let watched = net.json(&net.buyer(), &["job", "watch", &job.to_string()]);
    assert_eq!(watched, done, "`job watch` is `job wait`");

    // The buyer downloads and verifies the output.
    let out_file = dir.join("result.bin");
    let res = net.json(
        &net.buyer(),
        &[
            "job",
            "result",
            &job.to_string(),
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert_eq!(res["verified"], true);
    assert_eq!(std::fs::read(&out_file).unwrap(), honest);

    // Nodes are listed from the market's pool.
    let nodes = net.json(&net.buyer(), &["node", "list"]);
    assert_eq!(nodes.as_array().unwrap().len(), 3);

    // Withdrawals and close.
    let w = net.json(&net.operator(0), &["node", "withdraw-earnings", "all"]);
    assert_eq!(w["amount"], "2.5");
    let c = net.json(&net.buyer(), &["job", "close", &job.to_string()]);
    assert_eq!(c["action"], "job closed");
    let auth = net.authority();
    let t = net.json(&auth, &["market", "withdraw-treasury", "all"]);
    assert_eq!(t["amount"], "20.1875"); // fee 0.1875 + one slashed collateral of 20
    let shown = net.json(&net.buyer(), &["market", "show"]);
    assert_eq!(shown["conservation_holds"], true);
    assert_eq!(shown["treasury"], "0");

    // Pause and unpause as the authority; a paused market refuses new jobs before sending.
    net.json(&auth, &["market", "pause"]);
    net.fails(
        &net.buyer(),
        &[
            "job",
            "submit",
            "--kernel",
            "sha256_batch",
            "--params",
            "count=2,len=8",
            "--input-random",
            "1",
            "--reward",
            "1",
        ],
        "paused",
    );
    net.json(&auth, &["market", "unpause"]);
    // Cancel: only in the job's creation slot (its draw is public afterwards), which a separate
    // CLI invocation has missed: refused with what to expect instead.
    let sub = net.json(
        &net.buyer(),
        &[
            "job",
            "submit",
            "--kernel",
            "mandelbrot",
            "--params",
            "width=8,height=8,cx=-0.5,cy=0,scale=0.05,max_iter=50",
            "-n",
            "1",
            "-q",
            "1",
            "--reward",
            "1",
        ],
    );
    let id: Pubkey = sub["job"].as_str().unwrap().parse().unwrap();
    let created = net.rt.block_on(buyer_client.job(&id)).unwrap().created_slot;
    while net.rt.block_on(buyer_client.slot()).unwrap() <= created {
        std::thread::sleep(Duration::from_millis(50));
    }
    net.fails(
        &net.buyer(),
        &["job", "cancel", sub["job"].as_str().unwrap()],
        "can be cancelled only in that slot",
    );
    let j = net.rt.block_on(buyer_client.job(&id)).unwrap();
    assert_eq!(j.state, JobState::Open);
}

#[test]
fn offline_signing_round_trip() {
    let net = Net::start();
    let buyer = read_keypair_file(net.buyer()).unwrap();
    // A separate hot wallet pays the fees; the buyer signs on another device.
    let fee_payer = Keypair::new();
    let fp_path = net.dir.path().join("fee-payer.json");
    solana_sdk::signature::write_keypair_file(&fee_payer, &fp_path).unwrap();
    net.rt
        .block_on(
            net.client(&net.buyer())
                .rpc()
                .request_airdrop(&fee_payer.pubkey(), 1_000_000_000),
        )
        .unwrap();
    let blockhash = net
        .rt
        .block_on(net.client(&net.buyer()).rpc().get_latest_blockhash())
        .unwrap()
        .to_string();
    let submit = [
        "job",
        "submit",
        "--kernel",
        "sha256_batch",
        "--params",
        "count=4,len=16",
        "--input-random",
        "9",
        "--reward",
        "1",
        "-n",
        "1",
        "-q",
        "1",
    ];

    let mut args = vec!["--sign-only", "--blockhash", &blockhash];
    let fp_pub = fee_payer.pubkey().to_string();
    args.extend(["--fee-payer", &fp_pub]);
    args.extend(submit);
    let signed = net.json(&net.buyer(), &args);
    assert_eq!(signed["blockhash"], blockhash.as_str());
    assert_eq!(signed["absent"], serde_json::json!([fp_pub]));
    let buyer_sig = signed["signers"][0].as_str().unwrap().to_string();
    assert!(buyer_sig.starts_with(&buyer.pubkey().to_string()));
    let before = net
        .rt
        .block_on(net.client(&net.buyer()).market(&net.market()))
        .unwrap()
        .state
        .next_job_id;
    assert_eq!(before, 0, "--sign-only sends nothing");

    // On the online machine: the buyer is only a pubkey, with its signature.
    let buyer_pub = buyer.pubkey().to_string();
    let mut args = vec!["--blockhash", &blockhash, "--signer", &buyer_sig];
    let fp = fp_path.to_str().unwrap();
    args.extend(["--fee-payer", fp]);
    args.extend(submit);
    let v = net.json(Path::new(&buyer_pub), &args);
    assert_eq!(v["job_id"], 0);
    let m = net
        .rt
        .block_on(net.client(&net.buyer()).market(&net.market()))
        .unwrap();
    assert_eq!(m.state.next_job_id, 1);

    // A tampered signature is refused with a clear message, and nothing is sent.
    let other = Keypair::new().sign_message(b"x");
    let bad = format!("{buyer_pub}={other}");
    let mut args = vec![
        "--blockhash",
        &blockhash,
        "--signer",
        &bad,
        "--fee-payer",
        fp,
    ];
    args.extend(submit);
    let out = net
        .cli(Path::new(&buyer_pub), &args)
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8_lossy(&out).contains("does not match"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    // A pubkey without its signature says how to provide it.
    net.fails(Path::new(&buyer_pub), &submit, "--signer");

    // The buyer's keypair piped in on standard input (`-k stdin`), the fees from a file: the
    // job lands, paid by the fee payer, escrowed from the buyer.
    let fee_balance = |net: &Net| {
        net.rt
            .block_on(
                net.client(&net.buyer())
                    .rpc()
                    .get_balance(&fee_payer.pubkey()),
            )
            .unwrap()
    };
    let fees_before = fee_balance(&net);
    let mut args = vec!["--fee-payer", fp];
    args.extend(submit);
    let v = json_of(
        net.cli(Path::new("stdin"), &args)
            .write_stdin(std::fs::read(net.buyer()).unwrap()),
        &args,
    );
    assert_eq!(v["job_id"], 1);
    let job = net
        .rt
        .block_on(
            net.client(&net.buyer())
                .job(&concord_client::pda::job_address(&net.market(), 1)),
        )
        .unwrap();
    assert_eq!(job.buyer, buyer.pubkey());
    assert!(fee_balance(&net) < fees_before, "the fee payer paid");
}

#[test]
fn solana_config_and_monikers() {
    let net = Net::start();
    // No -u, -k or --market: the Solana CLI config gives URL and keypair; the market comes
    // from CONCORD_MARKET.
    let cfg = net.dir.path().join("config.yml");
    std::fs::write(
        &cfg,
        format!("---\njson_rpc_url: \"{}\"\nwebsocket_url: ''\nkeypair_path: {}\ncommitment: confirmed\n", net.url(), net.buyer().display()),
    )
    .unwrap();
    let args = [
        "-C",
        cfg.to_str().unwrap(),
        "--output",
        "json",
        "market",
        "show",
    ];
    let v = json_of(
        Command::cargo_bin("concord")
            .unwrap()
            .current_dir(net.dir.path())
            .env("CONCORD_MARKET", net.market().to_string())
            .env_remove("CONCORD_URL")
            .args(args),
        &args,
    );
    assert_eq!(v["address"], net.market().to_string());
    // The default config location is ~/.config/solana/cli/config.yml.
    let home = net.dir.path().join("home");
    std::fs::create_dir_all(home.join(".config/solana/cli")).unwrap();
    std::fs::copy(&cfg, home.join(".config/solana/cli/config.yml")).unwrap();
    Command::cargo_bin("concord")
        .unwrap()
        .current_dir(net.dir.path())
        .env("HOME", &home)
        .env("CONCORD_MARKET", net.market().to_string())
        .env_remove("CONCORD_URL")
        .args(["--output", "json", "job", "list"])
        .assert()
        .success();
    // A bad moniker is refused before anything is contacted.
    let out = Command::cargo_bin("concord")
        .unwrap()
        .args(["-u", "mainnet", "market", "show"])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("moniker"));
}

#[test]
fn bad_input_is_refused_before_sending() {
    let net = Net::start();
    let b = net.buyer();
    let base = ["job", "submit", "--reward", "1"];
    fn with<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        base.iter().chain(extra).copied().collect()
    }
    net.fails(
        &b,
        &with(
            &base,
            &[
                "--kernel",
                "matmul",
                "--params",
                "m=1,n=1,k=1",
                "--input-random",
                "1",
            ],
        ),
        "unknown kernel 'matmul'",
    );
    // Typed by clap: refused while the arguments are read, naming the flag.
    let submit = [
        "--kernel",
        "matmul_f32",
        "--params",
        "m=1,n=1,k=1",
        "--input-random",
        "1",
    ];
    net.fails(
        &b,
        &with(&with(&base, &submit), &["--backends", "cuda,tpu"]),
        "invalid value 'tpu' for '--backends <BACKENDS>': unknown backend 'tpu'",
    );
    net.fails(
        &b,
        &with(&with(&base, &submit), &["--min-compute-capability", "nine"]),
        "for '--min-compute-capability <MIN_COMPUTE_CAPABILITY>': compute capability 'nine' is not like 8.6 or 9.0",
    );
    net.fails(
        &b,
        &[
            "node",
            "register",
            "--gpu-model",
            "x",
            "--compute-capability",
            "8.10",
        ],
        "compute capability '8.10' is not like 8.6 or 9.0",
    );
    net.fails(
        &b,
        &["job", "list", "--state", "done"],
        "invalid value 'done' for '--state <STATE>'",
    );
    net.fails(
        &b,
        &with(
            &base,
            &[
                "--kernel",
                "matmul_f32",
                "--params",
                "m=1,n=1",
                "--input-random",
                "1",
            ],
        ),
        "needs parameter 'k'",
    );
    net.fails(
        &b,
        &with(
            &base,
            &[
                "--kernel",
                "matmul_f32",
                "--params",
                "m=1,n=x,k=1",
                "--input-random",
                "1",
            ],
        ),
        "not a valid number",
    );
    net.fails(
        &b,
        &with(
            &base,
            &[
                "--kernel",
                "matmul_f32",
                "--params",
                "m=2,n=2,k=2",
                "--input-random",
                "1",
                "-n",
                "4",
                "-q",
                "2",
            ],
        ),
        "majority",
    );
    net.fails(
        &b,
        &with(
            &base,
            &[
                "--kernel",
                "matmul_f32",
                "--params",
                "m=2,n=2,k=2",
                "--input-random",
                "1",
                "-n",
                "8",
                "-q",
                "5",
            ],
        ),
        "between 1 and 7",
    );
    net.fails(
        &b,
        &with(
            &base,
            &["--kernel", "matmul_f32", "--params", "m=2,n=2,k=2"],
        ),
        "needs input data",
    );
    let small = net.dir.path().join("small.bin");
    std::fs::write(&small, [0u8; 5]).unwrap();
    net.fails(
        &b,
        &with(
            &base,
            &[
                "--kernel",
                "matmul_f32",
                "--params",
                "m=2,n=2,k=2",
                "--input",
                small.to_str().unwrap(),
            ],
        ),
        "exactly 32 bytes",
    );
    net.fails(
        &b,
        &[
            "job",
            "submit",
            "--reward",
            "1.0000001",
            "--kernel",
            "sha256_batch",
            "--params",
            "count=1,len=1",
            "--input-random",
            "1",
        ],
        "6 decimals",
    );
    net.fails(
        &b,
        &[
            "job",
            "submit",
            "--reward",
            "100000",
            "--kernel",
            "sha256_batch",
            "--params",
            "count=1,len=1",
            "--input-random",
            "1",
        ],
        "insufficient balance",
    );
    net.fails(&b, &["job", "show", "999"], "not found");
    net.fails(&net.operator(0), &["node", "stake", "1"], "node register");
    net.fails(&b, &["market", "withdraw-treasury", "5"], "treasury holds");
    // Unreachable RPC.
    let out = Command::cargo_bin("concord")
        .unwrap()
        .current_dir(net.dir.path())
        .args(["-u", "http://127.0.0.1:9", "-k"])
        .arg(&b)
        .args(["--market", &net.market().to_string(), "job", "list"])
        .timeout(Duration::from_secs(60))
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8_lossy(&out).contains("cannot reach the RPC"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    // Nothing was sent by any of the refused commands.
    let m = net
        .rt
        .block_on(net.client(&b).market(&net.market()))
        .unwrap();
    assert_eq!(m.state.next_job_id, 0);
}

/// `concord demo` (the README's main command) end to end: every kernel settled and verified, the
/// dishonest worker never paid, a killed worker's seat reassigned to a backup and the worker
/// restarted from its journal, the invariant holding on chain.
#[test]
fn demo_runs_the_whole_market() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "demo",
        "--dishonest",
        "1",
        "--kill-worker",
        "--output",
        "json",
    ];
    let v = json_of(
        Command::cargo_bin("concord")
            .unwrap()
            .current_dir(dir.path())
            .args(args)
            .timeout(Duration::from_secs(300)),
        &args,
    );
    let jobs = v["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 5);
    let kernels: Vec<&str> = jobs.iter().map(|j| j["kernel"].as_str().unwrap()).collect();
    assert_eq!(
        kernels,
        [
            "matmul_f32",
            "matmul_i8",
            "mlp_f32",
            "mandelbrot",
            "sha256_batch"
        ]
    );
    for j in jobs {
        assert_eq!(j["state"], "Settled", "{j}");
        assert_eq!(j["output_verified"], true);
        let seats: Vec<&str> = j["seats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        let paid: Vec<&str> = j["paid"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert!(
            !paid.contains(&"#1"),
            "the dishonest worker #1 is never paid: {j}"
        );
        if seats.contains(&"#1") {
            assert!(
                j["slashed"].as_array().unwrap().iter().any(|s| s == "#1"),
                "{j}"
            );
        }
        assert_eq!(paid.len(), 3 - usize::from(seats.contains(&"#1")), "{j}");
    }
    assert!(
        jobs[0]["reassignments"].as_u64().unwrap() >= 1,
        "the killed worker's seat went to a backup"
    );
    assert_eq!(v["conservation_holds"], true);
    assert_eq!(v["worker_killed_and_restarted"], true);
    assert_eq!(
        v["job_rent_paid_lamports"],
        v["job_rent_reclaimed_lamports"]
    );
    assert!(v["transactions"].as_u64().unwrap() >= 5 * (2 * 3 + 1));
}
