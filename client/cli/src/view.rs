//! JSON and human renderings of Concord accounts.

use concord::constants::{BACKEND_CPU, BACKEND_CUDA};
use concord::state::{Job, Market, Node, NodeStatus};
use concord_client::amount::format_amount;
use concord_client::concord;
use concord_client::Kernel;
use serde_json::{json, Value};
use solana_sdk::pubkey::Pubkey;

pub fn backends(mask: u8) -> String {
    let mut v = vec![];
    if mask & BACKEND_CUDA != 0 {
        v.push("cuda");
    }
    if mask & BACKEND_CPU != 0 {
        v.push("cpu");
    }
    v.join(",")
}

pub fn market_json(address: &Pubkey, m: &Market) -> Value {
    let d = m.mint_decimals;
    let p = &m.params;
    json!({
        "address": address.to_string(),
        "authority": m.authority.to_string(),
        "market_id": m.market_id,
        "mint": m.mint.to_string(),
        "decimals": d,
        "token_program": m.token_program.to_string(),
        "vault": m.vault.to_string(),
        "pool": m.pool.to_string(),
        "next_job_id": m.next_job_id,
        "paused": m.paused,
        "treasury": format_amount(m.treasury, d),
        "total_stake": format_amount(m.total_stake, d),
        "total_earnings": format_amount(m.total_earnings, d),
        "total_escrow": format_amount(m.total_escrow, d),
        "nodes": m.node_count,
        "fee_bps": p.fee_bps,
        "min_stake": format_amount(p.min_stake, d),
        "min_collateral": format_amount(p.min_collateral, d),
        "collateral_bps": p.collateral_bps,
        "draw_horizon_slots": p.draw_horizon_slots,
        "max_reassignments": p.max_reassignments,
        "execution_window_secs": p.execution_window,
        "reveal_window_secs": p.reveal_window,
        "unbonding_period_secs": p.unbonding_period,
        "max_replication": p.max_replication,
    })
}

pub fn node_json(address: &Pubkey, n: &Node, decimals: u8) -> Value {
    let status = match n.status {
        NodeStatus::Active => json!("active"),
        NodeStatus::Unbonding {
            since,
            withdrawable_at,
        } => {
            json!({"unbonding": {"since": since, "withdrawable_at": withdrawable_at}})
        }
    };
    json!({
        "address": address.to_string(),
        "operator": n.operator.to_string(),
        "market": n.market.to_string(),
        "status": status,
        "stake": format_amount(n.stake, decimals),
        "locked_collateral": format_amount(n.locked_collateral, decimals),
        "earnings": format_amount(n.earnings, decimals),
        "active_seats": n.active_seats,
        "available": n.available,
        "in_draw": n.in_draw(),
        "ask": format_amount(n.ask, decimals),
        "gpu_model": n.spec.gpu_model,
        "vram_mib": n.spec.vram_mib,
        "compute_capability": format!("{}.{}", n.spec.compute_capability / 10, n.spec.compute_capability % 10),
        "backends": backends(n.spec.backends),
        "drawn": n.assigned,
        "agreed": n.agreed,
        "dissented": n.dissented,
        "missed": n.missed,
    })
}

pub fn job_json(address: &Pubkey, j: &Job, decimals: u8) -> Value {
    let kernel = Kernel::from_id(j.kernel)
        .map(|k| k.name().to_string())
        .unwrap_or_else(|| j.kernel.to_string());
    json!({
        "address": address.to_string(),
        "job_id": j.job_id,
        "buyer": j.buyer.to_string(),
        "state": format!("{:?}", j.state),
        "kernel": kernel,
        "params_hex": hex::encode(&j.params),
        "input_uri": j.input_uri,
        "input_digest": hex::encode(j.input_digest),
        "replication": j.replication,
        "quorum": j.quorum,
        "reward_per_worker": format_amount(j.reward_per_worker, decimals),
        "work_units": j.work_units,
        "price_per_1e9_work_units": format_amount(j.price, decimals),
        "fee_bps": j.fee_bps,
        "fee": format_amount(j.fee, decimals),
        "escrow": format_amount(j.escrow, decimals),
        "collateral_per_seat": format_amount(j.collateral_per_seat, decimals),
        "requirements": json!({
            "min_vram_mib": j.requirements.min_vram_mib,
            "min_compute_capability": j.requirements.min_compute_capability,
            "backends": backends(j.requirements.backends),
            "min_agreed": j.requirements.min_agreed,
            "max_fault_bps": j.requirements.max_fault_bps,
        }).to_string(),
        "created_slot": j.created_slot,
        "draw_deadline_slot": j.created_slot + j.draw_horizon_slots,
        "drawn_slot": (j.drawn_slot != 0).then_some(j.drawn_slot),
        "seed": (j.seed != [0; 32]).then(|| hex::encode(j.seed)),
        "commit_deadline": j.commit_deadline,
        "reveal_deadline": j.reveal_deadline,
        "reassignments": j.reassignments,
        "accepted_digest": j.accepted_digest.map(hex::encode),
        "backups": j.backups.iter().map(|b| b.to_string()).collect::<Vec<_>>(),
        "seats": j.seats.iter().map(|s| json!({
            "node": s.node.to_string(),
            "status": format!("{:?}", s.status),
            "digest": (s.digest != [0; 32]).then(|| hex::encode(s.digest)),
            "output_uri": (!s.output_uri.is_empty()).then(|| s.output_uri.clone()),
        })).collect::<Vec<_>>(),
    })
}

/// `key value` lines of a flat JSON object (nested values as JSON).
pub fn human(title: &str, v: &Value) -> String {
    let mut s = format!("{title}\n");
    if let Some(obj) = v.as_object() {
        for (k, val) in obj {
            let text = match val {
                Value::String(x) => x.clone(),
                Value::Null => "-".into(),
                Value::Array(items) => {
                    let mut t = String::new();
                    for (i, it) in items.iter().enumerate() {
                        t.push_str(&format!("\n    [{i}] {it}"));
                    }
                    if t.is_empty() {
                        "[]".into()
                    } else {
                        t
                    }
                }
                other => other.to_string(),
            };
            s.push_str(&format!("  {k:<24} {text}\n"));
        }
    }
    s
}
