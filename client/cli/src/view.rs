//! JSON and human renderings of Concord accounts.

use concord::constants::{BACKEND_CPU, BACKEND_CUDA};
use concord::state::{Job, Market, Node, NodeStatus};
use concord_client::amount::format_amount;
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
        "next_job_id": m.next_job_id,
        "paused": m.paused,
        "treasury": format_amount(m.treasury, d),
        "total_stake": format_amount(m.total_stake, d),
        "total_earnings": format_amount(m.total_earnings, d),
        "total_escrow": format_amount(m.total_escrow, d),
        "nodes": m.node_count,
        "fee_bps": p.fee_bps,
        "min_stake": format_amount(p.min_stake, d),
        "collateral_per_slot": format_amount(p.collateral_per_slot, d),
        "claim_window_secs": p.claim_window,
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
        "active_slots": n.active_slots,
        "gpu_model": n.spec.gpu_model,
        "vram_mib": n.spec.vram_mib,
        "compute_capability": format!("{}.{}", n.spec.compute_capability / 10, n.spec.compute_capability % 10),
        "backends": backends(n.spec.backends),
        "claimed": n.claimed,
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
        "fee": format_amount(j.fee, decimals),
        "escrow": format_amount(j.escrow, decimals),
        "claim_deadline": j.claim_deadline,
        "commit_deadline": j.commit_deadline,
        "reveal_deadline": j.reveal_deadline,
        "accepted_digest": j.accepted_digest.map(hex::encode),
        "slots": j.slots.iter().map(|s| json!({
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
