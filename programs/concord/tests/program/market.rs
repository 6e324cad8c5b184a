//! Market administration: parameter bounds, updates that never touch existing jobs, the fee a
//! buyer agreed to, pause, treasury and surplus, mint extensions, the pool account; buyer
//! cancel/close and undeliverable refunds.

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
    use concord::MarketParams as P;
    let cases: Vec<(P, E)> = vec![
        (
            P {
                fee_bps: 1_001,
                ..p
            },
            E::FeeTooHigh,
        ),
        (
            P {
                max_replication: 0,
                ..p
            },
            E::InvalidMaxReplication,
        ),
        (
            P {
                max_replication: 8,
                ..p
            },
            E::InvalidMaxReplication,
        ),
        (
            P {
                min_collateral: 0,
                ..p
            },
            E::InvalidCollateral,
        ),
        (
            P {
                min_collateral: p.min_stake + 1,
                ..p
            },
            E::InvalidCollateral,
        ),
        (
            P {
                collateral_bps: 50_001,
                ..p
            },
            E::InvalidCollateral,
        ),
        (
            P {
                execution_window: -5,
                ..p
            },
            E::InvalidWindow,
        ),
        (
            P {
                reveal_window: 31 * 86_400,
                ..p
            },
            E::InvalidWindow,
        ),
        (
            P {
                unbonding_period: i64::MAX,
                ..p
            },
            E::InvalidWindow,
        ),
        (
            P {
                draw_horizon_slots: 1,
                ..p
            },
            E::InvalidDrawHorizon,
        ),
        (
            P {
                draw_horizon_slots: 513,
                ..p
            },
            E::InvalidDrawHorizon,
        ),
        (
            P {
                max_reassignments: 4,
                ..p
            },
            E::InvalidReassignments,
        ),
    ];
    let authority = env.authority.insecure_clone();
    let pool = env.pool_kp.insecure_clone();
    let rent = env.pool_rent().await;
    for (params, err) in &cases {
        let ixs = env.create_market_ixs(*params, rent);
        env.send_expect(&ixs, &[&authority, &pool], anchor_code(*err))
            .await;
    }
    // A pool account of the wrong size is refused.
    let mut ixs = env.create_market_ixs(p, rent);
    ixs[0] = anchor_lang::solana_program::system_instruction::create_account(
        &authority.pubkey(),
        &env.pool,
        rent,
        1_000,
        &concord::ID,
    );
    assert!(env.send(&ixs, &[&authority, &pool]).await.is_err());
    // The bounds themselves are accepted.
    let edge = P {
        fee_bps: 1_000,
        max_replication: 7,
        min_collateral: p.min_stake,
        collateral_bps: 50_000,
        execution_window: concord::constants::MAX_WINDOW_SECS,
        reveal_window: concord::constants::MIN_WINDOW_SECS,
        draw_horizon_slots: HORIZON,
        max_reassignments: 3,
        ..p
    };
    env.create_market_with(edge).await.unwrap();
    let market = env.market_state().await;
    assert_eq!(market.params, edge);
    assert_eq!(
        (market.mint, market.vault, market.pool, market.next_job_id),
        (env.mint, env.vault, env.pool, 0)
    );
    let pool = env.pool_state().await;
    assert_eq!(
        (pool.market, pool.epoch_slots, pool.count),
        (env.market, HORIZON, 0)
    );

    // update_market applies the same bounds, and the horizon (the pool's epoch) is fixed.
    for (params, err) in &cases {
        let ix = env.update_market_ix(&authority.pubkey(), *params);
        env.send_expect(&[ix], &[&authority], anchor_code(*err))
            .await;
    }
    let ix = env.update_market_ix(
        &authority.pubkey(),
        P {
            draw_horizon_slots: 32,
            ..edge
        },
    );
    env.send_expect(&[ix], &[&authority], anchor_code(E::ImmutableParameter))
        .await;
}

#[tokio::test]
async fn market_updates_never_change_an_existing_job() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    env.operators(2, 300 * UNIT).await;
    let job = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    let old = default_params();
    let new = concord::MarketParams {
        fee_bps: 1_000,
        min_collateral: 50 * UNIT,
        execution_window: 60,
        reveal_window: 60,
        ..old
    };
    let a = env.authority.insecure_clone();
    let ix = env.update_market_ix(&a.pubkey(), new);
    env.send(&[ix], &[&a]).await.unwrap();
    assert_eq!(env.market_state().await.params, new);

    let seats = env.draw(job).await;
    assert_eq!(
        env.node(seats[0]).await.locked_collateral,
        old.collateral_for(REWARD).unwrap()
    );
    // The job's execution window is the old 900 s, not the new 60 s.
    env.advance(120).await;
    for n in &seats {
        env.commit(*n, job, digest(9)).await.unwrap();
    }
    env.advance(120).await;
    for n in &seats {
        env.reveal(*n, job, digest(9)).await.unwrap();
    }
    let old_fee = (2 * REWARD * u64::from(old.fee_bps)).div_ceil(10_000);
    assert_eq!(env.job(job).await.fee, old_fee);
    assert_eq!(env.market_state().await.treasury, old_fee);
    // New jobs use the new values, once the buyer agrees to the new fee.
    let mut args = job_args(2, 2, REWARD);
    args.fee_bps = new.fee_bps;
    let next = env.create_job(&buyer, args).await;
    let j = env.job(next).await;
    assert_eq!(
        (j.fee, j.collateral_per_seat, j.execution_window),
        (2 * REWARD / 10, 50 * UNIT, 60)
    );
}

#[tokio::test]
async fn a_fee_raised_before_create_job_lands_refuses_the_job() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    // The buyer signs at 250 bps; the authority raises the fee first.
    let a = env.authority.insecure_clone();
    let ix = env.update_market_ix(
        &a.pubkey(),
        concord::MarketParams {
            fee_bps: 1_000,
            ..default_params()
        },
    );
    env.send(&[ix], &[&a]).await.unwrap();
    let next = env.next_job().await;
    env.jobs.push(next);
    let ix = env.create_job_ix(&buyer, next, job_args(1, 1, REWARD));
    env.send_expect(&[ix], &[&buyer.kp], anchor_code(E::FeeChanged))
        .await;
    assert_eq!(env.balance(buyer.token).await, 1_000 * UNIT);
}

#[tokio::test]
async fn pause_stops_entries_and_draws_but_never_exits() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let ops = env.operators(2, 200 * UNIT).await;
    let running = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    let running_seat = env.draw(running).await[0];
    let open = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    let (_, earned_seats) = env
        .run_job(&buyer, job_args(1, 1, REWARD), &[digest(1)])
        .await;
    env.warp(1).await;

    env.set_paused(true).await;
    assert!(env.market_state().await.paused);
    let paused = anchor_code(E::MarketPaused);
    // Entries are refused: jobs, draws (by crank or by a first commit), registrations.
    let next = env.next_job().await;
    let ix = env.create_job_ix(&buyer, next, job_args(1, 1, REWARD));
    env.send_expect(&[ix], &[&buyer.kp], paused).await;
    let ix = env.draw_ix(open).await;
    env.send_expect(&[ix], &[], paused).await;
    let seat = env.preview(open).await.seats[0];
    let err = env.commit(seat, open, digest(1)).await.unwrap_err();
    assert_eq!(custom_code(&err), Some(paused));
    let newcomer = env.user(200 * UNIT).await;
    let ix = env.register_ix(&newcomer.key(), newcomer.token, gpu_spec(), 100 * UNIT);
    env.send_expect(&[ix], &[&newcomer.kp], paused).await;

    // Exits all work: commit, reveal (which settles), settle, expiry, close, withdrawals.
    env.commit(running_seat, running, digest(2)).await.unwrap();
    env.reveal(running_seat, running, digest(2)).await.unwrap();
    assert_eq!(env.job(running).await.state, JobState::Settled);
    env.warp(HORIZON).await;
    env.settle(open).await.unwrap();
    assert_eq!(
        env.job(open).await.state,
        JobState::Expired,
        "an undrawn job still expires"
    );
    let ix = env.close_ix(&buyer, running);
    env.send(&[ix], &[&buyer.kp]).await.unwrap();
    let earner = ops.iter().find(|o| o.node == earned_seats[0]).unwrap();
    let ix = env.withdraw_earnings_ix(earner, earner.user.token, REWARD);
    env.send(&[ix], &[&earner.user.kp]).await.unwrap();
    let ix = env.unbond_ix(earner);
    env.send(&[ix], &[&earner.user.kp]).await.unwrap();
    env.advance(default_params().unbonding_period).await;
    let ix = env.withdraw_stake_ix(earner, earner.user.token, 200 * UNIT);
    env.send(&[ix], &[&earner.user.kp]).await.unwrap();
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
async fn treasury_withdrawal_and_surplus_sweep() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    env.operators(1, 200 * UNIT).await;
    env.run_job(&buyer, job_args(1, 1, REWARD), &[digest(1)])
        .await;
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

    // Tokens sent to the vault from outside are surplus: only the authority sweeps them into
    // the treasury, and nothing else changes.
    let ix = env.sweep_ix(&a.pubkey());
    env.send_expect(&[ix.clone()], &[&a], anchor_code(E::NoSurplus))
        .await;
    let donor = env.user(7 * UNIT).await;
    let gift = spl_token_2022::instruction::transfer_checked(
        &env.token_program,
        &donor.token,
        &env.mint,
        &env.vault,
        &donor.key(),
        &[],
        7 * UNIT,
        DECIMALS,
    )
    .unwrap();
    env.surplus = 7 * UNIT;
    env.send(&[gift], &[&donor.kp]).await.unwrap();
    let stranger = Keypair::new();
    env.airdrop(&stranger.pubkey(), 1_000_000_000).await;
    let ix2 = env.sweep_ix(&stranger.pubkey());
    env.send_expect(&[ix2], &[&stranger], anchor_code(E::Unauthorized))
        .await;
    env.surplus = 0;
    env.send(&[ix.clone()], &[&a]).await.unwrap();
    assert_eq!(env.market_state().await.treasury, 7 * UNIT);
    env.send_expect(&[ix], &[&a], anchor_code(E::NoSurplus))
        .await;
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
    env.operators(1, 200 * UNIT).await;
    let (job, seats) = env
        .run_job(&buyer, job_args(1, 1, REWARD), &[digest(1)])
        .await;
    assert_eq!(env.job(job).await.state, JobState::Settled);
    assert_eq!(env.node(seats[0]).await.earnings, REWARD);
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
async fn cancel_only_in_the_creation_slot_and_close() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    env.operators(2, 200 * UNIT).await;
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
    // Once the creation slot has passed (its hash seeds the draw, so a buyer could re-roll the
    // committee by cancelling), cancel is refused.
    let late = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    let before = env.balance(buyer.token).await;
    let ix = env.cancel_ix(&buyer, job);
    env.send(&[ix.clone()], &[&buyer.kp]).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Cancelled);
    assert_eq!(env.balance(buyer.token).await, before + 2 * REWARD + j.fee);
    // Cancelling again is refused.
    env.send_expect(&[ix], &[&buyer.kp], anchor_code(E::InvalidJobState))
        .await;
    env.warp(1).await;
    let ix = env.cancel_ix(&buyer, late);
    env.send_expect(&[ix], &[&buyer.kp], anchor_code(E::CancelWindowClosed))
        .await;
    // Nor can anyone but the buyer cancel.
    let other = env.user(0).await;
    let fresh = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    let mut ix = env.cancel_ix(&other, fresh);
    ix.accounts[5].pubkey = other.token;
    env.send_expect(&[ix], &[&other.kp], anchor_code(E::Unauthorized))
        .await;
    let lamports = env.account(buyer.key()).await.unwrap().lamports;
    env.send(&[close], &[&buyer.kp]).await.unwrap();
    assert_eq!(
        env.account(buyer.key()).await.unwrap().lamports,
        lamports + rent
    );
}

/// A buyer who closes (or loses) the refund account cannot block settlement: workers are still
/// paid and slashed, and the refund waits in the job for `settle_job` or `close_job`.
#[tokio::test]
async fn undeliverable_refund_waits_for_close() {
    let mut env = Env::new().await;
    let escrow = 3 * REWARD + (3 * REWARD * 250).div_ceil(10_000);
    let buyer = env.user(escrow).await; // spends everything, so the account can be closed
    env.operators(3, 200 * UNIT).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    let seats = env.draw(job).await;
    for n in &seats {
        env.commit(*n, job, digest(1)).await.unwrap();
    }
    env.reveal(seats[0], job, digest(1)).await.unwrap();
    env.reveal(seats[1], job, digest(1)).await.unwrap();
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
    let mut wrong = env.settle_ix(job).await;
    wrong.accounts[5].pubkey = Pubkey::new_unique();
    env.send_expect(&[wrong], &[], anchor_code(E::WrongRefundAccount))
        .await;
    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    assert_eq!(j.escrow, REWARD, "the third reward is owed to the buyer");
    assert_eq!(env.node(seats[0]).await.earnings, REWARD);

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
/// posting the job cannot make settlement fail: the refund waits; once the buyer turns memos off
/// again, `settle_job` on the terminal job delivers it.
#[tokio::test]
async fn refund_account_demanding_memos_cannot_block_settlement() {
    let mut env = Env::with(spl_token_2022::ID, default_params()).await;
    let buyer = env.user(1_000 * UNIT).await;
    env.operators(1, 200 * UNIT).await;
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

    let seat = env.draw(job).await[0];
    env.commit(seat, job, digest(1)).await.unwrap();
    env.reveal(seat, job, digest(4)).await.unwrap_err(); // wrong digest: refused
    env.advance(default_params().reveal_window).await;
    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Failed);
    assert_eq!(
        j.escrow,
        REWARD + j.fee,
        "the whole escrow waits for the buyer"
    );

    // close_job refuses the memo-demanding account by name...
    let ix = env.close_ix(&buyer, job);
    env.send_expect(&[ix], &[&buyer.kp], anchor_code(E::RefundAccountUnusable))
        .await;
    // ...and settle_job delivers the pending refund once the account can receive it.
    let off =
        spl_token_2022::extension::memo_transfer::instruction::disable_required_transfer_memos(
            &env.token_program,
            &buyer.token,
            &buyer.key(),
            &[],
        )
        .unwrap();
    env.send(&[off], &[&buyer.kp]).await.unwrap();
    let before = env.balance(buyer.token).await;
    env.settle(job).await.unwrap();
    assert_eq!(env.balance(buyer.token).await, before + REWARD + j.fee);
    assert_eq!(env.job(job).await.escrow, 0);
    env.settle(job).await.unwrap(); // nothing left: idempotent
}
