//! A whole Concord job, end to end, in the real Solana runtime (solana-program-test with the
//! native program and the real SPL Token program): market, three staked GPU nodes, a buyer's job
//! with N = 3 and Q = 2, commit-reveal with one dishonest node, settlement by quorum, withdrawals.
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
        "  fee {} bps, min stake {}, collateral/slot {}, windows claim {}s / execution {}s / reveal {}s",
        p.fee_bps,
        tokens(p.min_stake),
        tokens(p.collateral_per_slot),
        p.claim_window,
        p.execution_window,
        p.reveal_window
    );

    let buyer = env.user(1_000 * UNIT).await;
    let mut ops = vec![];
    for i in 0..3 {
        let op = env.operator(200 * UNIT, 0).await;
        println!("node {i}   {} staked {}", op.node, tokens(200 * UNIT));
        ops.push(op);
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
    for (i, op) in ops.iter().enumerate() {
        env.claim(op, job).await.expect("claim");
        println!(
            "  node {i} claims a slot (locks {})",
            tokens(p.collateral_per_slot)
        );
    }
    println!("  state: {:?}", env.job(job).await.state);

    let honest = digest(0x11);
    let wrong = digest(0xee);
    for (i, op) in ops.iter().enumerate() {
        let d = if i == 2 { wrong } else { honest };
        env.commit(op, job, d).await.expect("commit");
        println!("  node {i} commits sha256(domain|job|node|digest|salt)");
    }
    println!("  state: {:?}", env.job(job).await.state);
    for (i, op) in ops.iter().enumerate() {
        let d = if i == 2 { wrong } else { honest };
        env.reveal(op, job, d).await.expect("reveal");
        println!("  node {i} reveals digest {}…", hex(&d[..4]));
    }
    env.settle(job).await.expect("settle");
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    println!(
        "  settle_job (permissionless): {:?}, accepted digest {}…",
        j.state,
        hex(&j.accepted_digest.unwrap()[..4])
    );

    println!(
        "\n{:<8} {:>12} {:>12} {:>8}  outcome",
        "node", "stake", "earnings", "agreed"
    );
    for (i, op) in ops.iter().enumerate() {
        let n = env.node(op.node).await;
        println!(
            "{:<8} {:>12} {:>12} {:>8}  {:?}",
            format!("node {i}"),
            tokens(n.stake),
            tokens(n.earnings),
            n.agreed,
            j.slots[i].status
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

    for op in &ops[..2] {
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
