//! Market administration: parameter bounds, updates that never touch running jobs, pause,
//! treasury, mint extensions; buyer cancel/close and undeliverable refunds.

use crate::harness::*;
use anchor_lang::prelude::Pubkey;
use anchor_spl::token::spl_token;
use anchor_spl::token_2022::spl_token_2022;
use concord::errors::ConcordError as E;
use concord::state::JobState;
use solana_sdk::signature::{Keypair, Signer};

const REWARD: u64 = 10 * UNIT;

#[tokio::test]
async fn market_parameters_are_bounded() {
    let mut env = Env::bare(anchor_spl::token::ID).await;
    env.create_mint_plain().await;
    let p = default_params();
    let cases: Vec<(concord::MarketParams, E)> = vec![
        (
            concord::MarketParams {
                fee_bps: 1_001,
                ..p
            },
            E::FeeTooHigh,
        ),
        (
            concord::MarketParams {
                max_replication: 0,
                ..p
            },
            E::InvalidMaxReplication,
        ),
        (
            concord::MarketParams {
                max_replication: 8,
                ..p
            },
            E::InvalidMaxReplication,
        ),
        (
            concord::MarketParams {
                collateral_per_slot: 0,
                ..p
            },
            E::InvalidCollateral,
        ),
        (
            concord::MarketParams {
                collateral_per_slot: p.min_stake + 1,
                ..p
            },
            E::InvalidCollateral,
        ),
        (
            concord::MarketParams {
                claim_window: 0,
                ..p
            },
            E::InvalidWindow,
        ),
        (
            concord::MarketParams {
                execution_window: -5,
                ..p
            },
            E::InvalidWindow,
        ),
        (
            concord::MarketParams {
                reveal_window: 31 * 86_400,
                ..p
            },
            E::InvalidWindow,
        ),
        (
            concord::MarketParams {
                unbonding_period: i64::MAX,
                ..p
            },
            E::InvalidWindow,
        ),
    ];
    let authority = env.authority.insecure_clone();
    for (params, err) in &cases {
        let ix = env.create_market_ix(*params);
        env.send_expect(&[ix], &[&authority], anchor_code(*err))
            .await;
    }
    // The bounds themselves are accepted.
    let edge = concord::MarketParams {
        fee_bps: 1_000,
        max_replication: 7,
        collateral_per_slot: p.min_stake,
        claim_window: concord::constants::MIN_WINDOW_SECS,
        execution_window: concord::constants::MAX_WINDOW_SECS,
        ..p
    };
    env.create_market_with(edge).await.unwrap();
    let market = env.market_state().await;
    assert_eq!(market.params, edge);
    assert_eq!(
        (market.mint, market.vault, market.next_job_id),
        (env.mint, env.vault, 0)
    );

    // update_market applies the same bounds.
    for (params, err) in &cases {
        let ix = env.update_market_ix(&authority.pubkey(), *params);
        env.send_expect(&[ix], &[&authority], anchor_code(*err))
            .await;
    }
}

#[tokio::test]
async fn market_updates_never_change_a_running_job() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let ops = [
        env.operator(300 * UNIT, 0).await,
        env.operator(300 * UNIT, 0).await,
    ];
    let job = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    let old = default_params();
    let new = concord::MarketParams {
        fee_bps: 1_000,
        collateral_per_slot: 50 * UNIT,
        execution_window: 60,
        reveal_window: 60,
        claim_window: 60,
        ..old
    };
    let a = env.authority.insecure_clone();
    let ix = env.update_market_ix(&a.pubkey(), new);
    env.send(&[ix], &[&a]).await.unwrap();
    assert_eq!(env.market_state().await.params, new);

    for op in &ops {
        env.claim(op, job).await.unwrap();
    }
    assert_eq!(
        env.node(ops[0].node).await.locked_collateral,
        old.collateral_per_slot
    );
    // The job's execution window is the old 900 s, not the new 60 s.
    env.advance(120).await;
    for op in &ops {
        env.commit(op, job, digest(9)).await.unwrap();
    }
    env.advance(120).await;
    for op in &ops {
        env.reveal(op, job, digest(9)).await.unwrap();
    }
    env.settle(job).await.unwrap();
    let old_fee = (2 * REWARD * u64::from(old.fee_bps)).div_ceil(10_000);
    assert_eq!(env.job(job).await.fee, old_fee);
    assert_eq!(env.market_state().await.treasury, old_fee);
    // New jobs use the new values.
    let next = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    let j = env.job(next).await;
    assert_eq!(
        (j.fee, j.collateral_per_slot, j.execution_window),
        (2 * REWARD / 10, 50 * UNIT, 60)
    );
}

#[tokio::test]
async fn pause_stops_entries_but_never_exits() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let ops = [
        env.operator(200 * UNIT, 0).await,
        env.operator(200 * UNIT, 0).await,
    ];
    let running = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    let open = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    env.claim(&ops[0], running).await.unwrap();
    let earned = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    env.claim(&ops[1], earned).await.unwrap();
    env.commit(&ops[1], earned, digest(1)).await.unwrap();
    env.reveal(&ops[1], earned, digest(1)).await.unwrap();

    env.set_paused(true).await;
    assert!(env.market_state().await.paused);
    let paused = anchor_code(E::MarketPaused);
    // Entries are refused.
    let next = env.next_job().await;
    let ix = env.create_job_ix(&buyer, next, job_args(1, 1, REWARD));
    env.send_expect(&[ix], &[&buyer.kp], paused).await;
    let ix = env.claim_ix(&ops[1].key(), ops[1].node, open);
    env.send_expect(&[ix], &[&ops[1].user.kp], paused).await;
    let newcomer = env.user(200 * UNIT).await;
    let ix = env.register_ix(&newcomer.key(), newcomer.token, gpu_spec(), 100 * UNIT);
    env.send_expect(&[ix], &[&newcomer.kp], paused).await;

    // Exits all work: commit, reveal, settle, cancel, close, withdrawals.
    env.commit(&ops[0], running, digest(2)).await.unwrap();
    env.reveal(&ops[0], running, digest(2)).await.unwrap();
    env.settle(running).await.unwrap();
    env.settle(earned).await.unwrap();
    assert_eq!(env.job(running).await.state, JobState::Settled);
    let ix = env.cancel_ix(&buyer, open);
    env.send(&[ix], &[&buyer.kp]).await.unwrap();
    let ix = env.close_ix(&buyer, running);
    env.send(&[ix], &[&buyer.kp]).await.unwrap();
    let ix = env.withdraw_earnings_ix(&ops[0], ops[0].user.token, REWARD);
    env.send(&[ix], &[&ops[0].user.kp]).await.unwrap();
    let ix = env.unbond_ix(&ops[0]);
    env.send(&[ix], &[&ops[0].user.kp]).await.unwrap();
    env.advance(default_params().unbonding_period).await;
    let ix = env.withdraw_stake_ix(&ops[0], ops[0].user.token, 200 * UNIT);
    env.send(&[ix], &[&ops[0].user.kp]).await.unwrap();
    let a = env.authority.insecure_clone();
    let dest = env.token_account(env.mint, &a.pubkey(), 0).await;
    let treasury = env.market_state().await.treasury;
    let ix = env.withdraw_treasury_ix(&a.pubkey(), dest, treasury);
    env.send(&[ix], &[&a]).await.unwrap();

    env.set_paused(false).await;
    let next = env.next_job().await;
    let ix = env.create_job_ix(&buyer, next, job_args(1, 1, REWARD));
    env.jobs.push(next);
    env.send(&[ix], &[&buyer.kp]).await.unwrap();
}

#[tokio::test]
async fn treasury_withdrawal() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let op = env.operator(200 * UNIT, 0).await;
    let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    env.claim(&op, job).await.unwrap();
    env.commit(&op, job, digest(1)).await.unwrap();
    env.reveal(&op, job, digest(1)).await.unwrap();
    env.settle(job).await.unwrap();
    let treasury = env.market_state().await.treasury;
    assert_eq!(treasury, (REWARD * 250).div_ceil(10_000));

    let a = env.authority.insecure_clone();
    let dest = env
        .token_account(env.mint, &Keypair::new().pubkey(), 0)
        .await;
    let ix = env.withdraw_treasury_ix(&a.pubkey(), dest, treasury + 1);
    env.send_expect(&[ix], &[&a], anchor_code(E::InsufficientTreasury))
        .await;
    let ix = env.withdraw_treasury_ix(&a.pubkey(), dest, 0);
    env.send_expect(&[ix], &[&a], anchor_code(E::ZeroAmount))
        .await;
    let ix = env.withdraw_treasury_ix(&a.pubkey(), dest, treasury);
    env.send(&[ix], &[&a]).await.unwrap();
    assert_eq!(env.balance(dest).await, treasury);
    assert_eq!(env.market_state().await.treasury, 0);
}

async fn market_over_token_2022_mint(
    extensions: &[ExtInit],
) -> (Env, Result<(), solana_sdk::transaction::TransactionError>) {
    let mut env = Env::bare(spl_token_2022::ID).await;
    let mint = Keypair::new();
    env.create_mint(&mint, extensions).await.expect("mint");
    env.mint = mint.pubkey();
    let res = env.create_market_with(default_params()).await;
    (env, res)
}

#[tokio::test]
async fn token_2022_mints_with_accounting_breaking_extensions_are_rejected() {
    for ext in [
        ExtInit::TransferFee,
        ExtInit::PermanentDelegate,
        ExtInit::NonTransferable,
        // closable at supply 0, then re-creatable at the same address with a permanent delegate
        ExtInit::MintClose,
    ] {
        let (mut env, res) = market_over_token_2022_mint(&[ext]).await;
        let err = res.expect_err("must be rejected");
        assert_eq!(
            custom_code(&err),
            Some(anchor_code(E::UnsupportedMintExtension)),
            "{err:?}"
        );
        assert!(env.account(env.market).await.is_none());
        assert!(env.account(env.vault).await.is_none());
    }
    // A harmless extension is fine, and the market works end to end.
    let (mut env, res) = market_over_token_2022_mint(&[ExtInit::MetadataPointer]).await;
    res.unwrap();
    let buyer = env.user(100 * UNIT).await;
    let op = env.operator(200 * UNIT, 0).await;
    let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    env.claim(&op, job).await.unwrap();
    env.commit(&op, job, digest(1)).await.unwrap();
    env.reveal(&op, job, digest(1)).await.unwrap();
    env.settle(job).await.unwrap();
    assert_eq!(env.node(op.node).await.earnings, REWARD);
}

#[tokio::test]
async fn market_creation_survives_a_pre_funded_vault_address() {
    // Anyone can send lamports to the vault PDA's address before the market exists: less than
    // the rent minimum, and more than it.
    for lamports in [890_880u64, 5_000_000] {
        let mut env = Env::bare(spl_token::ID).await;
        env.create_mint_plain().await;
        let vault = env.vault;
        env.airdrop(&vault, lamports).await;
        env.create_market_with(default_params())
            .await
            .expect("a pre-funded vault address must not block create_market");
        let account = env.account(vault).await.unwrap();
        assert_eq!(account.owner, spl_token::ID);
        assert!(account.lamports >= lamports);
        assert_eq!(env.balance(vault).await, 0);
        // The market works: a node stakes into the vault.
        let op = env.operator(200 * UNIT, 0).await;
        assert_eq!(env.balance(vault).await, 200 * UNIT);
        assert_eq!(env.node(op.node).await.stake, 200 * UNIT);
    }
}

#[tokio::test]
async fn cancel_and_close() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let op = env.operator(200 * UNIT, 0).await;
    let job = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    let rent = env.account(job).await.unwrap().lamports;
    assert_eq!(
        env.account(job).await.unwrap().data.len(),
        concord::state::Job::size(2)
    );

    // Closing a non-terminal job is refused.
    let close = env.close_ix(&buyer, job);
    env.send_expect(
        &[close.clone()],
        &[&buyer.kp],
        anchor_code(E::JobNotTerminal),
    )
    .await;
    // Cancel works only without claims.
    let claimed = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    env.claim(&op, claimed).await.unwrap();
    let ix = env.cancel_ix(&buyer, claimed);
    env.send_expect(&[ix], &[&buyer.kp], anchor_code(E::JobHasClaims))
        .await;

    let before = env.balance(buyer.token).await;
    let ix = env.cancel_ix(&buyer, job);
    env.send(&[ix.clone()], &[&buyer.kp]).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Cancelled);
    assert_eq!(env.balance(buyer.token).await, before + 2 * REWARD + j.fee);
    // Cancelling again is refused.
    env.send_expect(&[ix], &[&buyer.kp], anchor_code(E::InvalidJobState))
        .await;
    let lamports = env.account(buyer.key()).await.unwrap().lamports;
    env.send(&[close], &[&buyer.kp]).await.unwrap();
    assert_eq!(
        env.account(buyer.key()).await.unwrap().lamports,
        lamports + rent
    );
}

/// A buyer who closes (or loses) the refund account cannot block settlement: workers are still
/// paid and slashed, and the refund waits in the job for `close_job`.
#[tokio::test]
async fn undeliverable_refund_waits_for_close() {
    let mut env = Env::new().await;
    let escrow = 3 * REWARD + (3 * REWARD * 250).div_ceil(10_000);
    let buyer = env.user(escrow).await; // spends everything, so the account can be closed
    let ops = [
        env.operator(200 * UNIT, 0).await,
        env.operator(200 * UNIT, 0).await,
        env.operator(200 * UNIT, 0).await,
    ];
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    for op in &ops {
        env.claim(op, job).await.unwrap();
        env.commit(op, job, digest(1)).await.unwrap();
    }
    env.reveal(&ops[0], job, digest(1)).await.unwrap();
    env.reveal(&ops[1], job, digest(1)).await.unwrap();
    let close_token = spl_token_2022::instruction::close_account(
        &env.token_program,
        &buyer.token,
        &buyer.key(),
        &buyer.key(),
        &[],
    )
    .unwrap();
    env.send(&[close_token], &[&buyer.kp]).await.unwrap();
    env.token_accounts.retain(|t| *t != buyer.token);
    env.pending_refund_ok.push(job);
    env.advance(default_params().reveal_window).await;

    // The refund account is checked against the job's record.
    let wrong = env.settle_ix_with(
        job,
        Pubkey::new_unique(),
        &ops.iter().map(|o| o.node).collect::<Vec<_>>(),
    );
    env.send_expect(&[wrong], &[], anchor_code(E::WrongRefundAccount))
        .await;
    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    assert_eq!(j.escrow, REWARD, "the third reward is owed to the buyer");
    assert_eq!(env.node(ops[0].node).await.earnings, REWARD);

    let fresh = env.token_account(env.mint, &buyer.key(), 0).await;
    let buyer2 = User {
        kp: buyer.kp.insecure_clone(),
        token: fresh,
    };
    let ix = env.close_ix(&buyer2, job);
    env.send(&[ix], &[&buyer.kp]).await.unwrap();
    assert_eq!(env.balance(fresh).await, REWARD);
    assert!(env.account(job).await.is_none());
}

/// A Token-2022 buyer who turns on "require incoming transfer memos" for the refund account after
/// posting the job cannot make settlement fail: the refund waits for `close_job`.
#[tokio::test]
async fn refund_account_demanding_memos_cannot_block_settlement() {
    let mut env = Env::with(spl_token_2022::ID, default_params()).await;
    let buyer = env.user(1_000 * UNIT).await;
    let op = env.operator(200 * UNIT, 0).await;
    let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    let realloc = spl_token_2022::instruction::reallocate(
        &env.token_program,
        &buyer.token,
        &buyer.key(),
        &buyer.key(),
        &[],
        &[spl_token_2022::extension::ExtensionType::MemoTransfer],
    )
    .unwrap();
    let memos =
        spl_token_2022::extension::memo_transfer::instruction::enable_required_transfer_memos(
            &env.token_program,
            &buyer.token,
            &buyer.key(),
            &[],
        )
        .unwrap();
    env.send(&[realloc, memos], &[&buyer.kp]).await.unwrap();
    env.pending_refund_ok.push(job);

    env.claim(&op, job).await.unwrap();
    env.commit(&op, job, digest(1)).await.unwrap();
    env.reveal(&op, job, digest(4)).await.unwrap_err(); // wrong digest: refused
    env.advance(default_params().execution_window + default_params().reveal_window)
        .await;
    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Failed);
    assert_eq!(
        j.escrow,
        REWARD + j.fee,
        "the whole escrow waits for the buyer"
    );

    // close_job refuses the memo-demanding account by name, and pays into another one.
    let ix = env.close_ix(&buyer, job);
    env.send_expect(&[ix], &[&buyer.kp], anchor_code(E::RefundAccountUnusable))
        .await;
    let fresh = env.token_account(env.mint, &buyer.key(), 0).await;
    let other = User {
        kp: buyer.kp.insecure_clone(),
        token: fresh,
    };
    let ix = env.close_ix(&other, job);
    env.send(&[ix], &[&buyer.kp]).await.unwrap();
    assert_eq!(env.balance(fresh).await, REWARD + j.fee);
}
