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
    /// Registered, staked, idle.
    pub idle: Operator,
    /// Holds a claimed, uncommitted slot of `claimed_job`.
    pub claimer: Operator,
    /// Committed in `revealing_job` (N = 1, so the job is Revealing).
    pub revealer: Operator,
    /// Paid in `settled_job`: has earnings.
    pub earner: Operator,
    /// Unbonded, window elapsed, no slots: can withdraw stake.
    pub leaver: Operator,
    /// Not registered yet.
    pub newcomer: User,
    pub open_job: Pubkey,
    pub claimed_job: Pubkey,
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
        let idle = env.operator(200 * UNIT, 100 * UNIT).await;
        let claimer = env.operator(200 * UNIT, 0).await;
        let revealer = env.operator(200 * UNIT, 0).await;
        let earner = env.operator(200 * UNIT, 0).await;
        let newcomer = env.user(300 * UNIT).await;

        let settled_job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
        env.claim(&earner, settled_job).await.unwrap();
        env.commit(&earner, settled_job, digest(1)).await.unwrap();
        env.reveal(&earner, settled_job, digest(1)).await.unwrap();
        env.settle(settled_job).await.unwrap();

        let revealing_job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
        env.claim(&revealer, revealing_job).await.unwrap();
        env.commit(&revealer, revealing_job, digest(2))
            .await
            .unwrap();

        let claimed_job = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
        env.claim(&claimer, claimed_job).await.unwrap();
        let open_job = env.create_job(&buyer, job_args(2, 2, REWARD)).await;

        let a = env.authority.pubkey();
        let treasury_dest = env.token_account(env.mint, &a, 0).await;
        Fixture {
            env,
            buyer,
            attacker,
            idle,
            claimer,
            revealer,
            earner,
            leaver,
            newcomer,
            open_job,
            claimed_job,
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
    // A second market of the same authority.
    f.env.market_id = 2;
    f.env.market = market_pda(&f.env.authority.pubkey(), 2);
    f.env.vault = vault_pda(&f.env.market);
    f.env.nodes.clear();
    f.env.jobs.clear();
    let auth = f.env.authority.insecure_clone();
    let valid = f.env.create_market_ix(default_params());
    let fake_mint = f.spoof(f.env.mint, concord::ID).await;
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
            "overflowing window",
            f.env.create_market_ix(overflow),
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
        collateral_per_slot: u64::MAX,
        claim_window: i64::MAX,
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
            "job with claims",
            f.env.cancel_ix(&f.buyer, f.claimed_job),
            vec![&buyer],
            anchor_code(E::JobHasClaims),
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
async fn claim_job_attacks() {
    let mut f = Fixture::new().await;
    let op = f.idle.user.kp.insecure_clone();
    let valid = f.env.claim_ix(&op.pubkey(), f.idle.node, f.open_job);
    let wrong_owner = f.spoof(f.open_job, SYSTEM).await;
    let fake_job = f.spoof(f.open_job, concord::ID).await;
    let fake_node = f.spoof(f.idle.node, concord::ID).await;
    let attacks = vec![
        (
            "missing signer",
            unsign(&valid, op.pubkey()),
            vec![],
            fw(Anchor::AccountNotSigner),
        ),
        (
            "wrong signer: another operator's node",
            replace(&valid, op.pubkey(), f.attacker.key()),
            vec![&f.attacker.kp],
            anchor_code(E::Unauthorized),
        ),
        (
            "job owned by another program",
            replace(&valid, f.open_job, wrong_owner),
            vec![&op],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake job PDA",
            replace(&valid, f.open_job, fake_job),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "fake node PDA",
            replace(&valid, f.idle.node, fake_node),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "reused account: node = job",
            replace(&valid, f.idle.node, f.open_job),
            vec![&op],
            fw(Anchor::AccountDiscriminatorMismatch),
        ),
        (
            "unbonded node",
            f.env.claim_ix(&f.leaver.key(), f.leaver.node, f.open_job),
            vec![&f.leaver.user.kp],
            anchor_code(E::NodeUnbonding),
        ),
        (
            "running job",
            f.env.claim_ix(&op.pubkey(), f.idle.node, f.revealing_job),
            vec![&op],
            anchor_code(E::InvalidJobState),
        ),
    ];
    run(
        &mut f.env,
        Case {
            valid,
            signer: Some(&op),
            attacks,
            replay: Replay::Refused(anchor_code(E::DuplicateClaim)),
        },
    )
    .await;
}

#[tokio::test]
async fn commit_result_attacks() {
    let mut f = Fixture::new().await;
    let op = f.claimer.user.kp.insecure_clone();
    let c = commitment(
        &f.claimed_job,
        &f.claimer.node,
        &digest(5),
        &salt_of(&f.claimer),
    );
    let valid = f
        .env
        .commit_ix(&op.pubkey(), f.claimer.node, f.claimed_job, c);
    let wrong_owner = f.spoof(f.claimer.node, SYSTEM).await;
    let fake_job = f.spoof(f.claimed_job, concord::ID).await;
    let fake_node = f.spoof(f.claimer.node, concord::ID).await;
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
            replace(&valid, f.claimer.node, wrong_owner),
            vec![&op],
            fw(Anchor::AccountOwnedByWrongProgram),
        ),
        (
            "fake job PDA",
            replace(&valid, f.claimed_job, fake_job),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "fake node PDA",
            replace(&valid, f.claimer.node, fake_node),
            vec![&op],
            fw(Anchor::ConstraintSeeds),
        ),
        (
            "a node without a slot",
            f.env
                .commit_ix(&f.idle.key(), f.idle.node, f.claimed_job, c),
            vec![&f.idle.user.kp],
            anchor_code(E::SlotNotFound),
        ),
        (
            "reused account: node = job",
            replace(&valid, f.claimer.node, f.claimed_job),
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
            replay: Replay::Refused(anchor_code(E::AlreadyCommitted)),
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
        .reveal_ix(&op.pubkey(), node, job, digest(2), salt_of(&f.revealer));
    let wrong_owner = f.spoof(node, SYSTEM).await;
    let fake_job = f.spoof(job, concord::ID).await;
    let fake_node = f.spoof(node, concord::ID).await;
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
            f.env.reveal_ix(&op.pubkey(), node, job, digest(2), [0; 32]),
            vec![&op],
            anchor_code(E::CommitmentMismatch),
        ),
        (
            "wrong digest",
            f.env
                .reveal_ix(&op.pubkey(), node, job, digest(3), salt_of(&f.revealer)),
            vec![&op],
            anchor_code(E::CommitmentMismatch),
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
            replay: Replay::Refused(anchor_code(E::NotCommitted)),
        },
    )
    .await;
}

#[tokio::test]
async fn settle_job_attacks() {
    let mut f = Fixture::new().await;
    // Make the revealing job due: its only slot revealed.
    let rev = Operator {
        user: User {
            kp: f.revealer.user.kp.insecure_clone(),
            token: f.revealer.user.token,
        },
        node: f.revealer.node,
    };
    f.env
        .reveal(&rev, f.revealing_job, digest(2))
        .await
        .unwrap();
    let job = f.revealing_job;
    let valid = f.env.settle_ix(job).await;
    let wrong_owner = f.spoof(job, SYSTEM).await;
    let fake_job = f.spoof(job, concord::ID).await;
    let fake_market = f.spoof(f.env.market, concord::ID).await;
    let fake_node = f.spoof(rev.node, concord::ID).await;
    let refund = f.buyer.token;
    let mut read_only = valid.clone();
    read_only.accounts.last_mut().unwrap().is_writable = false;
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
            "node accounts omitted",
            f.env.settle_ix_with(job, refund, &[]),
            vec![],
            anchor_code(E::NodeAccountsMismatch),
        ),
        (
            "node substituted",
            f.env.settle_ix_with(job, refund, &[f.idle.node]),
            vec![],
            anchor_code(E::NodeAccountsMismatch),
        ),
        (
            "node look-alike",
            f.env.settle_ix_with(job, refund, &[fake_node]),
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
            "extra node",
            f.env.settle_ix_with(job, refund, &[rev.node, f.idle.node]),
            vec![],
            anchor_code(E::NodeAccountsMismatch),
        ),
        (
            "refund diverted",
            f.env.settle_ix_with(job, f.attacker.token, &[rev.node]),
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
            f.env.settle_ix_with(job, f.env.vault, &[rev.node]),
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
    assert_eq!(f.env.job(job).await.state, JobState::Settled);
}

/// Three slots settled with their node accounts reordered: refused.
#[tokio::test]
async fn settle_with_reordered_nodes_is_refused() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
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
    for op in &ops {
        env.reveal(op, job, digest(1)).await.unwrap();
    }
    let swapped = env.settle_ix_with(job, buyer.token, &[ops[1].node, ops[0].node, ops[2].node]);
    env.send_expect(&[swapped], &[], anchor_code(E::NodeAccountsMismatch))
        .await;
    let dup = env.settle_ix_with(job, buyer.token, &[ops[0].node, ops[0].node, ops[2].node]);
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
    let honest = env.operator(200 * UNIT, 0).await;
    let lazy = env.operator(200 * UNIT, 0).await;
    let job = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    env.claim(&honest, job).await.unwrap();
    env.claim(&lazy, job).await.unwrap();
    env.commit(&honest, job, digest(7)).await.unwrap();
    let copied = env.job(job).await.slots[0].commitment;
    let ix = env.commit_ix(&lazy.key(), lazy.node, job, copied);
    env.send(&[ix], &[&lazy.user.kp]).await.unwrap();
    env.reveal(&honest, job, digest(7)).await.unwrap();
    // Everything the honest node revealed is public now; it still does not open the copy.
    let ix = env.reveal_ix(&lazy.key(), lazy.node, job, digest(7), salt_of(&honest));
    env.send_expect(&[ix], &[&lazy.user.kp], anchor_code(E::CommitmentMismatch))
        .await;
    env.advance(default_params().reveal_window).await;
    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    // Q = 2 is not met with one valid reveal: the job fails, the copier is slashed.
    assert_eq!(j.state, JobState::Failed);
    assert_eq!(env.node(lazy.node).await.missed, 1);
    assert_eq!(env.node(honest.node).await.stake, 200 * UNIT);
}

#[tokio::test]
async fn reveal_before_commit_phase_closes_is_refused() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let a = env.operator(200 * UNIT, 0).await;
    let b = env.operator(200 * UNIT, 0).await;
    let job = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    env.claim(&a, job).await.unwrap();
    env.commit(&a, job, digest(1)).await.unwrap();
    // Open job: reveals refused.
    let ix = env.reveal_ix(&a.key(), a.node, job, digest(1), salt_of(&a));
    env.send_expect(&[ix.clone()], &[&a.user.kp], anchor_code(E::RevealNotOpen))
        .await;
    env.claim(&b, job).await.unwrap();
    // Running with one commit outstanding: still refused.
    env.send_expect(&[ix.clone()], &[&a.user.kp], anchor_code(E::RevealNotOpen))
        .await;
    env.commit(&b, job, digest(1)).await.unwrap();
    env.send(&[ix], &[&a.user.kp]).await.unwrap();
}

#[tokio::test]
async fn commit_after_deadline_is_refused() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let a = env.operator(200 * UNIT, 0).await;
    let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    env.claim(&a, job).await.unwrap();
    env.advance(default_params().execution_window).await;
    let c = commitment(&job, &a.node, &digest(1), &salt_of(&a));
    let ix = env.commit_ix(&a.key(), a.node, job, c);
    env.send_expect(&[ix], &[&a.user.kp], anchor_code(E::CommitWindowClosed))
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
    for (args, e) in bad {
        let ix = env.create_job_ix(&buyer, job, args);
        env.send_expect(&[ix], &[&buyer.kp], anchor_code(e)).await;
    }
    // Not enough tokens: the token program refuses (error 1, insufficient funds).
    let ix = env.create_job_ix(&buyer, job, job_args(7, 4, 200 * UNIT));
    env.send_expect(&[ix], &[&buyer.kp], 1).await;
    env.send(&[valid], &[&buyer.kp]).await.unwrap();
}

/// A node of one market cannot claim in another market of the same mint.
#[tokio::test]
async fn node_of_another_market_is_refused() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let op = env.operator(200 * UNIT, 0).await;
    let foreign_node = op.node;
    // Second market (id 2) of the same authority and mint.
    env.market_id = 2;
    env.market = market_pda(&env.authority.pubkey(), 2);
    env.vault = vault_pda(&env.market);
    env.nodes.clear();
    env.create_market_with(default_params()).await.unwrap();
    let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    let ix = env.claim_ix(&op.key(), foreign_node, job);
    env.send_expect(&[ix], &[&op.user.kp], anchor_code(E::WrongMarket))
        .await;
}
