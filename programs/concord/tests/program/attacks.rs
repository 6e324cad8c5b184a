//! Attacks. For every instruction: missing signer, wrong signer, account owned by the wrong
//! program, fake PDA, reused account, overflow and replay, each with the exact error expected and
//! (checked by `Env::send_expect`) no change to any tracked account or balance. Then the
//! protocol-specific attacks: copied commitments, wrong salts, early reveals, late commits,
//! tampered settle accounts, wrong mints, vaults and owners.

use crate::harness::*;
use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use concord::errors::ConcordError as E;
use concord::state::{commitment, JobState};
use concord_client::ix;
use solana_sdk::account::Account;
use solana_sdk::instruction::{Instruction, InstructionError};
use solana_sdk::signature::{Keypair, Signer};
use solana_sdk::transaction::{Transaction, TransactionError};

const REWARD: u64 = 10 * UNIT;

/// A market with one account in every state an instruction can need.
pub struct Fixture {
    pub env: Env,
    pub buyer: User,
    pub attacker: User,
    /// Registered, staked, available: the only node a draw can pick; holds no seat.
    pub idle: Operator,
    /// Holds an uncommitted seat of `assigned_job`.
    pub seated: Operator,
    /// Committed in `revealing_job` (N = 1, so the job is Revealing).
    pub revealer: Operator,
    /// Paid in `settled_job`: has earnings.
    pub earner: Operator,
    /// Unbonded, window elapsed, no seats: can withdraw stake.
    pub leaver: Operator,
    /// Not registered yet.
    pub newcomer: User,
    /// Created in the current slot: cancellable, not drawable yet.
    pub open_job: Pubkey,
    /// Created a slot earlier: drawable (its draw picks `idle`).
    pub drawable_job: Pubkey,
    pub assigned_job: Pubkey,
    pub revealing_job: Pubkey,
    pub settled_job: Pubkey,
    /// Authority's token account for treasury withdrawals.
    pub treasury_dest: Pubkey,
}

impl Fixture {
    pub async fn new() -> Self {
        let mut env = Env::new().await;
        let leaver = env.operator(200 * UNIT, 0).await;
        let ix = env.unbond_ix(&leaver);
        env.send(&[ix], &[&leaver.user.kp]).await.unwrap();
        env.advance(default_params().unbonding_period).await;

        let buyer = env.user(1_000 * UNIT).await;
        let attacker = env.user(1_000 * UNIT).await;
        let newcomer = env.user(300 * UNIT).await;

        // One node at a time in the pool, so each draw picks the node meant for the role; each
        // then leaves the pool (keeping its seat).
        let earner = env.operators(1, 200 * UNIT).await.remove(0);
        let (settled_job, _) = env
            .run_job(&buyer, job_args(1, 1, REWARD), &[digest(1)])
            .await;
        env.set_available(earner.node, false).await;

        let revealer = env.operators(1, 200 * UNIT).await.remove(0);
        let revealing_job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
        env.warp(1).await;
        env.commit(revealer.node, revealing_job, digest(2))
            .await
            .unwrap();
        env.set_available(revealer.node, false).await;

        let seated = env.operators(1, 200 * UNIT).await.remove(0);
        let assigned_job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
        env.draw(assigned_job).await;
        env.set_available(seated.node, false).await;

        let idle = env.operator(200 * UNIT, 100 * UNIT).await;
        env.next_epoch().await;
        let drawable_job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
        env.warp(1).await;
        let open_job = env.create_job(&buyer, job_args(2, 2, REWARD)).await;

        let a = env.authority.pubkey();
        let treasury_dest = env.token_account(env.mint, &a, 0).await;
        Fixture {
            env,
            buyer,
            attacker,
            idle,
            seated,
            revealer,
            earner,
            leaver,
            newcomer,
            open_job,
            drawable_job,
            assigned_job,
            revealing_job,
            settled_job,
            treasury_dest,
        }
    }

    /// Copies `src` to a fresh address, owned by `owner`: a look-alike account.
    pub async fn spoof(&mut self, src: Pubkey, owner: Pubkey) -> Pubkey {
        let acc = self.env.account(src).await.expect("source account");
        let fake = Pubkey::new_unique();
        self.env
            .ctx
            .set_account(&fake, &Account { owner, ..acc }.into());
        fake
    }
}

pub fn replace(ix: &Instruction, from: Pubkey, to: Pubkey) -> Instruction {
    let mut ix = ix.clone();
    let mut hit = false;
    for m in ix.accounts.iter_mut().filter(|m| m.pubkey == from) {
        m.pubkey = to;
        hit = true;
    }
    assert!(hit, "{from} is not an account of the instruction");
    ix
}

pub fn unsign(ix: &Instruction, key: Pubkey) -> Instruction {
    let mut ix = ix.clone();
    for m in ix.accounts.iter_mut().filter(|m| m.pubkey == key) {
        m.is_signer = false;
    }
    ix
}

fn fw(e: Anchor) -> u32 {
    e.into()
}

/// One instruction's attack table.
struct Case<'a> {
    valid: Instruction,
    signer: Option<&'a Keypair>,
    /// Every mutated instruction with its signers and expected error.
    attacks: Vec<(&'static str, Instruction, Vec<&'a Keypair>, u32)>,
    /// What the same instruction does when sent again in a fresh transaction.
    replay: Replay,
}

enum Replay {
    /// Refused with this custom error code.
    Refused(u32),
    /// The account it creates exists: the runtime refuses to create it again.
    AlreadyCreated,
    /// Succeeds and changes nothing.
    Idempotent,
}

async fn run(env: &mut Env, case: Case<'_>) {
    for (what, ix, signers, code) in &case.attacks {
        let before = env.snapshot().await;
        let err = env.send(&[ix.clone()], signers).await.expect_err(what);
        assert_eq!(custom_code(&err), Some(*code), "{what}: got {err:?}");
        assert_eq!(before, env.snapshot().await, "{what}: state changed");
    }
    // The untampered instruction works (the attacks were refused for the right reason)...
    let signers: Vec<&Keypair> = case.signer.into_iter().collect();
    let payer = env.ctx.payer.insecure_clone();
    let mut all = vec![&payer];
    all.extend(signers.iter().copied());
    let tx = Transaction::new_signed_with_payer(
        &[case.valid.clone()],
        Some(&payer.pubkey()),
        &all,
        env.ctx.last_blockhash,
    );
    env.send_tx(tx.clone()).await.expect("valid instruction");
    env.check_invariant().await;
    // ...the identical transaction is never executed twice (the bank's status cache answers with
    // the first result, or AlreadyProcessed)...
    let before = env.snapshot().await;
    match env.send_tx(tx).await {
        Ok(()) | Err(TransactionError::AlreadyProcessed) => {}
        Err(e) => panic!("replayed transaction: unexpected {e:?}"),
    }
    assert_eq!(
        before,
        env.snapshot().await,
        "a replayed transaction executed again"
    );
    // ...and sending the instruction again is refused or changes nothing.
    match case.replay {
        Replay::Refused(code) => env.send_expect(&[case.valid], &signers, code).await,
        Replay::AlreadyCreated => {
            let err = env
                .send(&[case.valid], &signers)
                .await
                .expect_err("re-creation");
            assert!(
                matches!(
                    err,
                    TransactionError::InstructionError(_, InstructionError::InvalidInstructionData)
                ),
                "{err:?}"
            );
            assert_eq!(before, env.snapshot().await);
        }
        Replay::Idempotent => {
            env.send(&[case.valid], &signers)
                .await
                .expect("idempotent replay");
            assert_eq!(
                before,
                env.snapshot().await,
                "idempotent replay changed state"
            );
        }
    }
}

const SYSTEM: Pubkey = anchor_lang::system_program::ID;

#[tokio::test]
async fn create_market_attacks() {
    let mut f = Fixture::new().await;
    // A second market of the same authority, with its pool account created beforehand.
    let first_pool = f.env.pool;
    f.env.market_id = 2;
    f.env.market = market_pda(&f.env.authority.pubkey(), 2);
    f.env.vault = vault_pda(&f.env.market);
    f.env.pool_kp = Keypair::new();
    f.env.pool = f.env.pool_kp.pubkey();
    f.env.nodes.clear();
    f.env.jobs.clear();
    let auth = f.env.authority.insecure_clone();
    let rent = f.env.pool_rent().await;
    let ixs = f.env.create_market_ixs(default_params(), rent);
    let pool_kp = f.env.pool_kp.insecure_clone();
    f.env.send(&ixs[..1], &[&auth, &pool_kp]).await.unwrap();
    let valid = ixs[1].clone();
    let fake_mint = f.spoof(f.env.mint, concord::ID).await;
    let system_pool = f.spoof(f.env.pool, SYSTEM).await;
    let mut overflow = default_params();
    overflow.unbonding_period = i64::MAX;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, auth.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        // The market PDA is derived from the authority: nobody can create one for someone else.
        (
            "wrong signer",
            replace(&valid, auth.pubkey(), f.attacker.key()),
            vec![&f.attacker.kp],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "mint owned by another program",
            replace(&valid, f.env.mint, fake_mint),
            vec![&auth],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "vault at a non-PDA address",
            replace(&valid, f.env.vault, Pubkey::new_unique()),
            vec![&auth],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "market at a non-PDA address",
            replace(&valid, f.env.market, Pubkey::new_unique()),
            vec![&auth],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "reused account: vault = market",
            replace(&valid, f.env.vault, f.env.market),
            vec![&auth],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "another market's pool",
            replace(&valid, f.env.pool, first_pool),
            vec![&auth],
            fw(Anchor::ConstraintZero),
        ),
        (
            "pool owned by the system program",
            replace(&valid, f.env.pool, system_pool),
            vec![&auth],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "overflowing window",
            ix::create_market(
                &auth.pubkey(),
                2,
                &f.env.mint,
                &f.env.token_program,
                &f.env.pool,
                overflow,
            ),
            vec![&auth],
            anchor_code(E::InvalidWindow),
        ),
    ];
    // Replay: the market already exists (system program: account already in use).
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&auth),
            attacks,
            replay: Replay::AlreadyCreated,
        },
    )
    .await;
}

#[tokio::test]
async fn update_market_attacks() {
    let mut f = Fixture::new().await;
    let auth = f.env.authority.insecure_clone();
    let params = concord::MarketParams {
        fee_bps: 500,
        ..default_params()
    };
    let valid = f.env.update_market_ix(&auth.pubkey(), params);
    let wrong_owner = f.spoof(f.env.market, SYSTEM).await;
    let fake_pda = f.spoof(f.env.market, concord::ID).await;
    let overflow = concord::MarketParams {
        min_stake: u64::MAX,
        min_collateral: u64::MAX,
        execution_window: i64::MAX,
        ..params
    };
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, auth.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        (
            "wrong signer",
            f.env.update_market_ix(&f.attacker.key(), params),
            vec![&f.attacker.kp],
            anchor_code(E::Unauthorized),
        ),
        (
            "market owned by another program",
            replace(&valid, f.env.market, wrong_owner),
            vec![&auth],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake market PDA",
            replace(&valid, f.env.market, fake_pda),
            vec![&auth],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "overflowing parameters",
            f.env.update_market_ix(&auth.pubkey(), overflow),
            vec![&auth],
            anchor_code(E::InvalidWindow),
        ),
    ];
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&auth),
            attacks,
            replay: Replay::Idempotent,
        },
    )
    .await;
    assert_eq!(f.env.market_state().await.params, params);
}

#[tokio::test]
async fn set_paused_attacks() {
    let mut f = Fixture::new().await;
    let auth = f.env.authority.insecure_clone();
    let valid = f.env.set_paused_ix(&auth.pubkey(), true);
    let wrong_owner = f.spoof(f.env.market, anchor_spl::token::ID).await;
    let fake_pda = f.spoof(f.env.market, concord::ID).await;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, auth.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        (
            "wrong signer",
            f.env.set_paused_ix(&f.attacker.key(), true),
            vec![&f.attacker.kp],
            anchor_code(E::Unauthorized),
        ),
        (
            "market owned by another program",
            replace(&valid, f.env.market, wrong_owner),
            vec![&auth],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake market PDA",
            replace(&valid, f.env.market, fake_pda),
            vec![&auth],
            fw(Anchor::ConstraintSeeds),
        ),
    ];
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&auth),
            attacks,
            replay: Replay::Idempotent,
        },
    )
    .await;
    assert!(f.env.market_state().await.paused);
}

#[tokio::test]
async fn withdraw_treasury_attacks() {
    let mut f = Fixture::new().await;
    let auth = f.env.authority.insecure_clone();
    let treasury = f.env.market_state().await.treasury;
    assert!(treasury > 0);
    let valid = f
        .env
        .withdraw_treasury_ix(&auth.pubkey(), f.treasury_dest, treasury);
    let wrong_owner = f.spoof(f.env.market, SYSTEM).await;
    let fake_pda = f.spoof(f.env.market, concord::ID).await;
    let attacker_dest = f.attacker.token;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, auth.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        (
            "wrong signer",
            f.env
                .withdraw_treasury_ix(&f.attacker.key(), attacker_dest, treasury),
            vec![&f.attacker.kp],
            anchor_code(E::Unauthorized),
        ),
        (
            "market owned by another program",
            replace(&valid, f.env.market, wrong_owner),
            vec![&auth],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake market PDA",
            replace(&valid, f.env.market, fake_pda),
            vec![&auth],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "wrong vault",
            replace(&valid, f.env.vault, f.buyer.token),
            vec![&auth],
            anchor_code(E::WrongVault),
        ),
        (
            "reused account: destination = vault",
            replace(&valid, f.treasury_dest, f.env.vault),
            vec![&auth],
            fw(Anchor::ConstraintDuplicateMutableAccount),
        ),
        (
            "overflow: more than the treasury",
            f.env
                .withdraw_treasury_ix(&auth.pubkey(), f.treasury_dest, u64::MAX),
            vec![&auth],
            anchor_code(E::InsufficientTreasury),
        ),
    ];
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&auth),
            attacks,
            replay: Replay::Refused(anchor_code(E::InsufficientTreasury)),
        },
    )
    .await;
    assert_eq!(f.env.balance(f.treasury_dest).await, treasury);
}

#[tokio::test]
async fn register_node_attacks() {
    let mut f = Fixture::new().await;
    let new = f.newcomer.kp.insecure_clone();
    let valid = f
        .env
        .register_ix(&new.pubkey(), f.newcomer.token, gpu_spec(), 150 * UNIT);
    f.env.nodes.push(node_pda(&f.env.market, &new.pubkey()));
    let wrong_owner = f.spoof(f.env.market, SYSTEM).await;
    let fake_pda = f.spoof(f.env.market, concord::ID).await;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, new.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        // Registering a node at someone else's address.
        (
            "wrong signer",
            replace(
                &replace(&valid, new.pubkey(), f.attacker.key()),
                f.newcomer.token,
                f.attacker.token,
            ),
            vec![&f.attacker.kp],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "another owner's token account",
            replace(&valid, f.newcomer.token, f.buyer.token),
            vec![&new],
            anchor_code(E::WrongTokenOwner),
        ),
        (
            "market owned by another program",
            replace(&valid, f.env.market, wrong_owner),
            vec![&new],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake market PDA",
            replace(&valid, f.env.market, fake_pda),
            vec![&new],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "wrong vault",
            replace(&valid, f.env.vault, f.attacker.token),
            vec![&new],
            anchor_code(E::WrongVault),
        ),
        (
            "reused account: stake from the vault",
            replace(&valid, f.newcomer.token, f.env.vault),
            vec![&new],
            fw(Anchor::ConstraintDuplicateMutableAccount),
        ),
        (
            "overflow: stake of u64::MAX",
            f.env
                .register_ix(&new.pubkey(), f.newcomer.token, gpu_spec(), u64::MAX),
            vec![&new],
            anchor_code(E::MathOverflow),
        ),
    ];
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&new),
            attacks,
            replay: Replay::AlreadyCreated,
        },
    )
    .await;
}

#[tokio::test]
async fn update_node_attacks() {
    let mut f = Fixture::new().await;
    let op = f.idle.user.kp.insecure_clone();
    let mut spec = gpu_spec();
    spec.vram_mib = 24_576;
    let valid = f.env.update_node_ix(&f.idle, spec.clone());
    let wrong_owner = f.spoof(f.idle.node, SYSTEM).await;
    let fake_pda = f.spoof(f.idle.node, concord::ID).await;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, op.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        (
            "wrong signer",
            replace(&valid, op.pubkey(), f.attacker.key()),
            vec![&f.attacker.kp],
            anchor_code(E::Unauthorized),
        ),
        (
            "node owned by another program",
            replace(&valid, f.idle.node, wrong_owner),
            vec![&op],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake node PDA",
            replace(&valid, f.idle.node, fake_pda),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "a job passed as the node",
            replace(&valid, f.idle.node, f.open_job),
            vec![&op],
            fw(Anchor::AccountDiscriminatorMismatch),
        ),
    ];
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&op),
            attacks,
            replay: Replay::Idempotent,
        },
    )
    .await;
    assert_eq!(f.env.node(f.idle.node).await.spec, spec);
}

#[tokio::test]
async fn deposit_stake_attacks() {
    let mut f = Fixture::new().await;
    let op = f.idle.user.kp.insecure_clone();
    let valid = f.env.deposit_ix(&f.idle, 60 * UNIT);
    let wrong_owner = f.spoof(f.idle.node, SYSTEM).await;
    let fake_pda = f.spoof(f.idle.node, concord::ID).await;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, op.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        (
            "wrong signer",
            replace(
                &replace(&valid, op.pubkey(), f.attacker.key()),
                f.idle.user.token,
                f.attacker.token,
            ),
            vec![&f.attacker.kp],
            anchor_code(E::Unauthorized),
        ),
        (
            "another owner's token account",
            replace(&valid, f.idle.user.token, f.buyer.token),
            vec![&op],
            anchor_code(E::WrongTokenOwner),
        ),
        (
            "node owned by another program",
            replace(&valid, f.idle.node, wrong_owner),
            vec![&op],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake node PDA",
            replace(&valid, f.idle.node, fake_pda),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "wrong vault",
            replace(&valid, f.env.vault, f.attacker.token),
            vec![&op],
            anchor_code(E::WrongVault),
        ),
        (
            "reused account: deposit from the vault",
            replace(&valid, f.idle.user.token, f.env.vault),
            vec![&op],
            fw(Anchor::ConstraintDuplicateMutableAccount),
        ),
        (
            "overflow: u64::MAX",
            f.env.deposit_ix(&f.idle, u64::MAX),
            vec![&op],
            anchor_code(E::MathOverflow),
        ),
    ];
    // A second deposit of 60 fails: only 40 tokens are left in the wallet (token program error 1).
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&op),
            attacks,
            replay: Replay::Refused(1),
        },
    )
    .await;
    assert_eq!(f.env.node(f.idle.node).await.stake, 260 * UNIT);
}

#[tokio::test]
async fn request_unbond_attacks() {
    let mut f = Fixture::new().await;
    let op = f.idle.user.kp.insecure_clone();
    let valid = f.env.unbond_ix(&f.idle);
    let wrong_owner = f.spoof(f.idle.node, anchor_spl::token::ID).await;
    let fake_pda = f.spoof(f.idle.node, concord::ID).await;
    let fake_market = f.spoof(f.env.market, concord::ID).await;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, op.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        (
            "wrong signer",
            replace(&valid, op.pubkey(), f.attacker.key()),
            vec![&f.attacker.kp],
            anchor_code(E::Unauthorized),
        ),
        (
            "node owned by another program",
            replace(&valid, f.idle.node, wrong_owner),
            vec![&op],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake node PDA",
            replace(&valid, f.idle.node, fake_pda),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "fake market PDA",
            replace(&valid, f.env.market, fake_market),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
    ];
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&op),
            attacks,
            replay: Replay::Refused(anchor_code(E::NodeUnbonding)),
        },
    )
    .await;
}

#[tokio::test]
async fn withdraw_stake_attacks() {
    let mut f = Fixture::new().await;
    let op = f.leaver.user.kp.insecure_clone();
    let valid = f
        .env
        .withdraw_stake_ix(&f.leaver, f.leaver.user.token, 150 * UNIT);
    let wrong_owner = f.spoof(f.leaver.node, SYSTEM).await;
    let fake_pda = f.spoof(f.leaver.node, concord::ID).await;
    let fake_market = f.spoof(f.env.market, concord::ID).await;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, op.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        (
            "wrong signer",
            replace(
                &replace(&valid, op.pubkey(), f.attacker.key()),
                f.leaver.user.token,
                f.attacker.token,
            ),
            vec![&f.attacker.kp],
            anchor_code(E::Unauthorized),
        ),
        (
            "node owned by another program",
            replace(&valid, f.leaver.node, wrong_owner),
            vec![&op],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake node PDA",
            replace(&valid, f.leaver.node, fake_pda),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "fake market PDA",
            replace(&valid, f.env.market, fake_market),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "wrong vault",
            replace(&valid, f.env.vault, f.attacker.token),
            vec![&op],
            anchor_code(E::WrongVault),
        ),
        (
            "reused account: destination = vault",
            replace(&valid, f.leaver.user.token, f.env.vault),
            vec![&op],
            fw(Anchor::ConstraintDuplicateMutableAccount),
        ),
        (
            "overflow: u64::MAX",
            f.env
                .withdraw_stake_ix(&f.leaver, f.leaver.user.token, u64::MAX),
            vec![&op],
            anchor_code(E::InsufficientStake),
        ),
        (
            "an active node",
            f.env.withdraw_stake_ix(&f.idle, f.idle.user.token, UNIT),
            vec![&f.idle.user.kp],
            anchor_code(E::NodeNotUnbonding),
        ),
    ];
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&op),
            attacks,
            replay: Replay::Refused(anchor_code(E::InsufficientStake)),
        },
    )
    .await;
    assert_eq!(f.env.balance(f.leaver.user.token).await, 150 * UNIT);
}

#[tokio::test]
async fn withdraw_earnings_attacks() {
    let mut f = Fixture::new().await;
    let op = f.earner.user.kp.insecure_clone();
    let valid = f
        .env
        .withdraw_earnings_ix(&f.earner, f.earner.user.token, REWARD);
    let wrong_owner = f.spoof(f.earner.node, SYSTEM).await;
    let fake_pda = f.spoof(f.earner.node, concord::ID).await;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, op.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        (
            "wrong signer",
            replace(
                &replace(&valid, op.pubkey(), f.attacker.key()),
                f.earner.user.token,
                f.attacker.token,
            ),
            vec![&f.attacker.kp],
            anchor_code(E::Unauthorized),
        ),
        (
            "node owned by another program",
            replace(&valid, f.earner.node, wrong_owner),
            vec![&op],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake node PDA",
            replace(&valid, f.earner.node, fake_pda),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "wrong vault",
            replace(&valid, f.env.vault, f.attacker.token),
            vec![&op],
            anchor_code(E::WrongVault),
        ),
        (
            "reused account: destination = vault",
            replace(&valid, f.earner.user.token, f.env.vault),
            vec![&op],
            fw(Anchor::ConstraintDuplicateMutableAccount),
        ),
        (
            "overflow: u64::MAX",
            f.env
                .withdraw_earnings_ix(&f.earner, f.earner.user.token, u64::MAX),
            vec![&op],
            anchor_code(E::InsufficientEarnings),
        ),
    ];
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&op),
            attacks,
            replay: Replay::Refused(anchor_code(E::InsufficientEarnings)),
        },
    )
    .await;
    assert_eq!(f.env.balance(f.earner.user.token).await, REWARD);
}

#[tokio::test]
async fn create_job_attacks() {
    let mut f = Fixture::new().await;
    let buyer = f.buyer.kp.insecure_clone();
    let job = f.env.next_job().await;
    f.env.jobs.push(job);
    let valid = f.env.create_job_ix(&f.buyer, job, job_args(3, 2, REWARD));
    let wrong_owner = f.spoof(f.env.market, SYSTEM).await;
    let fake_pda = f.spoof(f.env.market, concord::ID).await;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, buyer.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        // Spending another wallet's tokens.
        (
            "wrong signer",
            replace(&valid, buyer.pubkey(), f.attacker.key()),
            vec![&f.attacker.kp],
            anchor_code(E::WrongTokenOwner),
        ),
        (
            "market owned by another program",
            replace(&valid, f.env.market, wrong_owner),
            vec![&buyer],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake market PDA",
            replace(&valid, f.env.market, fake_pda),
            vec![&buyer],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "job at a non-PDA address",
            replace(&valid, job, Pubkey::new_unique()),
            vec![&buyer],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "wrong vault",
            replace(&valid, f.env.vault, f.attacker.token),
            vec![&buyer],
            anchor_code(E::WrongVault),
        ),
        (
            "reused account: pay from the vault",
            replace(&valid, f.buyer.token, f.env.vault),
            vec![&buyer],
            fw(Anchor::ConstraintDuplicateMutableAccount),
        ),
        (
            "overflow: reward × N + fee",
            f.env
                .create_job_ix(&f.buyer, job, job_args(3, 2, u64::MAX / 3)),
            vec![&buyer],
            anchor_code(E::MathOverflow),
        ),
        (
            "overflow: reward × N",
            f.env
                .create_job_ix(&f.buyer, job, job_args(3, 2, u64::MAX / 2)),
            vec![&buyer],
            anchor_code(E::MathOverflow),
        ),
    ];
    // Replaying creates nothing at the old address: the next id derives another PDA.
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&buyer),
            attacks,
            replay: Replay::Refused(fw(Anchor::ConstraintSeeds)),
        },
    )
    .await;
    assert_eq!(f.env.job(job).await.state, JobState::Open);
}

#[tokio::test]
async fn cancel_job_attacks() {
    let mut f = Fixture::new().await;
    let buyer = f.buyer.kp.insecure_clone();
    let valid = f.env.cancel_ix(&f.buyer, f.open_job);
    let wrong_owner = f.spoof(f.open_job, SYSTEM).await;
    let fake_pda = f.spoof(f.open_job, concord::ID).await;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, buyer.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        (
            "wrong signer",
            replace(
                &replace(&valid, buyer.pubkey(), f.attacker.key()),
                f.buyer.token,
                f.attacker.token,
            ),
            vec![&f.attacker.kp],
            anchor_code(E::Unauthorized),
        ),
        (
            "job owned by another program",
            replace(&valid, f.open_job, wrong_owner),
            vec![&buyer],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake job PDA",
            replace(&valid, f.open_job, fake_pda),
            vec![&buyer],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "wrong vault",
            replace(&valid, f.env.vault, f.attacker.token),
            vec![&buyer],
            anchor_code(E::WrongVault),
        ),
        (
            "reused account: refund into the vault",
            replace(&valid, f.buyer.token, f.env.vault),
            vec![&buyer],
            fw(Anchor::ConstraintDuplicateMutableAccount),
        ),
        (
            "drawn job",
            f.env.cancel_ix(&f.buyer, f.assigned_job),
            vec![&buyer],
            anchor_code(E::InvalidJobState),
        ),
        (
            "job past its creation slot (its draw is known)",
            f.env.cancel_ix(&f.buyer, f.drawable_job),
            vec![&buyer],
            anchor_code(E::CancelWindowClosed),
        ),
    ];
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&buyer),
            attacks,
            replay: Replay::Refused(anchor_code(E::InvalidJobState)),
        },
    )
    .await;
}

#[tokio::test]
async fn close_job_attacks() {
    let mut f = Fixture::new().await;
    let buyer = f.buyer.kp.insecure_clone();
    let valid = f.env.close_ix(&f.buyer, f.settled_job);
    let wrong_owner = f.spoof(f.settled_job, SYSTEM).await;
    let fake_pda = f.spoof(f.settled_job, concord::ID).await;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, buyer.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        (
            "wrong signer",
            replace(
                &replace(&valid, buyer.pubkey(), f.attacker.key()),
                f.buyer.token,
                f.attacker.token,
            ),
            vec![&f.attacker.kp],
            anchor_code(E::Unauthorized),
        ),
        (
            "job owned by another program",
            replace(&valid, f.settled_job, wrong_owner),
            vec![&buyer],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake job PDA",
            replace(&valid, f.settled_job, fake_pda),
            vec![&buyer],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "wrong vault",
            replace(&valid, f.env.vault, f.attacker.token),
            vec![&buyer],
            anchor_code(E::WrongVault),
        ),
        (
            "reused account: destination = vault",
            replace(&valid, f.buyer.token, f.env.vault),
            vec![&buyer],
            fw(Anchor::ConstraintDuplicateMutableAccount),
        ),
        (
            "non-terminal job",
            f.env.close_ix(&f.buyer, f.revealing_job),
            vec![&buyer],
            anchor_code(E::JobNotTerminal),
        ),
    ];
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&buyer),
            attacks,
            replay: Replay::Refused(fw(Anchor::AccountNotInitialized)),
        },
    )
    .await;
}

#[tokio::test]
async fn draw_job_attacks() {
    let mut f = Fixture::new().await;
    let job = f.drawable_job;
    let valid = f.env.draw_ix(job).await;
    assert_eq!(valid.accounts.last().unwrap().pubkey, f.idle.node);
    let wrong_owner = f.spoof(job, SYSTEM).await;
    let fake_job = f.spoof(job, concord::ID).await;
    let fake_pool = f.spoof(f.env.pool, concord::ID).await;
    let fake_hashes = f.spoof(ix::SLOT_HASHES, SYSTEM).await;
    let fake_node = f.spoof(f.idle.node, concord::ID).await;
    let attacks = vec![
        // draw_job is permissionless: the accounts are the attack surface.
        (
            "job owned by another program",
            replace(&valid, job, wrong_owner),
            vec![],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake job PDA",
            replace(&valid, job, fake_job),
            vec![],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "a look-alike pool",
            replace(&valid, f.env.pool, fake_pool),
            vec![],
            anchor_code(E::WrongPool),
        ),
        (
            "forged slot hashes",
            replace(&valid, ix::SLOT_HASHES, fake_hashes),
            vec![],
            fw(Anchor::ConstraintAddress),
        ),
        (
            "a look-alike seat node",
            replace(&valid, f.idle.node, fake_node),
            vec![],
            anchor_code(E::NodeAccountsMismatch),
        ),
        (
            "another node in the seat",
            replace(&valid, f.idle.node, f.seated.node),
            vec![],
            anchor_code(E::NodeAccountsMismatch),
        ),
        (
            "refund diverted",
            replace(&valid, f.buyer.token, f.attacker.token),
            vec![],
            anchor_code(E::WrongRefundAccount),
        ),
        (
            "wrong vault",
            replace(&valid, f.env.vault, f.attacker.token),
            vec![],
            anchor_code(E::WrongVault),
        ),
        (
            "a job created in this slot",
            f.env.draw_ix_unchecked(f.open_job).await,
            vec![],
            anchor_code(E::DrawTooEarly),
        ),
        (
            "a job drawn already",
            f.env.draw_ix_unchecked(f.assigned_job).await,
            vec![],
            anchor_code(E::AlreadyDrawn),
        ),
    ];
    run(
        &mut f.env,
        Case {
            valid,
            signer: None,
            attacks,
            replay: Replay::Refused(anchor_code(E::AlreadyDrawn)),
        },
    )
    .await;
    assert_eq!(f.env.job(job).await.seats[0].node, f.idle.node);
}

#[tokio::test]
async fn commit_result_attacks() {
    let mut f = Fixture::new().await;
    let op = f.seated.user.kp.insecure_clone();
    let (node, job) = (f.seated.node, f.assigned_job);
    let c = commitment(&job, &node, &digest(5), &salt(&node));
    let valid = f.env.commit_ix(node, job, c).await;
    let wrong_owner = f.spoof(node, SYSTEM).await;
    let fake_job = f.spoof(job, concord::ID).await;
    let fake_node = f.spoof(node, concord::ID).await;
    let fake_pool = f.spoof(f.env.pool, concord::ID).await;
    let outsider = f.env.commit_ix(f.idle.node, job, c).await;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, op.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        (
            "wrong signer",
            replace(&valid, op.pubkey(), f.attacker.key()),
            vec![&f.attacker.kp],
            anchor_code(E::Unauthorized),
        ),
        (
            "node owned by another program",
            replace(&valid, node, wrong_owner),
            vec![&op],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake job PDA",
            replace(&valid, job, fake_job),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "fake node PDA",
            replace(&valid, node, fake_node),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "a look-alike pool",
            replace(&valid, f.env.pool, fake_pool),
            vec![&op],
            anchor_code(E::WrongPool),
        ),
        (
            "a node without a seat",
            outsider,
            vec![&f.idle.user.kp],
            anchor_code(E::SeatNotFound),
        ),
        (
            "reused account: node = job",
            replace(&valid, node, job),
            vec![&op],
            fw(Anchor::AccountDiscriminatorMismatch),
        ),
    ];
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&op),
            attacks,
            // N = 1: the commit completed the set and opened the reveal phase.
            replay: Replay::Refused(anchor_code(E::InvalidJobState)),
        },
    )
    .await;
}

#[tokio::test]
async fn reveal_result_attacks() {
    let mut f = Fixture::new().await;
    let op = f.revealer.user.kp.insecure_clone();
    let (node, job) = (f.revealer.node, f.revealing_job);
    let valid = f
        .env
        .reveal_ix_with(node, job, digest(2), salt(&node))
        .await;
    let wrong_owner = f.spoof(node, SYSTEM).await;
    let fake_job = f.spoof(job, concord::ID).await;
    let fake_node = f.spoof(node, concord::ID).await;
    let wrong_salt = f.env.reveal_ix_with(node, job, digest(2), [0; 32]).await;
    let wrong_digest = f
        .env
        .reveal_ix_with(node, job, digest(3), salt(&node))
        .await;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, op.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        (
            "wrong signer",
            replace(&valid, op.pubkey(), f.attacker.key()),
            vec![&f.attacker.kp],
            anchor_code(E::Unauthorized),
        ),
        (
            "node owned by another program",
            replace(&valid, node, wrong_owner),
            vec![&op],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake job PDA",
            replace(&valid, job, fake_job),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "fake node PDA",
            replace(&valid, node, fake_node),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "wrong salt",
            wrong_salt,
            vec![&op],
            anchor_code(E::CommitmentMismatch),
        ),
        (
            "wrong digest",
            wrong_digest,
            vec![&op],
            anchor_code(E::CommitmentMismatch),
        ),
        (
            "refund diverted",
            replace(&valid, f.buyer.token, f.attacker.token),
            vec![&op],
            anchor_code(E::WrongRefundAccount),
        ),
        (
            "reused account: node = job",
            replace(&valid, node, job),
            vec![&op],
            fw(Anchor::AccountDiscriminatorMismatch),
        ),
    ];
    // The valid reveal completes the set: it settles the job.
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&op),
            attacks,
            replay: Replay::Refused(anchor_code(E::InvalidJobState)),
        },
    )
    .await;
    assert_eq!(f.env.job(job).await.state, JobState::Settled);
}

/// `settle_job` with its node accounts replaced by `nodes`.
async fn settle_with(
    env: &mut Env,
    job: Pubkey,
    refund: Option<Pubkey>,
    nodes: &[Pubkey],
) -> Instruction {
    let mut ix = env.settle_ix(job).await;
    ix.accounts.truncate(7);
    if let Some(r) = refund {
        ix.accounts[5].pubkey = r;
    }
    ix.accounts.extend(
        nodes
            .iter()
            .map(|n| solana_sdk::instruction::AccountMeta::new(*n, false)),
    );
    ix
}

#[tokio::test]
async fn settle_job_attacks() {
    let mut f = Fixture::new().await;
    // Make the assigned job due: its only seat never committed and it has no backup.
    f.env.advance(default_params().execution_window).await;
    let job = f.assigned_job;
    let seat = f.seated.node;
    let valid = f.env.settle_ix(job).await;
    let wrong_owner = f.spoof(job, SYSTEM).await;
    let fake_job = f.spoof(job, concord::ID).await;
    let fake_market = f.spoof(f.env.market, concord::ID).await;
    let fake_node = f.spoof(seat, concord::ID).await;
    let fake_pool = f.spoof(f.env.pool, concord::ID).await;
    let mut read_only = valid.clone();
    read_only.accounts.last_mut().unwrap().is_writable = false;
    let omitted = settle_with(&mut f.env, job, None, &[]).await;
    let substituted = settle_with(&mut f.env, job, None, &[f.idle.node]).await;
    let look_alike = settle_with(&mut f.env, job, None, &[fake_node]).await;
    let diverted = settle_with(&mut f.env, job, Some(f.attacker.token), &[seat]).await;
    let vault = f.env.vault;
    let refund_vault = settle_with(&mut f.env, job, Some(vault), &[seat]).await;
    let attacks = vec![
        // settle_job is permissionless: no signer to steal, so the accounts are the attack surface.
        (
            "job owned by another program",
            replace(&valid, job, wrong_owner),
            vec![],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake job PDA",
            replace(&valid, job, fake_job),
            vec![],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "fake market PDA",
            replace(&valid, f.env.market, fake_market),
            vec![],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "a look-alike pool",
            replace(&valid, f.env.pool, fake_pool),
            vec![],
            anchor_code(E::WrongPool),
        ),
        (
            "node accounts omitted",
            omitted,
            vec![],
            anchor_code(E::NodeAccountsMismatch),
        ),
        (
            "node substituted",
            substituted,
            vec![],
            anchor_code(E::NodeAccountsMismatch),
        ),
        (
            "node look-alike",
            look_alike,
            vec![],
            anchor_code(E::NodeAccountsMismatch),
        ),
        (
            "node read-only",
            read_only,
            vec![],
            anchor_code(E::NodeAccountsMismatch),
        ),
        (
            "refund diverted",
            diverted,
            vec![],
            anchor_code(E::WrongRefundAccount),
        ),
        (
            "wrong vault",
            replace(&valid, f.env.vault, f.attacker.token),
            vec![],
            anchor_code(E::WrongVault),
        ),
        (
            "reused account: refund = vault",
            refund_vault,
            vec![],
            anchor_code(E::WrongRefundAccount),
        ),
    ];
    run(
        &mut f.env,
        Case {
            valid,
            signer: None,
            attacks,
            replay: Replay::Idempotent,
        },
    )
    .await;
    assert_eq!(f.env.job(job).await.state, JobState::Failed);
    assert_eq!(f.env.node(seat).await.missed, 1);
}

/// Three seats settled with their node accounts reordered or duplicated: refused.
#[tokio::test]
async fn settle_with_reordered_nodes_is_refused() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    env.operators(3, 200 * UNIT).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    let seats = env.draw(job).await;
    for n in &seats {
        env.commit(*n, job, digest(1)).await.unwrap();
    }
    env.reveal(seats[0], job, digest(1)).await.unwrap();
    env.reveal(seats[1], job, digest(1)).await.unwrap();
    env.advance(default_params().reveal_window).await;
    let swapped = settle_with(&mut env, job, None, &[seats[1], seats[0], seats[2]]).await;
    env.send_expect(&[swapped], &[], anchor_code(E::NodeAccountsMismatch))
        .await;
    let dup = settle_with(&mut env, job, None, &[seats[0], seats[0], seats[2]]).await;
    let err = env.send(&[dup], &[]).await.unwrap_err();
    assert_eq!(
        custom_code(&err),
        Some(anchor_code(E::NodeAccountsMismatch)),
        "{err:?}"
    );
    env.settle(job).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Settled);
}

/// A lazy node copies an honest node's commitment, then after the honest reveal tries to reveal
/// the same digest and salt: the commitment binds the node key, so it cannot.
#[tokio::test]
async fn copied_commitment_cannot_be_revealed() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    env.operators(2, 200 * UNIT).await;
    let job = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    let seats = env.draw(job).await;
    let (honest, lazy) = (seats[0], seats[1]);
    env.commit(honest, job, digest(7)).await.unwrap();
    let copied = env.job(job).await.seats[0].commitment;
    let ix = env.commit_ix(lazy, job, copied).await;
    let lazy_kp = env.signer_of(&lazy);
    env.send(&[ix], &[&lazy_kp]).await.unwrap();
    env.reveal(honest, job, digest(7)).await.unwrap();
    // Everything the honest node revealed is public now; it still does not open the copy.
    let ix = env
        .reveal_ix_with(lazy, job, digest(7), salt(&honest))
        .await;
    env.send_expect(&[ix], &[&lazy_kp], anchor_code(E::CommitmentMismatch))
        .await;
    env.advance(default_params().reveal_window).await;
    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    // Q = 2 is not met with one valid reveal: the job fails, the copier is slashed.
    assert_eq!(j.state, JobState::Failed);
    assert_eq!(env.node(lazy).await.missed, 1);
    assert_eq!(env.node(honest).await.stake, 200 * UNIT);
}

#[tokio::test]
async fn reveal_before_commit_phase_closes_is_refused() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    env.operators(2, 200 * UNIT).await;
    let job = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    let seats = env.draw(job).await;
    env.commit(seats[0], job, digest(1)).await.unwrap();
    // One commit outstanding: refused.
    let ix = env
        .reveal_ix_with(seats[0], job, digest(1), salt(&seats[0]))
        .await;
    let kp = env.signer_of(&seats[0]);
    env.send_expect(&[ix], &[&kp], anchor_code(E::RevealNotOpen))
        .await;
    env.commit(seats[1], job, digest(1)).await.unwrap();
    env.reveal(seats[0], job, digest(1)).await.unwrap();
}

#[tokio::test]
async fn commit_after_deadline_is_refused() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    env.operators(1, 200 * UNIT).await;
    let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    let seat = env.draw(job).await[0];
    env.advance(default_params().execution_window).await;
    let c = commitment(&job, &seat, &digest(1), &salt(&seat));
    let ix = env.commit_ix(seat, job, c).await;
    let kp = env.signer_of(&seat);
    env.send_expect(&[ix], &[&kp], anchor_code(E::CommitWindowClosed))
        .await;
}

#[tokio::test]
async fn wrong_mint_vault_and_owner_are_refused() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let other = env.user(1_000 * UNIT).await;
    // A second mint with the same decimals, and a token account of it.
    let mint2 = Keypair::new();
    env.create_mint(&mint2, &[]).await.unwrap();
    let foreign = env
        .token_account(mint2.pubkey(), &buyer.key(), 1_000 * UNIT)
        .await;
    let job = env.next_job().await;
    env.jobs.push(job);
    let valid = env.create_job_ix(&buyer, job, job_args(1, 1, REWARD));
    let cases = [
        (
            "token account of another mint",
            replace(&valid, buyer.token, foreign),
            anchor_code(E::WrongMint),
        ),
        (
            "another mint",
            replace(&valid, env.mint, mint2.pubkey()),
            anchor_code(E::WrongMint),
        ),
        (
            "wrong vault",
            replace(&valid, env.vault, other.token),
            anchor_code(E::WrongVault),
        ),
        (
            "token account of another owner",
            replace(&valid, buyer.token, other.token),
            anchor_code(E::WrongTokenOwner),
        ),
        (
            "wrong token program",
            replace(&valid, anchor_spl::token::ID, anchor_spl::token_2022::ID),
            anchor_code(E::WrongTokenProgram),
        ),
    ];
    for (what, ix, code) in cases {
        let err = env.send(&[ix], &[&buyer.kp]).await.expect_err(what);
        assert_eq!(custom_code(&err), Some(code), "{what}: {err:?}");
    }
    // Invalid job arguments, each with its named error.
    let mut bad = vec![];
    let mut a = job_args(1, 1, REWARD);
    a.kernel = 0;
    bad.push((a, E::UnknownKernel));
    let mut a = job_args(1, 1, REWARD);
    a.kernel = concord::constants::kernel::MAX_KERNEL_ID + 1;
    bad.push((a, E::UnknownKernel));
    let mut a = job_args(1, 1, REWARD);
    a.params = vec![0; 65];
    bad.push((a, E::ParamsTooLong));
    let mut a = job_args(1, 1, REWARD);
    a.input_uri = String::new();
    bad.push((a, E::InvalidUri));
    let mut a = job_args(1, 1, REWARD);
    a.input_uri = "x".repeat(201);
    bad.push((a, E::InvalidUri));
    bad.push((job_args(0, 0, REWARD), E::InvalidReplication));
    bad.push((job_args(8, 5, REWARD), E::InvalidReplication));
    bad.push((job_args(4, 2, REWARD), E::InvalidQuorum));
    bad.push((job_args(3, 4, REWARD), E::InvalidQuorum));
    bad.push((job_args(3, 2, 0), E::ZeroReward));
    let mut a = job_args(1, 1, REWARD);
    a.requirements.backends = 0;
    bad.push((a, E::InvalidBackends));
    let mut a = job_args(1, 1, REWARD);
    a.params = vec![0; 12]; // a zero dimension: no work
    bad.push((a, E::InvalidParams));
    let mut a = job_args(1, 1, REWARD);
    a.params.push(0); // trailing byte
    bad.push((a, E::InvalidParams));
    let mut a = job_args(1, 1, REWARD);
    a.fee_bps = 0; // not the market's fee
    bad.push((a, E::FeeChanged));
    for (args, e) in bad {
        let ix = env.create_job_ix(&buyer, job, args);
        env.send_expect(&[ix], &[&buyer.kp], anchor_code(e)).await;
    }
    // Not enough tokens: the token program refuses (error 1, insufficient funds).
    let ix = env.create_job_ix(&buyer, job, job_args(7, 4, 200 * UNIT));
    env.send_expect(&[ix], &[&buyer.kp], 1).await;
    env.send(&[valid], &[&buyer.kp]).await.unwrap();
}

/// A node of one market cannot commit in another market of the same mint, nor be passed as a
/// seat of one of its jobs.
#[tokio::test]
async fn node_of_another_market_is_refused() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let foreign = env.operators(1, 200 * UNIT).await.remove(0);
    // Second market (id 2) of the same authority and mint, with its own pool and node.
    env.market_id = 2;
    env.market = market_pda(&env.authority.pubkey(), 2);
    env.vault = vault_pda(&env.market);
    env.pool_kp = Keypair::new();
    env.pool = env.pool_kp.pubkey();
    env.nodes.clear();
    env.create_market_with(default_params()).await.unwrap();
    let local = env.operators(1, 200 * UNIT).await.remove(0);
    let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    env.warp(1).await;
    let valid = env.draw_ix(job).await;
    let ix = replace(&valid, local.node, foreign.node);
    env.send_expect(&[ix], &[], anchor_code(E::WrongMarket))
        .await;
    let c = commitment(&job, &foreign.node, &digest(1), &salt(&foreign.node));
    let mut ix = ix::commit_result(env.info(), &job, &foreign.key(), c, &[local.node]);
    ix.accounts[3].pubkey = foreign.node;
    env.send_expect(&[ix], &[&foreign.user.kp], anchor_code(E::WrongMarket))
        .await;
}
