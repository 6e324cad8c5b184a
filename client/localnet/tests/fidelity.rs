//! The local network answers as a validator does: history, program accounts, token accounts,
//! logs with Anchor events, blockhash lifetime, simulation fields, PubSub through agave's own
//! `PubsubClient`, fixtures, and every bad input of issue 9 answered with an error, never a panic
//! or a stall.

use std::time::Duration;

use base64::Engine;
use concord_client::events::{parse_logs, ConcordEvent};
use concord_localnet::{Localnet, LocalnetConfig};
use futures_util::StreamExt;
use serde_json::{json, Value};
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcTransactionLogsConfig,
    RpcTransactionLogsFilter,
};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::message::{v0, VersionedMessage};
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature, Signer};
use solana_sdk::transaction::Transaction;

async fn start_with(config: LocalnetConfig) -> (Localnet, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let net = Localnet::start(LocalnetConfig {
        rpc_port: 0,
        data_dir: dir.path().to_path_buf(),
        slot_time: Duration::from_millis(50),
        ..config
    })
    .await
    .expect("localnet starts");
    (net, dir)
}

async fn start() -> (Localnet, tempfile::TempDir) {
    start_with(LocalnetConfig::default()).await
}

async fn post(url: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn call(url: &str, method: &str, params: Value) -> Value {
    post(
        url,
        json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string(),
    )
    .await
    .1
}

async fn within<F: std::future::Future>(f: F) -> Result<F::Output, tokio::time::error::Elapsed> {
    tokio::time::timeout(Duration::from_secs(10), f).await
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn funded(rpc: &RpcClient) -> Keypair {
    let k = Keypair::new();
    let sig = rpc
        .request_airdrop(&k.pubkey(), 10 * LAMPORTS_PER_SOL)
        .await
        .unwrap();
    assert!(rpc.get_signature_status(&sig).await.unwrap().is_some());
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_logs_and_events_are_a_validators() {
    let (net, _dir) = start().await;
    let rpc = RpcClient::new_with_commitment(net.url.clone(), CommitmentConfig::confirmed());
    let market = net.info.market();
    let sigs = rpc.get_signatures_for_address(&market).await.unwrap();
    assert!(!sigs.is_empty(), "the bootstrap's create_market is kept");
    let created = sigs.last().unwrap();
    let sig: Signature = created.signature.parse().unwrap();
    let tx = rpc
        .get_transaction(
            &sig,
            solana_transaction_status_client_types::UiTransactionEncoding::Base64,
        )
        .await
        .unwrap();
    let meta = tx.transaction.meta.unwrap();
    let logs: Vec<String> = Option::from(meta.log_messages).unwrap();
    let program = concord::ID.to_string();
    let invokes = |depth: u32| {
        logs.iter()
            .filter(|l| **l == format!("Program {program} invoke [{depth}]"))
            .count()
    };
    assert_eq!(invokes(1), 1, "one invoke line per invocation: {logs:#?}");
    assert!(logs.contains(&"Program log: Instruction: CreateMarket".to_string()));
    assert!(
        logs.iter().any(|l| l.contains(" invoke [2]")),
        "CPIs at depth 2"
    );
    assert!(
        !logs.iter().any(|l| l.contains('\u{1e}')),
        "no internal markers leak"
    );
    let events = parse_logs(&logs);
    assert!(
        matches!(events.as_slice(), [ConcordEvent::MarketCreated(e)] if e.market == market),
        "{events:?}"
    );
    assert!(!meta.pre_balances.is_empty());
    assert!(meta.fee > 0);

    // Paging: before/until/limit, newest first.
    let all = rpc
        .get_signatures_for_address(&net.info.mint())
        .await
        .unwrap();
    assert!(all.len() >= 2);
    let first_page = call(
        &net.url,
        "getSignaturesForAddress",
        json!([net.info.mint.clone(), {"limit": 1}]),
    )
    .await;
    assert_eq!(
        first_page["result"][0]["signature"],
        all[0].signature.as_str()
    );
    let next = call(
        &net.url,
        "getSignaturesForAddress",
        json!([net.info.mint.clone(), {"limit": 1, "before": all[0].signature}]),
    )
    .await;
    assert_eq!(next["result"][0]["signature"], all[1].signature.as_str());

    // Statuses with searchTransactionHistory, the block that holds it, its time.
    let st = rpc
        .get_signature_statuses_with_history(&[sig])
        .await
        .unwrap()
        .value;
    let slot = st[0].as_ref().unwrap().slot;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let block = call(
        &net.url,
        "getBlock",
        json!([slot, {"maxSupportedTransactionVersion": 0, "transactionDetails": "signatures"}]),
    )
    .await;
    assert!(
        block["result"]["signatures"]
            .as_array()
            .unwrap()
            .contains(&json!(created.signature)),
        "{block}"
    );
    assert!(rpc.get_block_time(slot).await.unwrap() > 0);
    let blocks = rpc.get_blocks(slot, Some(slot + 2)).await.unwrap();
    assert_eq!(blocks[0], slot);
    assert!(rpc.get_first_available_block().await.unwrap() <= slot);
    let gone = call(&net.url, "getBlock", json!([u64::MAX / 2])).await;
    assert_eq!(gone["error"]["code"], -32004, "{gone}");
    let json_tx = call(
        &net.url,
        "getTransaction",
        json!([created.signature, {"encoding": "jsonParsed"}]),
    )
    .await;
    assert!(json_tx["result"]["transaction"]["message"]["accountKeys"][0]["pubkey"].is_string());
    let processed = call(
        &net.url,
        "getTransaction",
        json!([created.signature, {"commitment": "processed"}]),
    )
    .await;
    assert_eq!(processed["error"]["code"], -32602);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_programs_tokens_and_cluster_methods() {
    let (net, _dir) = start().await;
    let rpc = RpcClient::new_with_commitment(net.url.clone(), CommitmentConfig::confirmed());

    // getProgramAccounts: the market by discriminator, with context, and a dataSize filter.
    let disc = <concord::state::Market as anchor_lang::Discriminator>::DISCRIMINATOR;
    let markets = rpc
        .get_program_ui_accounts_with_config(
            &concord::ID,
            RpcProgramAccountsConfig {
                filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
                    0,
                    disc.to_vec(),
                ))]),
                account_config: RpcAccountInfoConfig {
                    encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(markets.len(), 1);
    assert_eq!(markets[0].0, net.info.market());
    let market_len = markets[0].1.data.decode().unwrap().len();
    let with_context = call(
        &net.url,
        "getProgramAccounts",
        json!([concord::ID.to_string(), {"encoding": "base64", "withContext": true,
            "filters": [{"dataSize": market_len}]}]),
    )
    .await;
    assert!(with_context["result"]["context"]["slot"].is_u64());
    assert_eq!(with_context["result"]["value"].as_array().unwrap().len(), 1);
    let too_many = call(
        &net.url,
        "getProgramAccounts",
        json!([concord::ID.to_string(), {"filters": [{"dataSize": 1}, {"dataSize": 1},
            {"dataSize": 1}, {"dataSize": 1}, {"dataSize": 1}]}]),
    )
    .await;
    assert_eq!(too_many["error"]["code"], -32602);

    // Token accounts, parsed through solana-account-decoder.
    let buyer = solana_sdk::signature::read_keypair_file(&net.info.buyer_keypair).unwrap();
    let owned = call(
        &net.url,
        "getTokenAccountsByOwner",
        json!([buyer.pubkey().to_string(), {"mint": net.info.mint}, {"encoding": "jsonParsed"}]),
    )
    .await;
    let info = &owned["result"]["value"][0]["account"]["data"]["parsed"]["info"];
    assert_eq!(info["owner"], buyer.pubkey().to_string(), "{owned}");
    assert_eq!(info["tokenAmount"]["decimals"], 6);
    let supply = rpc.get_token_supply(&net.info.mint()).await.unwrap();
    assert!(supply.amount.parse::<u64>().unwrap() > 0);
    let largest = rpc
        .get_token_largest_accounts(&net.info.mint())
        .await
        .unwrap();
    assert_eq!(largest[0].amount.amount, {
        let mut amounts: Vec<u64> = largest
            .iter()
            .map(|a| a.amount.amount.parse().unwrap())
            .collect();
        amounts.sort_unstable();
        amounts.last().unwrap().to_string()
    });
    let parsed_mint = call(
        &net.url,
        "getAccountInfo",
        json!([net.info.mint, {"encoding": "jsonParsed"}]),
    )
    .await;
    assert_eq!(
        parsed_mint["result"]["value"]["data"]["parsed"]["type"],
        "mint"
    );
    let sliced = call(
        &net.url,
        "getAccountInfo",
        json!([net.info.mint, {"encoding": "base64", "dataSlice": {"offset": 44, "length": 1}}]),
    )
    .await;
    assert_eq!(sliced["result"]["value"]["data"][0], b64(&[6]));

    // Cluster methods a dApp calls.
    let version = call(&net.url, "getVersion", json!([])).await;
    assert!(version["result"]["feature-set"].is_u64(), "{version}");
    let epoch = rpc.get_epoch_info().await.unwrap();
    assert!(epoch.absolute_slot > 0);
    rpc.get_epoch_schedule().await.unwrap();
    let nodes = rpc.get_cluster_nodes().await.unwrap();
    assert_eq!(nodes[0].rpc, Some(net.addr));
    assert_eq!(nodes[0].pubsub, Some(net.ws_addr));
    rpc.get_identity().await.unwrap();
    assert_eq!(
        rpc.get_inflation_reward(&[Pubkey::new_unique()], None)
            .await
            .unwrap(),
        vec![None]
    );
    let fees = rpc.get_recent_prioritization_fees(&[]).await.unwrap();
    assert!(!fees.is_empty());
    let unsupported = call(&net.url, "getVoteAccounts", json!([])).await;
    assert_eq!(unsupported["error"]["code"], -32601);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blockhashes_simulation_and_fees() {
    let (net, _dir) = start().await;
    let rpc = RpcClient::new_with_commitment(net.url.clone(), CommitmentConfig::confirmed());
    let alice = funded(&rpc).await;
    let (hash, last_valid) = rpc
        .get_latest_blockhash_with_commitment(CommitmentConfig::confirmed())
        .await
        .unwrap();
    let height = rpc.get_block_height().await.unwrap();
    assert!(
        last_valid >= height + 149 && last_valid <= height + 151,
        "{last_valid} vs {height}"
    );
    // 40 slots later (2 s at 50 ms slots, far beyond the old 3 s of 400 ms slots' worth), the
    // blockhash still lands a transaction.
    let start = rpc.get_slot().await.unwrap();
    while rpc.get_slot().await.unwrap() < start + 40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(rpc
        .is_blockhash_valid(&hash, CommitmentConfig::confirmed())
        .await
        .unwrap());
    let transfer = solana_system_interface::instruction::transfer(
        &alice.pubkey(),
        &Pubkey::new_unique(),
        LAMPORTS_PER_SOL,
    );
    let tx = Transaction::new_signed_with_payer(
        std::slice::from_ref(&transfer),
        Some(&alice.pubkey()),
        &[&alice],
        hash,
    );
    rpc.send_and_confirm_transaction(&tx).await.unwrap();

    // getFeeForMessage, legacy and v0.
    let v0 = v0::Message::try_compile(&alice.pubkey(), std::slice::from_ref(&transfer), &[], hash)
        .unwrap();
    let v0_bytes = bincode::serialize(&VersionedMessage::V0(v0.clone())).unwrap();
    let fee = call(&net.url, "getFeeForMessage", json!([b64(&v0_bytes)])).await;
    assert_eq!(fee["result"]["value"], 5000, "{fee}");

    // A simulation fills every field a validator fills.
    let fresh = rpc.get_latest_blockhash().await.unwrap();
    let tx = Transaction::new_signed_with_payer(
        std::slice::from_ref(&transfer),
        Some(&alice.pubkey()),
        &[&alice],
        fresh,
    );
    let sim = call(
        &net.url,
        "simulateTransaction",
        json!([b64(&bincode::serialize(&tx).unwrap()), {"encoding": "base64",
            "sigVerify": true, "innerInstructions": true,
            "accounts": {"addresses": [alice.pubkey().to_string()], "encoding": "base64"}}]),
    )
    .await;
    let v = &sim["result"]["value"];
    assert_eq!(v["err"], Value::Null, "{sim}");
    assert_eq!(v["fee"], 5000);
    assert_eq!(v["preBalances"].as_array().unwrap().len(), 3);
    assert!(v["postBalances"].is_array() && v["preTokenBalances"].is_array());
    assert!(v["loadedAddresses"].is_object() && v["innerInstructions"].is_array());
    assert!(v["accounts"][0]["lamports"].as_u64().unwrap() < 9 * LAMPORTS_PER_SOL);
    let replaced = call(
        &net.url,
        "simulateTransaction",
        json!([b64(&bincode::serialize(&tx).unwrap()), {"encoding": "base64",
            "replaceRecentBlockhash": true}]),
    )
    .await;
    assert!(replaced["result"]["value"]["replacementBlockhash"]["blockhash"].is_string());
    let mut forged = tx.clone();
    forged.signatures[0] = Signature::from([7; 64]);
    let bad = call(
        &net.url,
        "simulateTransaction",
        json!([b64(&bincode::serialize(&forged).unwrap()), {"encoding": "base64", "sigVerify": true}]),
    )
    .await;
    assert_eq!(bad["result"]["value"]["err"], "SignatureFailure", "{bad}");
    let ahead = call(
        &net.url,
        "getBalance",
        json!([alice.pubkey().to_string(), {"minContextSlot": u64::MAX}]),
    )
    .await;
    assert_eq!(ahead["error"]["code"], -32016, "{ahead}");
    assert!(ahead["error"]["data"]["contextSlot"].is_u64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_stalls_no_one() {
    let (net, _dir) = start().await;
    let rpc = RpcClient::new_with_commitment(net.url.clone(), CommitmentConfig::confirmed());
    let alice = funded(&rpc).await;
    let hash = rpc.get_latest_blockhash().await.unwrap();
    let send = |tx: Vec<u8>| {
        let url = net.url.clone();
        async move {
            call(
                &url,
                "sendTransaction",
                json!([b64(&tx), {"encoding": "base64"}]),
            )
            .await
        }
    };

    // Zero signatures.
    let mut unsigned = Transaction::new_with_payer(
        &[solana_system_interface::instruction::transfer(
            &alice.pubkey(),
            &Pubkey::new_unique(),
            1,
        )],
        Some(&alice.pubkey()),
    );
    unsigned.message.recent_blockhash = hash;
    unsigned.signatures.clear();
    let r = send(bincode::serialize(&unsigned).unwrap()).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");

    // 42 keys in one instruction: refused or executed, never a panic.
    let metas: Vec<AccountMeta> = (0..41)
        .map(|_| AccountMeta::new_readonly(Pubkey::new_unique(), false))
        .collect();
    let many = Transaction::new_signed_with_payer(
        &[Instruction::new_with_bytes(
            Pubkey::new_unique(),
            &[],
            metas,
        )],
        Some(&alice.pubkey()),
        &[&alice],
        hash,
    );
    let r = send(bincode::serialize(&many).unwrap()).await;
    assert!(r["error"]["code"].is_i64(), "{r}");
    assert!(rpc.get_slot().await.is_ok(), "the server still answers");

    // Over a packet: refused before decoding.
    let big = Transaction::new_signed_with_payer(
        &[Instruction::new_with_bytes(
            Pubkey::new_unique(),
            &[0; 1300],
            vec![],
        )],
        Some(&alice.pubkey()),
        &[&alice],
        hash,
    );
    let r = send(bincode::serialize(&big).unwrap()).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too large"),
        "{r}"
    );

    // Bad base64, a bad signature, an absurd rent query, unknown methods.
    let r = call(
        &net.url,
        "sendTransaction",
        json!(["%%%", {"encoding": "base64"}]),
    )
    .await;
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid base64 encoding"),
        "{r}"
    );
    let mut forged = Transaction::new_signed_with_payer(
        &[solana_system_interface::instruction::transfer(
            &alice.pubkey(),
            &Pubkey::new_unique(),
            1,
        )],
        Some(&alice.pubkey()),
        &[&alice],
        hash,
    );
    forged.signatures[0] = Signature::from([9; 64]);
    let r = send(bincode::serialize(&forged).unwrap()).await;
    assert_eq!(r["error"]["code"], -32002, "{r}");
    assert_eq!(r["error"]["data"]["err"], "SignatureFailure", "{r}");
    let r = call(
        &net.url,
        "getMinimumBalanceForRentExemption",
        json!([u64::MAX]),
    )
    .await;
    assert_eq!(r["error"]["code"], -32602, "{r}");

    // Envelope and transport limits, as JSON-RPC errors.
    let (_, r) = post(&net.url, "[]").await;
    assert_eq!(r["error"]["code"], -32600);
    let (status, r) = post(&net.url, vec![b' '; 60 * 1024]).await;
    assert_eq!(status, 413);
    assert_eq!(r["error"]["code"], -32600, "{r}");
    let head = reqwest::Client::new()
        .head(format!("{}/health", net.url))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 200);

    // Many concurrent bad requests and one good one: the good one is answered promptly.
    let mut junk = Vec::new();
    for _ in 0..50 {
        let tx = bincode::serialize(&many).unwrap();
        junk.push(tokio::spawn(send(tx)));
    }
    let t = std::time::Instant::now();
    rpc.get_balance(&alice.pubkey()).await.unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "answered in {:?}",
        t.elapsed()
    );
    for j in junk {
        j.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pubsub_through_agaves_client() {
    let (net, _dir) = start().await;
    let rpc = RpcClient::new_with_commitment(net.url.clone(), CommitmentConfig::confirmed());
    let alice = funded(&rpc).await;
    assert_eq!(net.ws_addr.port(), net.addr.port() + 1, "RPC port + 1");
    let ps = PubsubClient::new(&net.ws_url).await.unwrap();
    let bob = Pubkey::new_unique();
    let (mut account, account_unsub) = ps.account_subscribe(&bob, None).await.unwrap();
    let (mut logs, logs_unsub) = ps
        .logs_subscribe(
            RpcTransactionLogsFilter::Mentions(vec![bob.to_string()]),
            RpcTransactionLogsConfig { commitment: None },
        )
        .await
        .unwrap();
    let (mut slots, slots_unsub) = ps.slot_subscribe().await.unwrap();
    let (mut program, program_unsub) = ps
        .program_subscribe(&solana_sdk_ids::system_program::ID, None)
        .await
        .unwrap();
    let tx = Transaction::new_signed_with_payer(
        &[solana_system_interface::instruction::transfer(
            &alice.pubkey(),
            &bob,
            LAMPORTS_PER_SOL,
        )],
        Some(&alice.pubkey()),
        &[&alice],
        rpc.get_latest_blockhash().await.unwrap(),
    );
    let (mut sig, _) = ps
        .signature_subscribe(&tx.signatures[0], None)
        .await
        .unwrap();
    rpc.send_transaction(&tx).await.unwrap();
    let s = within(sig.next()).await.unwrap().unwrap();
    assert!(matches!(
        s.value,
        solana_rpc_client_api::response::RpcSignatureResult::ProcessedSignature(ref p) if p.err.is_none()
    ));
    let a = within(account.next()).await.unwrap().unwrap();
    assert_eq!(a.value.lamports, LAMPORTS_PER_SOL);
    let l = within(logs.next()).await.unwrap().unwrap();
    assert_eq!(l.value.signature, tx.signatures[0].to_string());
    assert!(l.value.logs[0].ends_with("invoke [1]"));
    let p = within(program.next()).await.unwrap().unwrap();
    assert!(p.value.pubkey == bob.to_string() || p.value.pubkey == alice.pubkey().to_string());
    let first = within(slots.next()).await.unwrap().unwrap();
    let second = within(slots.next()).await.unwrap().unwrap();
    assert!(second.slot > first.slot && second.parent == second.slot - 1);
    // A signature that already landed is notified at once.
    let (mut late, _) = ps
        .signature_subscribe(&tx.signatures[0], None)
        .await
        .unwrap();
    assert!(within(late.next()).await.unwrap().is_some());
    account_unsub().await;
    logs_unsub().await;
    slots_unsub().await;
    program_unsub().await;
    drop((sig, late, account, logs, slots, program));

    // Raw protocol: unknown subscription ids and methods are JSON-RPC errors.
    let (mut ws, _) = tokio_tungstenite::connect_async(net.ws_url.as_str())
        .await
        .unwrap();
    use futures_util::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::text(
        json!({"jsonrpc": "2.0", "id": 1, "method": "accountUnsubscribe", "params": [999_999]})
            .to_string(),
    ))
    .await
    .unwrap();
    let reply: Value = match within(ws.next()).await.unwrap().unwrap().unwrap() {
        tokio_tungstenite::tungstenite::Message::Text(t) => serde_json::from_str(&t).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(reply["error"]["message"], "Invalid subscription id.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixtures_load_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let key = Pubkey::new_unique();
    let owner = Pubkey::new_unique();
    let file = dir.path().join("fixture.json");
    std::fs::write(
        &file,
        json!({"pubkey": key.to_string(), "account": {"lamports": 4242, "data": [b64(b"hello"), "base64"],
            "owner": owner.to_string(), "executable": false, "rentEpoch": 0, "space": 5}})
        .to_string(),
    )
    .unwrap();
    let mut fixtures = concord_localnet::fixtures::Fixtures::default();
    let loaded = fixtures.add_account_dir(dir.path()).unwrap();
    assert_eq!(loaded, vec![key]);
    let elsewhere = Pubkey::new_unique();
    fixtures.add_account_file(Some(elsewhere), &file).unwrap();
    let not_elf = dir.path().join("program.so");
    std::fs::write(&not_elf, b"not an elf").unwrap();
    let err = fixtures
        .add_bpf_program(Pubkey::new_unique(), &not_elf)
        .unwrap_err();
    assert!(err.to_string().contains("not an SBF program"), "{err}");
    let (net, _d) = start_with(LocalnetConfig {
        fixtures,
        ..Default::default()
    })
    .await;
    let rpc = RpcClient::new(net.url.clone());
    for k in [key, elsewhere] {
        let a = rpc.get_account(&k).await.unwrap();
        assert_eq!(
            (a.lamports, a.owner, a.data.as_slice()),
            (4242, owner, &b"hello"[..])
        );
    }
}
