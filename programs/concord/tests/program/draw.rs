//! The draw: computed off-chain exactly as on chain, seeded by the creation slot's hash, steered
//! by nobody (not the accounts a cranker passes, not a node that was not drawn), and skipping
//! ineligible nodes with their reason.

use crate::harness::*;
use anchor_lang::prelude::Pubkey;
use concord::draw::Skip;
use concord::errors::ConcordError as E;
use concord::state::JobState;
use solana_sdk::instruction::AccountMeta;
use solana_sdk::signature::Signer;

const REWARD: u64 = 10 * UNIT;

#[tokio::test]
async fn the_client_computes_the_same_draw_as_the_program() {
    let mut env = Env::new().await;
    let buyer = env.user(10_000 * UNIT).await;
    // 24 nodes of uneven stake. Every round's seat holders are slashed as no-shows, 20 UNIT a
    // job at most: with at least 1,000 UNIT staked, no node can fall below the 100 UNIT minimum
    // in 30 rounds, so every draw is staffed whatever the (random) node keys. (With 100–322
    // UNIT, the pool ran dry around round 26 and a 7-seat draw failed now and then.)
    for i in 0..24u64 {
        env.operator((1_000 + 370 * (i % 7)) * UNIT, 0).await;
    }
    env.next_epoch().await;
    let mut seen = std::collections::BTreeSet::new();
    for round in 0..30u64 {
        let n = [1, 3, 5, 7][round as usize % 4];
        let job = env.create_job(&buyer, job_args(n, n / 2 + 1, REWARD)).await;
        env.warp(1 + round % 3).await;
        let preview = env.preview(job).await;
        assert!(
            preview.is_staffed(n),
            "round {round}: the pool can no longer staff N={n}: {preview:?}"
        );
        let ix = env.draw_ix(job).await;
        env.send(&[ix], &[]).await.expect("draw_job");
        let j = env.job(job).await;
        let seats: Vec<Pubkey> = j.seats.iter().map(|s| s.node).collect();
        assert_eq!(seats, preview.seats, "round {round}: seats");
        assert_eq!(j.backups, preview.backups, "round {round}: backups");
        assert_eq!(j.seed, preview.seed, "round {round}: seed");
        // The seed is sha256("concord-draw-v2" ‖ hash of the creation slot ‖ job).
        let hashes = env.slot_hashes().await;
        let h = concord::draw::slot_hash(&hashes, j.created_slot).unwrap();
        assert_eq!(j.seed, concord::draw::seed(&h, &job));
        seen.extend(seats);
        // Release the seats (the job fails at its commit deadline) so stakes stay free.
        env.advance(default_params().execution_window).await;
        env.settle(job).await.unwrap();
        env.advance(default_params().reveal_window).await;
        if env.slot().await / HORIZON != (env.slot().await + 4) / HORIZON {
            env.next_epoch().await;
        }
    }
    assert!(
        seen.len() > 15,
        "draws spread over the pool: {} nodes seen",
        seen.len()
    );
}

#[tokio::test]
async fn a_cranker_cannot_pass_accounts_that_change_the_draw() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let ops = env.operators(6, 200 * UNIT).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    env.warp(1).await;
    let valid = env.draw_ix(job).await;
    let seats: Vec<Pubkey> = valid.accounts[8..].iter().map(|m| m.pubkey).collect();
    let outsider = ops
        .iter()
        .map(|o| o.node)
        .find(|n| !seats.contains(n))
        .unwrap();
    let with = |accounts: Vec<Pubkey>| {
        let mut ix = valid.clone();
        ix.accounts.truncate(8);
        ix.accounts
            .extend(accounts.into_iter().map(|k| AccountMeta::new(k, false)));
        ix
    };
    let mismatch = anchor_code(E::NodeAccountsMismatch);
    let cases = [
        (
            "another node in a seat",
            with(vec![seats[0], seats[1], outsider]),
        ),
        ("seats reordered", with(vec![seats[1], seats[0], seats[2]])),
        ("a seat left out", with(vec![seats[0], seats[1]])),
        (
            "an extra node",
            with(vec![seats[0], seats[1], seats[2], outsider]),
        ),
        ("no accounts", with(vec![])),
    ];
    for (what, ix) in cases {
        let before = env.snapshot().await;
        let err = env.send(&[ix], &[]).await.expect_err(what);
        assert_eq!(custom_code(&err), Some(mismatch), "{what}: {err:?}");
        assert_eq!(before, env.snapshot().await, "{what}: state changed");
    }
    // A read-only seat account is refused too.
    let mut ro = valid.clone();
    ro.accounts[8].is_writable = false;
    env.send_expect(&[ro], &[], mismatch).await;
    env.send(&[valid], &[]).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Assigned);
}

#[tokio::test]
async fn only_drawn_nodes_hold_seats() {
    // v1's Sybil capture: an operator with several identities no longer claims; a node the
    // draw did not pick cannot commit, whoever sends the transaction.
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let ops = env.operators(5, 200 * UNIT).await;
    let job = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    let seats = env.draw(job).await;
    for op in ops.iter().filter(|o| !seats.contains(&o.node)) {
        let err = env.commit(op.node, job, digest(9)).await.unwrap_err();
        assert_eq!(custom_code(&err), Some(anchor_code(E::SeatNotFound)));
    }
    // The buyer's own node cannot put itself on the job either.
    let own = env.operator(200 * UNIT, 0).await;
    let err = env.commit(own.node, job, digest(9)).await.unwrap_err();
    assert_eq!(custom_code(&err), Some(anchor_code(E::SeatNotFound)));
}

#[tokio::test]
async fn ineligible_picks_are_skipped_with_their_reason() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let ops = env.operators(8, 200 * UNIT).await;
    let price = concord::pricing::price(REWARD, 2 * 64 * 64 * 64);
    // Ask above the job's price.
    let kp = env.signer_of(&ops[0].node);
    let ix = env.set_ask_ix(&kp.pubkey(), price + 1);
    env.send(&[ix], &[&kp]).await.unwrap();
    // Hardware below the requirements (changed now, before the job exists).
    let mut weak = gpu_spec();
    weak.vram_mib = 4_096;
    let ix = env.update_node_ix(&ops[1], weak);
    env.send(&[ix], &[&ops[1].user.kp]).await.unwrap();
    // Out of the pool.
    env.set_available(ops[2].node, false).await;
    // (a change in the job's own slot would count as made after it: see the next test)
    env.warp(1).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    env.warp(1).await;
    let p = env.preview(job).await;
    for (node, reason) in &p.skipped {
        let expected = if *node == ops[0].node {
            Skip::Ask
        } else if *node == ops[1].node {
            Skip::Hardware
        } else if *node == ops[2].node {
            Skip::Left
        } else {
            panic!("{node} skipped for {reason:?}")
        };
        assert_eq!(*reason, expected);
    }
    env.draw(job).await;
    let j = env.job(job).await;
    let ineligible = [ops[0].node, ops[1].node, ops[2].node];
    for s in j
        .seats
        .iter()
        .map(|s| s.node)
        .chain(j.backups.iter().copied())
    {
        assert!(!ineligible.contains(&s), "an ineligible node was drawn");
    }
    assert_eq!(
        j.seats.len() + j.backups.len(),
        5,
        "every eligible node was drawn"
    );
}

#[tokio::test]
async fn changes_after_a_job_exists_do_not_steer_its_draw() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let mut ops = vec![];
    for _ in 0..7 {
        ops.push(env.operator(200 * UNIT, 1_000 * UNIT).await);
    }
    env.next_epoch().await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    env.warp(1).await;
    let before = env.preview(job).await;
    // Every operator now knows the seed. A node that was not picked stakes much more; a picked
    // one leaves and rejoins. Neither moves the others' picks: the snapshot of the job's epoch
    // fixed the weights, and a node changed after the job's slot is skipped.
    let outsider = ops
        .iter()
        .find(|o| !before.seats.contains(&o.node) && !before.backups.contains(&o.node))
        .map(|o| o.node);
    if let Some(node) = outsider {
        let op = ops.iter().find(|o| o.node == node).unwrap();
        let ix = env.deposit_ix(op, 1_000 * UNIT);
        env.send(&[ix], &[&op.user.kp]).await.unwrap();
    }
    let picked = before.seats[0];
    env.set_available(picked, false).await;
    env.set_available(picked, true).await;
    let after = env.preview(job).await;
    // The picks are the same sequence: the changed node is skipped, the others move up one,
    // and the first backup takes the last seat.
    assert!(
        after.skipped.contains(&(picked, Skip::Left)),
        "{:?}",
        after.skipped
    );
    let mut expected = before.seats[1..].to_vec();
    expected.push(before.backups[0]);
    assert_eq!(after.seats, expected);
    assert_eq!(after.backups, before.backups[1..]);
}
