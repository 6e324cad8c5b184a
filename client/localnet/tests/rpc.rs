//! The embedded network speaks Solana JSON-RPC: the real `RpcClient` works against it unchanged,
//! errors have the standard codes, and the clock moves with wall time.

use std::time::Duration;

use concord_client::ConcordClient;
use concord_localnet::{Localnet, LocalnetConfig};
use serde_json::{json, Value};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::signature::{Keypair, Signer};
use solana_sdk::transaction::Transaction;

async fn start() -> (Localnet, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let net = Localnet::start(LocalnetConfig {
        rpc_port: 0,
        data_dir: dir.path().to_path_buf(),
        slot_time: Duration::from_millis(100),
        ..Default::default()
    })
    .await
    .expect("localnet starts");
    (net, dir)
}

async fn raw(url: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_client_works_unchanged() {
    let (net, dir) = start().await;
    let rpc = RpcClient::new_with_commitment(net.url.clone(), CommitmentConfig::confirmed());

    assert_eq!(rpc.get_version().await.unwrap().solana_core, "3.1.12");
    rpc.get_health().await.unwrap();
    let s0 = rpc.get_slot().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(rpc.get_slot().await.unwrap() > s0, "slots advance");

    // Airdrop, balance, transfer with a fresh blockhash, statuses.
    let alice = Keypair::new();
    let bob = Keypair::new().pubkey();
    let sig = rpc
        .request_airdrop(&alice.pubkey(), 2 * LAMPORTS_PER_SOL)
        .await
        .unwrap();
    assert!(rpc
        .get_signature_status(&sig)
        .await
        .unwrap()
        .unwrap()
        .is_ok());
    assert_eq!(
        rpc.get_balance(&alice.pubkey()).await.unwrap(),
        2 * LAMPORTS_PER_SOL
    );
    let bh = rpc.get_latest_blockhash().await.unwrap();
    assert!(rpc
        .is_blockhash_valid(&bh, CommitmentConfig::confirmed())
        .await
        .unwrap());
    let rent = rpc.get_minimum_balance_for_rent_exemption(0).await.unwrap();
    let tx = Transaction::new_signed_with_payer(
        &[solana_system_interface::instruction::transfer(
            &alice.pubkey(),
            &bob,
            rent,
        )],
        Some(&alice.pubkey()),
        &[&alice],
        bh,
    );
    let sig = rpc.send_and_confirm_transaction(&tx).await.unwrap();
    assert_eq!(rpc.get_balance(&bob).await.unwrap(), rent);
    let statuses = rpc.get_signature_statuses(&[sig]).await.unwrap().value;
    assert!(statuses[0].as_ref().unwrap().err.is_none());
    let fee = rpc.get_fee_for_message(&tx.message).await.unwrap();
    assert_eq!(fee, 5_000);

    // Accounts: single (base64+zstd, as RpcClient asks), batched, missing.
    let market = net.info.market();
    let acc = rpc.get_account(&market).await.unwrap();
    assert_eq!(acc.owner, concord::ID);
    let many = rpc
        .get_multiple_accounts(&[market, net.info.mint(), bob, Keypair::new().pubkey()])
        .await
        .unwrap();
    assert!(many[0].is_some() && many[1].is_some() && many[2].is_some() && many[3].is_none());

    // Token balances of the bootstrapped wallets.
    let client = ConcordClient::new(net.url.clone(), Keypair::new());
    let m = client.market(&market).await.unwrap();
    let buyer = solana_sdk::signature::read_keypair_file(&net.info.buyer_keypair).unwrap();
    let bal = rpc
        .get_token_account_balance(&m.token_account_of(&buyer.pubkey()))
        .await
        .unwrap();
    assert_eq!(
        (
            bal.amount.as_str(),
            bal.decimals,
            bal.ui_amount_string.as_str()
        ),
        ("100000000000", 6, "100000")
    );
    let (vault, expected) = client.check_conservation(&market).await.unwrap();
    assert_eq!(vault, expected);

    // Simulation reports logs and program errors.
    let sim = rpc.simulate_transaction(&tx).await.unwrap().value;
    assert!(
        sim.err.is_some(),
        "replayed signature fails simulation: {sim:?}"
    );

    // The keypair files are Solana CLI keypairs.
    for p in std::iter::once(&net.info.buyer_keypair).chain(&net.info.operator_keypairs) {
        assert!(p.starts_with(dir.path()));
        solana_sdk::signature::read_keypair_file(p).unwrap();
    }
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("localnet.json")).unwrap())
            .unwrap();
    assert_eq!(summary["market"], net.info.market);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_rpc_errors_use_standard_codes() {
    let (net, _dir) = start().await;
    let r = raw(
        &net.url,
        json!({"jsonrpc": "2.0", "id": 7, "method": "getVoteAccounts", "params": []}),
    )
    .await;
    assert_eq!(r["error"]["code"], -32601);
    assert_eq!(r["error"]["message"], "Method not found");
    assert_eq!(r["id"], 7);
    let r = raw(
        &net.url,
        json!({"jsonrpc": "2.0", "id": 1, "method": "getBalance", "params": ["not-a-key"]}),
    )
    .await;
    assert_eq!(r["error"]["code"], -32602);
    let r = raw(&net.url, json!({"id": 1, "method": "getSlot"})).await;
    assert_eq!(r["error"]["code"], -32600);
    let r = reqwest::Client::new()
        .post(&net.url)
        .body("{nope")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(r["error"]["code"], -32700);
    let batch = raw(
        &net.url,
        json!([
            {"jsonrpc": "2.0", "id": 1, "method": "getHealth"},
            {"jsonrpc": "2.0", "id": 2, "method": "getSlot"}
        ]),
    )
    .await;
    assert_eq!(batch[0]["result"], "ok");
    assert!(batch[1]["result"].is_u64());

    // A program error in preflight: -32002 with the simulation (logs, error) as data, which the
    // client maps to the program's error name.
    let client = ConcordClient::new(net.url.clone(), Keypair::new());
    client
        .rpc()
        .request_airdrop(&client.payer_key(), LAMPORTS_PER_SOL)
        .await
        .unwrap();
    let m = client.market(&net.info.market()).await.unwrap();
    let ix = concord_client::ix::set_paused(&m, true); // the payer is not the authority
    let err = client.send(&[ix], &[]).await.unwrap_err();
    // The authority must sign: refused before anything is sent.
    assert!(
        matches!(err, concord_client::ClientError::InvalidInput(_)),
        "{err}"
    );
    assert!(
        err.to_string().contains(&m.state.authority.to_string()),
        "{err}"
    );
    let mut ix = concord_client::ix::set_paused(&m, true);
    ix.accounts[0].pubkey = client.payer_key();
    let err = client.send(&[ix], &[]).await.unwrap_err();
    assert!(err.is(concord_client::ConcordError::Unauthorized), "{err}");
    assert_eq!(
        err.program_error_name(),
        Some("Unauthorized"),
        "the name, for messages"
    );
}
