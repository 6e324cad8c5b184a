//! `concord market …`

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use concord::MarketParams;
use concord_client::amount::{format_amount, parse_amount};
use concord_client::concord;
use concord_client::{ix, pda};
use serde_json::json;
use solana_sdk::pubkey::Pubkey;

use crate::{report, view, App};

#[derive(Subcommand)]
pub enum MarketCmd {
    /// Create a market for a mint; the -k wallet becomes its authority
    Create {
        /// The SPL Token or Token-2022 mint for payments and stakes
        #[arg(long)]
        mint: Pubkey,
        /// Index among this authority's markets
        #[arg(long, default_value_t = 0)]
        market_id: u64,
        #[command(flatten)]
        params: ParamArgs,
    },
    /// Show the market
    Show,
    /// Change parameters (unset flags keep their value); running jobs keep theirs
    Update {
        #[command(flatten)]
        params: ParamArgs,
    },
    /// Stop new jobs, draws and registrations (exits always stay open)
    Pause,
    /// Resume the market
    Unpause,
    /// Send treasury tokens to a token account (default: the authority's)
    WithdrawTreasury {
        /// Amount in tokens, or "all"
        amount: String,
        #[arg(long)]
        to: Option<Pubkey>,
    },
}

#[derive(Args, Default)]
pub struct ParamArgs {
    /// Protocol fee in basis points (≤ 1000) [create default: 250]
    #[arg(long)]
    fee_bps: Option<u16>,
    /// Minimum stake, in tokens [create default: 100]
    #[arg(long)]
    min_stake: Option<String>,
    /// Floor of the collateral a seat locks, in tokens [create default: 20]
    #[arg(long)]
    min_collateral: Option<String>,
    /// Collateral a seat locks as basis points of the reward per worker (≤ 50000)
    /// [create default: 10000, i.e. 100 %]
    #[arg(long)]
    collateral_bps: Option<u32>,
    /// Slots within which a job must be drawn, also the pool's epoch (2..=512; fixed at
    /// creation) [create default: 64]
    #[arg(long)]
    draw_horizon_slots: Option<u64>,
    /// Reassignment rounds at the commit deadline (≤ 3) [create default: 1]
    #[arg(long)]
    max_reassignments: Option<u8>,
    /// Execution window in seconds [create default: 900]
    #[arg(long)]
    execution_window: Option<i64>,
    /// Reveal window in seconds [create default: 300]
    #[arg(long)]
    reveal_window: Option<i64>,
    /// Unbonding period in seconds [create default: 86400]
    #[arg(long)]
    unbonding_period: Option<i64>,
    /// Largest replication N (≤ 7) [create default: 7]
    #[arg(long)]
    max_replication: Option<u8>,
}

impl ParamArgs {
    fn apply(&self, base: MarketParams, decimals: u8) -> Result<MarketParams> {
        let p = MarketParams {
            fee_bps: self.fee_bps.unwrap_or(base.fee_bps),
            min_stake: match &self.min_stake {
                Some(a) => parse_amount(a, decimals)?,
                None => base.min_stake,
            },
            min_collateral: match &self.min_collateral {
                Some(a) => parse_amount(a, decimals)?,
                None => base.min_collateral,
            },
            collateral_bps: self.collateral_bps.unwrap_or(base.collateral_bps),
            draw_horizon_slots: self.draw_horizon_slots.unwrap_or(base.draw_horizon_slots),
            max_reassignments: self.max_reassignments.unwrap_or(base.max_reassignments),
            execution_window: self.execution_window.unwrap_or(base.execution_window),
            reveal_window: self.reveal_window.unwrap_or(base.reveal_window),
            unbonding_period: self.unbonding_period.unwrap_or(base.unbonding_period),
            max_replication: self.max_replication.unwrap_or(base.max_replication),
        };
        check_params(&p)?;
        Ok(p)
    }
}

/// The program's own bounds, checked before sending, with messages that say what to fix.
fn check_params(p: &MarketParams) -> Result<()> {
    use concord::constants::*;
    if p.fee_bps > MAX_FEE_BPS {
        bail!(
            "--fee-bps {} is above the maximum of {MAX_FEE_BPS}",
            p.fee_bps
        );
    }
    if !(1..=MAX_REPLICATION).contains(&p.max_replication) {
        bail!("--max-replication must be between 1 and {MAX_REPLICATION}");
    }
    if p.min_collateral == 0 || p.min_collateral > p.min_stake {
        bail!("--min-collateral must be positive and no greater than --min-stake");
    }
    if p.collateral_bps > MAX_COLLATERAL_BPS {
        bail!(
            "--collateral-bps {} is above the maximum of {MAX_COLLATERAL_BPS}",
            p.collateral_bps
        );
    }
    if !(MIN_DRAW_HORIZON_SLOTS..=MAX_DRAW_HORIZON_SLOTS).contains(&p.draw_horizon_slots) {
        bail!(
            "--draw-horizon-slots must be between {MIN_DRAW_HORIZON_SLOTS} and \
             {MAX_DRAW_HORIZON_SLOTS} (SlotHashes keeps 512 slots)"
        );
    }
    if p.max_reassignments > MAX_REASSIGNMENTS {
        bail!("--max-reassignments must be at most {MAX_REASSIGNMENTS}");
    }
    for (name, w) in [
        ("--execution-window", p.execution_window),
        ("--reveal-window", p.reveal_window),
        ("--unbonding-period", p.unbonding_period),
    ] {
        if !(MIN_WINDOW_SECS..=MAX_WINDOW_SECS).contains(&w) {
            bail!("{name} {w} is outside {MIN_WINDOW_SECS}..={MAX_WINDOW_SECS} seconds");
        }
    }
    Ok(())
}

fn create_defaults(decimals: u8) -> MarketParams {
    let unit = 10u64.pow(u32::from(decimals));
    MarketParams {
        fee_bps: 250,
        min_stake: 100 * unit,
        min_collateral: 20 * unit,
        collateral_bps: 10_000,
        execution_window: 900,
        reveal_window: 300,
        unbonding_period: 86_400,
        max_replication: 7,
        draw_horizon_slots: 64,
        max_reassignments: 1,
    }
}

pub async fn run(app: &App, cmd: MarketCmd) -> Result<()> {
    match cmd {
        MarketCmd::Create {
            mint,
            market_id,
            params,
        } => {
            let acc = app
                .client
                .account(&mint)
                .await?
                .with_context(|| format!("mint {mint} not found"))?;
            let decimals = *acc
                .data
                .get(44)
                .with_context(|| format!("{mint} is not a mint"))?;
            let token_program = acc.owner;
            let params = params.apply(create_defaults(decimals), decimals)?;
            let authority = app.identity_key();
            let market = pda::market_address(&authority, market_id);
            if app.client.account(&market).await?.is_some() {
                bail!("market {market_id} of {authority} already exists at {market}; pick another --market-id");
            }
            // The pool is a fresh account (larger than a program may allocate): its one-off
            // keypair signs its creation and is not needed afterwards.
            let pool = solana_sdk::signature::Keypair::new();
            let pool_key = solana_sdk::signature::Signer::pubkey(&pool);
            let rent = app
                .client
                .rpc()
                .get_minimum_balance_for_rent_exemption(concord::state::Pool::SIZE)
                .await?;
            let ixs = vec![
                ix::create_pool_account(&authority, &pool_key, rent),
                ix::create_market(
                    &authority,
                    market_id,
                    &mint,
                    &token_program,
                    &pool_key,
                    params,
                ),
            ];
            let pool_signer = crate::config::SignerSource::Keypair(pool);
            let sent = app
                .sender
                .run(&app.out, ixs, &[&app.identity, &pool_signer])
                .await?;
            report(
                app,
                sent,
                "market created",
                json!({
                    "market": market.to_string(),
                    "vault": pda::vault_address(&market).to_string(),
                    "pool": pool_key.to_string(),
                }),
            );
        }
        MarketCmd::Show => {
            let m = app.market().await?;
            let (vault, expected) = app.client.check_conservation(&m.address).await?;
            let mut v = view::market_json(&m.address, &m.state);
            v["vault_balance"] = json!(format_amount(vault, m.state.mint_decimals));
            v["conservation_holds"] = json!(vault == expected);
            app.out.emit(v.clone(), || view::human("Market", &v));
        }
        MarketCmd::Update { params } => {
            let m = app.market().await?;
            let p = params.apply(m.state.params, m.state.mint_decimals)?;
            let sent = app
                .sender
                .run(&app.out, vec![ix::update_market(&m, p)], &[&app.identity])
                .await?;
            report(
                app,
                sent,
                "market updated",
                json!({"market": m.address.to_string()}),
            );
        }
        MarketCmd::Pause | MarketCmd::Unpause => {
            let paused = matches!(cmd, MarketCmd::Pause);
            let m = app.market().await?;
            let sent = app
                .sender
                .run(&app.out, vec![ix::set_paused(&m, paused)], &[&app.identity])
                .await?;
            report(
                app,
                sent,
                if paused {
                    "market paused"
                } else {
                    "market unpaused"
                },
                json!({"market": m.address.to_string()}),
            );
        }
        MarketCmd::WithdrawTreasury { amount, to } => {
            let m = app.market().await?;
            let raw = if amount == "all" {
                m.state.treasury
            } else {
                parse_amount(&amount, m.state.mint_decimals)?
            };
            if raw == 0 || raw > m.state.treasury {
                bail!(
                    "the treasury holds {}; cannot withdraw {}",
                    format_amount(m.state.treasury, m.state.mint_decimals),
                    format_amount(raw, m.state.mint_decimals)
                );
            }
            let authority = app.identity_key();
            let (dest, mut ixs) = destination(app, &m, &authority, to);
            ixs.push(ix::withdraw_treasury(&m, &dest, raw));
            let sent = app.sender.run(&app.out, ixs, &[&app.identity]).await?;
            report(
                app,
                sent,
                "treasury withdrawn",
                json!({"amount": format_amount(raw, m.state.mint_decimals), "to": dest.to_string()}),
            );
        }
    }
    Ok(())
}

/// `--to`, or the wallet's associated token account (created if needed).
pub fn destination(
    app: &App,
    m: &concord_client::MarketInfo,
    wallet: &Pubkey,
    to: Option<Pubkey>,
) -> (Pubkey, Vec<solana_sdk::instruction::Instruction>) {
    match to {
        Some(t) => (t, vec![]),
        None => (
            m.token_account_of(wallet),
            vec![ix::create_token_account_idempotent(
                &app.sender.fee_payer.pubkey(),
                wallet,
                &m.mint(),
                &m.token_program(),
            )],
        ),
    }
}
