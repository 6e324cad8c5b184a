//! Solana JSON-RPC over the embedded bank. Parameters are parsed into the Solana crates' own
//! config types and answers are their own response types, so every client parses them unchanged;
//! errors carry agave's codes and messages (`jsonrpc_core::Error`, `RpcCustomError`). See
//! [`METHODS`] and [`UNSUPPORTED`] for what is served.

pub(crate) mod accounts;
mod ledger;
mod transactions;

use std::sync::Arc;

use jsonrpc_core::{Error, ErrorCode, Params};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use solana_rpc_client_api::config::RpcContextConfig;
use solana_rpc_client_api::custom_error::RpcCustomError;
use solana_rpc_client_api::response::{Response, RpcResponseContext};
use solana_runtime::bank::Bank;
use solana_sdk::hash::Hash;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;

use crate::chain::Chain;

/// Methods this server implements.
pub const METHODS: &[&str] = &[
    // accounts
    "getAccountInfo",
    "getMultipleAccounts",
    "getBalance",
    "getProgramAccounts",
    "getTokenAccountsByOwner",
    "getTokenAccountsByDelegate",
    "getTokenAccountBalance",
    "getTokenSupply",
    "getTokenLargestAccounts",
    "getMinimumBalanceForRentExemption",
    // transactions
    "sendTransaction",
    "simulateTransaction",
    "requestAirdrop",
    "getSignatureStatuses",
    "getTransaction",
    "getSignaturesForAddress",
    "getLatestBlockhash",
    "isBlockhashValid",
    "getFeeForMessage",
    "getRecentPrioritizationFees",
    // ledger and cluster
    "getSlot",
    "getBlockHeight",
    "getBlock",
    "getBlocks",
    "getBlocksWithLimit",
    "getBlockTime",
    "getFirstAvailableBlock",
    "minimumLedgerSlot",
    "getTransactionCount",
    "getEpochInfo",
    "getEpochSchedule",
    "getGenesisHash",
    "getHealth",
    "getVersion",
    "getIdentity",
    "getClusterNodes",
    "getSlotLeader",
    "getInflationReward",
    "getMaxRetransmitSlot",
    "getMaxShredInsertSlot",
    "getHighestSnapshotSlot",
];

/// Methods a single-node development network answers with -32601 (method not found), and why.
pub const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "getLeaderSchedule",
        "one node leads every slot; there is no schedule to show",
    ),
    ("getSlotLeaders", "one node leads every slot"),
    (
        "getVoteAccounts",
        "there is no voting: every slot is final when it is produced",
    ),
    ("getBlockProduction", "one node produces every block"),
    ("getBlockCommitment", "there is no vote-based commitment"),
    ("getStakeMinimumDelegation", "staking is not simulated"),
    ("getInflationGovernor", "inflation is not simulated"),
    ("getInflationRate", "inflation is not simulated"),
    ("getSupply", "the supply is not tracked by an index"),
    (
        "getLargestAccounts",
        "there is no account index to rank by balance",
    ),
    ("getRecentPerformanceSamples", "no performance sampling"),
    ("getStakeActivation", "staking is not simulated"),
    ("blockSubscribe", "unstable in agave too; use getBlock"),
    ("voteSubscribe", "there is no voting"),
    (
        "slotsUpdatesSubscribe",
        "unstable in agave too; use slotSubscribe",
    ),
];

/// The server's answer to one call.
pub type RpcResult = Result<Value, Error>;

pub fn invalid_params(message: impl Into<String>) -> Error {
    Error::invalid_params(message)
}

pub fn internal(message: impl std::fmt::Display) -> Error {
    Error {
        code: ErrorCode::InternalError,
        message: format!("Internal error: {message}"),
        data: None,
    }
}

pub fn custom(e: RpcCustomError) -> Error {
    e.into()
}

/// Parses positional `params` as agave's method signatures do: a tuple whose trailing options
/// may be left out.
pub fn args<T: DeserializeOwned>(params: &Value, arity: usize) -> Result<T, Error> {
    let padded = match params {
        Value::Array(a) if a.len() < arity => {
            let mut a = a.clone();
            a.resize(arity, Value::Null);
            Value::Array(a)
        }
        Value::Null => Value::Array(vec![Value::Null; arity]),
        other => other.clone(),
    };
    let params: Params = serde_json::from_value(padded)
        .map_err(|_| invalid_params("Invalid params: expected an array of parameters"))?;
    params.parse()
}

pub fn verify_pubkey(s: &str) -> Result<Pubkey, Error> {
    s.parse()
        .map_err(|e| invalid_params(format!("Invalid param: {e:?}")))
}

pub fn verify_signature(s: &str) -> Result<Signature, Error> {
    s.parse()
        .map_err(|e| invalid_params(format!("Invalid param: {e:?}")))
}

pub fn verify_hash(s: &str) -> Result<Hash, Error> {
    s.parse()
        .map_err(|e| invalid_params(format!("Invalid param: {e:?}")))
}

/// Parses a list parameter of at most `max` items with `verify`, refusing a longer one with
/// agave's message.
pub fn verify_list<T>(
    items: &[String],
    max: usize,
    verify: fn(&str) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    if items.len() > max {
        return Err(invalid_params(format!(
            "Too many inputs provided; max {max}"
        )));
    }
    items.iter().map(|s| verify(s)).collect()
}

pub fn to_value<T: serde::Serialize>(v: T) -> RpcResult {
    serde_json::to_value(v).map_err(internal)
}

pub struct Rpc {
    pub chain: Arc<Chain>,
    /// Where this server and its PubSub server listen (`getClusterNodes`).
    pub rpc_addr: Option<std::net::SocketAddr>,
    pub pubsub_addr: Option<std::net::SocketAddr>,
}

impl Rpc {
    /// The bank to answer from. Every commitment level reads the working bank: on a single node,
    /// a processed transaction is final. `minContextSlot` is honoured as a validator does.
    pub fn bank(&self, config: Option<RpcContextConfig>) -> Result<Arc<Bank>, Error> {
        let bank = self.chain.bank();
        if let Some(min) = config.and_then(|c| c.min_context_slot) {
            if bank.slot() < min {
                return Err(custom(RpcCustomError::MinContextSlotNotReached {
                    context_slot: bank.slot(),
                }));
            }
        }
        Ok(bank)
    }

    pub fn respond<T: serde::Serialize>(bank: &Bank, value: T) -> RpcResult {
        to_value(Response {
            context: RpcResponseContext::new(bank.slot()),
            value,
        })
    }

    /// Answers one method call.
    pub async fn call(self: &Arc<Self>, method: &str, params: Value) -> RpcResult {
        match method {
            "sendTransaction" => return self.send_transaction(params).await,
            "simulateTransaction" => return self.simulate_transaction(params).await,
            "requestAirdrop" => return self.request_airdrop(params).await,
            _ => {}
        }
        // Everything else reads: answer off the async workers, so a slow scan stalls no one.
        let rpc = Arc::clone(self);
        let method = method.to_owned();
        tokio::task::spawn_blocking(move || rpc.read(&method, &params))
            .await
            .unwrap_or_else(|e| Err(internal(format!("the request handler failed: {e}"))))
    }

    fn read(&self, method: &str, p: &Value) -> RpcResult {
        match method {
            "getAccountInfo" => self.get_account_info(p),
            "getMultipleAccounts" => self.get_multiple_accounts(p),
            "getBalance" => self.get_balance(p),
            "getProgramAccounts" => self.get_program_accounts(p),
            "getTokenAccountsByOwner" => self.get_token_accounts_by(p, accounts::By::Owner),
            "getTokenAccountsByDelegate" => self.get_token_accounts_by(p, accounts::By::Delegate),
            "getTokenAccountBalance" => self.get_token_account_balance(p),
            "getTokenSupply" => self.get_token_supply(p),
            "getTokenLargestAccounts" => self.get_token_largest_accounts(p),
            "getMinimumBalanceForRentExemption" => self.get_minimum_balance(p),
            "getSignatureStatuses" => self.get_signature_statuses(p),
            "getTransaction" => self.get_transaction(p),
            "getSignaturesForAddress" => self.get_signatures_for_address(p),
            "getLatestBlockhash" => self.get_latest_blockhash(p),
            "isBlockhashValid" => self.is_blockhash_valid(p),
            "getFeeForMessage" => self.get_fee_for_message(p),
            "getRecentPrioritizationFees" => self.get_recent_prioritization_fees(p),
            "getSlot" => self.get_slot(p),
            "getBlockHeight" => self.get_block_height(p),
            "getBlock" => self.get_block(p),
            "getBlocks" => self.get_blocks(p, false),
            "getBlocksWithLimit" => self.get_blocks(p, true),
            "getBlockTime" => self.get_block_time(p),
            "getFirstAvailableBlock" | "minimumLedgerSlot" => self.first_available_block(),
            "getTransactionCount" => self.get_transaction_count(p),
            "getEpochInfo" => self.get_epoch_info(p),
            "getEpochSchedule" => to_value(self.chain.bank().epoch_schedule().clone()),
            "getGenesisHash" => to_value(self.chain.genesis_hash.to_string()),
            "getHealth" => to_value("ok"),
            "getVersion" => self.get_version(),
            "getIdentity" => self.get_identity(),
            "getClusterNodes" => self.get_cluster_nodes(),
            "getSlotLeader" => to_value(self.identity().to_string()),
            "getInflationReward" => self.get_inflation_reward(p),
            "getMaxRetransmitSlot" | "getMaxShredInsertSlot" => to_value(self.chain.slot()),
            "getHighestSnapshotSlot" => Err(custom(RpcCustomError::NoSnapshot)),
            _ => Err(Error::method_not_found()),
        }
    }
}

/// The JSON-RPC 2.0 envelope for one request object.
pub async fn handle(rpc: &Arc<Rpc>, request: Value) -> Value {
    let id = match request.get("id") {
        Some(id @ (Value::Null | Value::Number(_) | Value::String(_))) => id.clone(),
        _ => Value::Null,
    };
    let (Some("2.0"), Some(method)) = (
        request.get("jsonrpc").and_then(Value::as_str),
        request.get("method").and_then(Value::as_str),
    ) else {
        return error_response(id, Error::invalid_request());
    };
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    if !matches!(params, Value::Array(_) | Value::Object(_) | Value::Null) {
        return error_response(
            id,
            Error::invalid_params("Invalid params: expected an array"),
        );
    }
    match rpc.call(method, params).await {
        Ok(result) => json!({"jsonrpc": "2.0", "result": result, "id": id}),
        Err(e) => error_response(id, e),
    }
}

pub fn error_response(id: Value, error: Error) -> Value {
    json!({"jsonrpc": "2.0", "error": error, "id": id})
}
