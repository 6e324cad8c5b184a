//! A whole Concord job, end to end, in the real Solana runtime (solana-program-test with the
//! native program and the real SPL Token program): market, five staked GPU nodes, a buyer's job
//! with N = 3 and Q = 2, the stake-weighted draw of its committee, commit-reveal with one
//! dishonest seat, settlement by quorum in the last reveal, withdrawals.
//! Every balance printed is read back from the chain, and the conservation invariant is checked
//! after every transaction.
//!
//! Run: `cargo run -p concord --example lifecycle`
#![allow(deprecated)] // solana-program-test 3.x flags its API "unstable" through deprecation

#[allow(dead_code)]
#[path = "../tests/program/harness.rs"]
mod harness;

use concord::state::JobState;
use harness::*;

fn tokens(amount: u64) -> String {
    format!("{}.{:06}", amount / UNIT, amount % UNIT)
}

#[tokio::main]
async fn main() {
    let mut env = Env::new().await;
    let p = default_params();
    println!("Concord lifecycle: the on-chain program in the real Solana runtime\n");
    println!("market   {}", env.market);
    println!(
        "  mint {} (SPL Token, 6 decimals), vault {}",
        env.mint, env.vault
    );
    println!(
        "  fee {} bps, min stake {}, collateral/seat max({}, {} % of the reward), windows execution {}s / reveal {}s, draw horizon {} slots",
        p.fee_bps,
        tokens(p.min_stake),
        tokens(p.min_collateral),
        p.collateral_bps / 100,
        p.execution_window,
        p.reveal_window,
        p.draw_horizon_slots
    );

    let buyer = env.user(1_000 * UNIT).await;
    let ops = env.operators(5, 200 * UNIT).await;
    let name = |node: &anchor_lang::prelude::Pubkey| {
        ops.iter()
            .position(|o| o.node == *node)
            .map(|i| format!("node {i}"))
            .unwrap_or_default()
    };
    for (i, op) in ops.iter().enumerate() {
        println!("node {i}   {} staked {}", op.node, tokens(200 * UNIT));
    }

    let reward = 10 * UNIT;
    let job = env.create_job(&buyer, job_args(3, 2, reward)).await;
    let j = env.job(job).await;
    println!(
        "\njob #{}  {} kernel=matmul_f32 N=3 Q=2 reward {} each, fee {}, escrow {}",
        j.job_id,
        job,
        tokens(reward),
        tokens(j.fee),
        tokens(j.escrow)
    );
    // The draw: seeded by the hash of the job's slot, which nobody knew at creation.
    env.warp(1).await;
    let preview = env.preview(job).await;
    let seats: Vec<String> = preview.seats.iter().map(name).collect();
    let backups: Vec<String> = preview.backups.iter().map(name).collect();
    println!(
        "  draw (seed {}…): seats {}, backups {}",
        hex(&preview.seed[..4]),
        seats.join(", "),
        backups.join(", ")
    );

    let honest = digest(0x11);
    let wrong = digest(0xee);
    for (i, node) in preview.seats.iter().enumerate() {
        let d = if i == 2 { wrong } else { honest };
        env.commit(*node, job, d).await.expect("commit");
        println!(
            "  {} commits sha256(domain|job|node|digest|salt){}",
            name(node),
            if i == 0 {
                " and draws the job (locking each seat's collateral)"
            } else {
                ""
            }
        );
    }
    println!("  state: {:?}", env.job(job).await.state);
    for (i, node) in preview.seats.iter().enumerate() {
        let d = if i == 2 { wrong } else { honest };
        env.reveal(*node, job, d).await.expect("reveal");
        println!("  {} reveals digest {}…", name(node), hex(&d[..4]));
    }
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    println!(
        "  the last reveal settled the job: {:?}, accepted digest {}…",
        j.state,
        hex(&j.accepted_digest.unwrap()[..4])
    );

    println!(
        "\n{:<8} {:>12} {:>12} {:>8}  outcome",
        "node", "stake", "earnings", "agreed"
    );
    for (i, op) in ops.iter().enumerate() {
        let n = env.node(op.node).await;
        let outcome = j
            .seats
            .iter()
            .find(|s| s.node == op.node)
            .map(|s| format!("{:?}", s.status))
            .unwrap_or_else(|| "not drawn".into());
        println!(
            "{:<8} {:>12} {:>12} {:>8}  {outcome}",
            format!("node {i}"),
            tokens(n.stake),
            tokens(n.earnings),
            n.agreed,
        );
    }
    let m = env.market_state().await;
    println!(
        "\nbuyer paid {} (2 rewards + fee; the dissenter's reward refunded)",
        tokens(1_000 * UNIT - env.balance(buyer.token).await)
    );
    println!(
        "treasury  {} (fee + slashed collateral)",
        tokens(m.treasury)
    );

    for node in &preview.seats[..2] {
        let op = ops.iter().find(|o| o.node == *node).expect("an operator");
        let ix = env.withdraw_earnings_ix(op, op.user.token, reward);
        env.send(&[ix], &[&op.user.kp])
            .await
            .expect("withdraw earnings");
    }
    let ix = env.close_ix(&buyer, job);
    env.send(&[ix], &[&buyer.kp]).await.expect("close job");
    println!(
        "honest nodes withdrew their earnings; the buyer closed the job and got its rent back"
    );

    let vault = env.balance(env.vault).await;
    let m = env.market_state().await;
    println!(
        "\nconservation: vault {} = stake {} + earnings {} + escrow {} + treasury {}  ✓",
        tokens(vault),
        tokens(m.total_stake),
        tokens(m.total_earnings),
        tokens(m.total_escrow),
        tokens(m.treasury)
    );
    println!(
        "{} transactions, invariant checked after each",
        env.tx_count
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
