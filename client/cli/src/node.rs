//! `concord node …`

use concord_client::concord;
use std::collections::BTreeSet;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use concord::constants::MAX_GPU_MODEL_LEN;
use concord::state::{Node, NodeStatus};
use concord::NodeSpec;
use concord_client::amount::{format_amount, parse_amount};
use concord_client::ix;
use serde_json::json;
use solana_sdk::pubkey::Pubkey;

use crate::market::destination;
use crate::{report, view, App};

#[derive(Subcommand)]
pub enum NodeCmd {
    /// Register the -k wallet's node with its hardware, an initial stake and its ask; it enters
    /// the draw from the pool's next epoch
    Register {
        #[command(flatten)]
        spec: SpecArgs,
        /// Initial stake, in tokens
        #[arg(long, default_value = "0")]
        stake: String,
        /// Lowest price accepted, in tokens per 10^9 work units
        #[arg(long, default_value = "0")]
        ask: String,
    },
    /// Replace the node's hardware spec
    Update {
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// Add stake, in tokens
    Stake { amount: String },
    /// Set the lowest price the node accepts, in tokens per 10^9 work units (jobs paying less
    /// skip the node in their draw)
    SetAsk { ask: String },
    /// Put the node into the draw (`on`) or take it out (`off`) without unbonding
    Available {
        #[arg(value_enum)]
        switch: Switch,
    },
    /// Start unbonding: out of the draw; stake withdrawable after the unbonding period
    Unbond,
    /// Withdraw stake after unbonding (amount in tokens, or "all")
    WithdrawStake {
        amount: String,
        #[arg(long)]
        to: Option<Pubkey>,
    },
    /// Withdraw earned rewards (amount in tokens, or "all")
    WithdrawEarnings {
        amount: String,
        #[arg(long)]
        to: Option<Pubkey>,
    },
    /// Show a node (default: the -k wallet's)
    Show { operator: Option<Pubkey> },
    /// List the nodes in the market's draw (its pool), and the -k wallet's node
    List,
}

/// `on` or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

#[derive(Args)]
pub struct SpecArgs {
    /// GPU model name (≤ 32 bytes), e.g. "NVIDIA H100 80GB HBM3"
    #[arg(long)]
    gpu_model: String,
    /// GPU memory in MiB (0 for CPU-only nodes)
    #[arg(long, default_value_t = 0)]
    vram_mib: u32,
    /// CUDA compute capability, e.g. 9.0 (0 for CPU-only nodes)
    #[arg(long, default_value = "0.0", value_parser = parse_compute_capability)]
    compute_capability: u16,
    /// Backends offered: cuda, cpu or cuda,cpu
    #[arg(long, default_value = "cpu", value_delimiter = ',')]
    backends: Vec<Backend>,
}

pub use concord_client::spec::{parse_compute_capability, Backend};

impl SpecArgs {
    fn spec(&self) -> Result<NodeSpec> {
        if self.gpu_model.len() > MAX_GPU_MODEL_LEN {
            bail!(
                "--gpu-model is {} bytes; the limit is {MAX_GPU_MODEL_LEN}",
                self.gpu_model.len()
            );
        }
        Ok(NodeSpec {
            gpu_model: self.gpu_model.clone(),
            vram_mib: self.vram_mib,
            compute_capability: self.compute_capability,
            backends: Backend::mask(&self.backends),
        })
    }
}

async fn own_node(app: &App, m: &concord_client::MarketInfo) -> Result<(Pubkey, Node)> {
    let operator = app.identity_key();
    let address = m.node_address(&operator);
    match app.client.account(&address).await? {
        Some(_) => Ok((address, app.client.node(&address).await?)),
        None => bail!(
            "{operator} has no node in market {}: run `concord node register` first",
            m.address
        ),
    }
}

pub async fn run(app: &App, cmd: NodeCmd) -> Result<()> {
    let m = app.market().await?;
    let d = m.state.mint_decimals;
    let operator = app.identity_key();
    match cmd {
        NodeCmd::Register { spec, stake, ask } => {
            let spec = spec.spec()?;
            let stake = parse_amount(&stake, d)?;
            let ask = parse_amount(&ask, d)?;
            let node = m.node_address(&operator);
            if app.client.account(&node).await?.is_some() {
                bail!("{operator} already has a node in this market ({node}); use `concord node update`");
            }
            if m.state.paused {
                bail!("the market is paused: registrations are closed");
            }
            let token = m.token_account_of(&operator);
            if stake > 0 {
                let have = balance(app, &token).await?;
                if have < stake {
                    bail!(
                        "insufficient balance: staking {} but {token} holds {}",
                        format_amount(stake, d),
                        format_amount(have, d)
                    );
                }
            }
            let ixs = vec![
                ix::create_token_account_idempotent(
                    &app.sender.fee_payer.pubkey(),
                    &operator,
                    &m.mint(),
                    &m.token_program(),
                ),
                ix::register_node(&m, &operator, &token, spec, stake, ask),
            ];
            let sent = app.sender.run(&app.out, ixs, &[&app.identity]).await?;
            report(
                app,
                sent,
                "node registered (drawable by jobs created from the pool's next epoch on)",
                json!({"node": node.to_string(), "stake": format_amount(stake, d), "ask": format_amount(ask, d)}),
            );
        }
        NodeCmd::Update { spec } => {
            let (node, _) = own_node(app, &m).await?;
            let sent = app
                .sender
                .run(
                    &app.out,
                    vec![ix::update_node(&m, &operator, spec.spec()?)],
                    &[&app.identity],
                )
                .await?;
            report(app, sent, "node updated", json!({"node": node.to_string()}));
        }
        NodeCmd::Stake { amount } => {
            let (node, n) = own_node(app, &m).await?;
            let raw = parse_amount(&amount, d)?;
            if raw == 0 {
                bail!("the amount must be positive");
            }
            let token = m.token_account_of(&operator);
            let have = balance(app, &token).await?;
            if have < raw {
                bail!(
                    "insufficient balance: staking {} but {token} holds {}",
                    format_amount(raw, d),
                    format_amount(have, d)
                );
            }
            let sent = app
                .sender
                .run(
                    &app.out,
                    vec![ix::deposit_stake(&m, &operator, &token, raw)],
                    &[&app.identity],
                )
                .await?;
            report(
                app,
                sent,
                "stake deposited",
                json!({"node": node.to_string(), "stake": format_amount(n.stake + raw, d)}),
            );
        }
        NodeCmd::SetAsk { ask } => {
            let (node, _) = own_node(app, &m).await?;
            let raw = parse_amount(&ask, d)?;
            let sent = app
                .sender
                .run(
                    &app.out,
                    vec![ix::set_ask(&m, &operator, raw)],
                    &[&app.identity],
                )
                .await?;
            report(
                app,
                sent,
                "ask set",
                json!({"node": node.to_string(), "ask_per_1e9_work_units": format_amount(raw, d)}),
            );
        }
        NodeCmd::Available { switch } => {
            let (node, n) = own_node(app, &m).await?;
            let on = switch == Switch::On;
            if on && !n.is_active() {
                bail!("the node is unbonding: it cannot enter the draw again");
            }
            let sent = app
                .sender
                .run(
                    &app.out,
                    vec![ix::set_available(&m, &operator, on)],
                    &[&app.identity],
                )
                .await?;
            report(
                app,
                sent,
                if on {
                    "node available: in the draw from the pool's next epoch"
                } else {
                    "node out of the draw (seats it holds must still be served)"
                },
                json!({"node": node.to_string(), "available": on}),
            );
        }
        NodeCmd::Unbond => {
            let (node, n) = own_node(app, &m).await?;
            if !n.is_active() {
                bail!("the node is already unbonding");
            }
            let sent = app
                .sender
                .run(
                    &app.out,
                    vec![ix::request_unbond(&m, &operator)],
                    &[&app.identity],
                )
                .await?;
            report(
                app,
                sent,
                "unbonding started",
                json!({"node": node.to_string(), "unbonding_period_secs": m.state.params.unbonding_period}),
            );
        }
        NodeCmd::WithdrawStake { amount, to } => {
            let (node, n) = own_node(app, &m).await?;
            let raw = if amount == "all" {
                n.stake
            } else {
                parse_amount(&amount, d)?
            };
            match n.status {
                NodeStatus::Active => bail!("stake can be withdrawn only after `concord node unbond` and the unbonding period"),
                NodeStatus::Unbonding { withdrawable_at, .. } => {
                    let now = app.client.clock().await?.unix_timestamp;
                    if now < withdrawable_at {
                        bail!("the unbonding period ends in {} s", withdrawable_at - now);
                    }
                }
            }
            if n.active_seats > 0 {
                bail!(
                    "the node still holds {} seat(s); wait until their jobs settle",
                    n.active_seats
                );
            }
            if raw == 0 || raw > n.stake {
                bail!(
                    "the node's stake is {}; cannot withdraw {}",
                    format_amount(n.stake, d),
                    format_amount(raw, d)
                );
            }
            let (dest, mut ixs) = destination(app, &m, &operator, to);
            ixs.push(ix::withdraw_stake(&m, &operator, &dest, raw));
            let sent = app.sender.run(&app.out, ixs, &[&app.identity]).await?;
            report(
                app,
                sent,
                "stake withdrawn",
                json!({"node": node.to_string(), "amount": format_amount(raw, d), "to": dest.to_string()}),
            );
        }
        NodeCmd::WithdrawEarnings { amount, to } => {
            let (node, n) = own_node(app, &m).await?;
            let raw = if amount == "all" {
                n.earnings
            } else {
                parse_amount(&amount, d)?
            };
            if raw == 0 || raw > n.earnings {
                bail!(
                    "the node's earnings are {}; cannot withdraw {}",
                    format_amount(n.earnings, d),
                    format_amount(raw, d)
                );
            }
            let (dest, mut ixs) = destination(app, &m, &operator, to);
            ixs.push(ix::withdraw_earnings(&m, &operator, &dest, raw));
            let sent = app.sender.run(&app.out, ixs, &[&app.identity]).await?;
            report(
                app,
                sent,
                "earnings withdrawn",
                json!({"node": node.to_string(), "amount": format_amount(raw, d), "to": dest.to_string()}),
            );
        }
        NodeCmd::Show { operator: who } => {
            let who = who.unwrap_or(operator);
            let address = m.node_address(&who);
            if app.client.account(&address).await?.is_none() {
                bail!("{who} has no node in market {}", m.address);
            }
            let v = view::node_json(&address, &app.client.node(&address).await?, d);
            app.out.emit(v.clone(), || view::human("Node", &v));
        }
        NodeCmd::List => {
            // The pool indexes every node in the draw; the -k wallet's node is added.
            let pool = app.client.pool(&m).await?;
            let mut seen: BTreeSet<Pubkey> = pool
                .entries
                .iter()
                .filter(|e| e.is_live())
                .map(|e| e.node)
                .collect();
            seen.insert(m.node_address(&operator));
            let addrs: Vec<Pubkey> = seen.into_iter().collect();
            let nodes = app
                .client
                .accounts_batch::<Node>(&addrs, "Concord node")
                .await?;
            let list: Vec<_> = addrs
                .iter()
                .zip(nodes)
                .filter_map(|(a, n)| n.map(|n| view::node_json(a, &n, d)))
                .collect();
            app.out.emit(json!(list), || {
                let mut s = format!(
                    "{:<44} {:<24} {:>12} {:>10} {:>6} {:>6} {:>6}\n",
                    "node", "gpu", "stake", "ask", "draw", "agreed", "missed"
                );
                for v in &list {
                    s.push_str(&format!(
                        "{:<44} {:<24} {:>12} {:>10} {:>6} {:>6} {:>6}\n",
                        v["address"].as_str().unwrap_or_default(),
                        v["gpu_model"].as_str().unwrap_or_default(),
                        v["stake"].as_str().unwrap_or_default(),
                        v["ask"].as_str().unwrap_or_default(),
                        if v["in_draw"] == true { "in" } else { "out" },
                        v["agreed"],
                        v["missed"]
                    ));
                }
                s
            });
        }
    }
    Ok(())
}

pub async fn balance(app: &App, token: &Pubkey) -> Result<u64> {
    Ok(match app.client.account(token).await? {
        Some(_) => app.client.token_balance(token).await?,
        None => 0,
    })
}
