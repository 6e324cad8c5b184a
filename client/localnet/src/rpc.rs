//! Solana JSON-RPC methods over the embedded bank, answered with the Solana crates' own response
//! types so that `RpcClient` and other clients parse them unchanged.

use std::sync::Arc;

use base64::Engine;
use serde_json::{json, Value};
use solana_account_decoder::encode_ui_account;
use solana_account_decoder_client_types::{
    token::UiTokenAmount, UiAccountEncoding, UiDataSliceConfig,
};
use solana_program_test::BanksClientError;
use solana_rpc_client_api::custom_error::{
    JSON_RPC_SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
    JSON_RPC_SERVER_ERROR_TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
};
use solana_rpc_client_api::response::{
    Response, RpcBlockhash, RpcResponseContext, RpcSimulateTransactionResult, RpcVersionInfo,
};
use solana_sdk::hash::Hash;
use solana_sdk::message::Message;
use solana_sdk::program_pack::Pack;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Signature, Signer};
use solana_sdk::transaction::{Transaction, TransactionError, VersionedTransaction};
use solana_transaction_status_client_types::{
    TransactionConfirmationStatus, TransactionStatus, UiTransactionError,
};

use crate::chain::Chain;

/// Methods this server implements (anything else is "Method not found").
pub const METHODS: &[&str] = &[
    "getAccountInfo",
    "getMultipleAccounts",
    "getBalance",
    "getLatestBlockhash",
    "isBlockhashValid",
    "getFeeForMessage",
    "sendTransaction",
    "simulateTransaction",
    "getSignatureStatuses",
    "getSlot",
    "getBlockHeight",
    "getMinimumBalanceForRentExemption",
    "getTokenAccountBalance",
    "getHealth",
    "getVersion",
    "getGenesisHash",
    "requestAirdrop",
];

/// A JSON-RPC error object.
#[derive(Debug)]
pub struct RpcErr {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcErr {
    fn params(msg: impl Into<String>) -> Self {
        RpcErr {
            code: -32602,
            message: format!("Invalid params: {}", msg.into()),
            data: None,
        }
    }
    fn internal(msg: impl std::fmt::Display) -> Self {
        RpcErr {
            code: -32603,
            message: format!("Internal error: {msg}"),
            data: None,
        }
    }
}

type RpcResult = Result<Value, RpcErr>;

pub struct Rpc {
    pub chain: Arc<Chain>,
}

fn param(params: &Value, i: usize) -> Option<&Value> {
    params
        .as_array()
        .and_then(|a| a.get(i))
        .filter(|v| !v.is_null())
}

fn pubkey_param(params: &Value, i: usize) -> Result<Pubkey, RpcErr> {
    param(params, i)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcErr::params(format!("expected a base-58 pubkey at position {i}")))?
        .parse()
        .map_err(|_| RpcErr::params("invalid pubkey"))
}

fn config(params: &Value, i: usize) -> &Value {
    static NULL: Value = Value::Null;
    param(params, i).unwrap_or(&NULL)
}

fn to_value<T: serde::Serialize>(v: T) -> RpcResult {
    serde_json::to_value(v).map_err(RpcErr::internal)
}

impl Rpc {
    fn context(&self) -> RpcResponseContext {
        RpcResponseContext::new(self.chain.slot())
    }

    fn with_context<T: serde::Serialize>(&self, value: T) -> RpcResult {
        to_value(Response {
            context: self.context(),
            value,
        })
    }

    pub async fn call(&self, method: &str, params: &Value) -> RpcResult {
        let _shared = self.chain.gate.read().await;
        match method {
            "getAccountInfo" => self.get_account_info(params).await,
            "getMultipleAccounts" => self.get_multiple_accounts(params).await,
            "getBalance" => {
                let key = pubkey_param(params, 0)?;
                let lamports = self
                    .chain
                    .banks
                    .get_balance(key)
                    .await
                    .map_err(RpcErr::internal)?;
                self.with_context(lamports)
            }
            "getLatestBlockhash" => {
                let (hash, last_valid) = self.latest_blockhash().await?;
                self.with_context(RpcBlockhash {
                    blockhash: hash.to_string(),
                    last_valid_block_height: last_valid,
                })
            }
            "isBlockhashValid" => {
                let hash: Hash = param(params, 0)
                    .and_then(Value::as_str)
                    .ok_or_else(|| RpcErr::params("expected a blockhash"))?
                    .parse()
                    .map_err(|_| RpcErr::params("invalid blockhash"))?;
                let valid = self
                    .fee_for(Message::new_with_blockhash(
                        &[],
                        Some(&self.chain.faucet.pubkey()),
                        &hash,
                    ))
                    .await?
                    .is_some();
                self.with_context(valid)
            }
            "getFeeForMessage" => {
                let b64 = param(params, 0)
                    .and_then(Value::as_str)
                    .ok_or_else(|| RpcErr::params("expected a base64 message"))?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| RpcErr::params("message is not base64"))?;
                let msg: solana_sdk::message::VersionedMessage =
                    bincode::deserialize(&bytes).map_err(|_| RpcErr::params("invalid message"))?;
                let legacy = match msg {
                    solana_sdk::message::VersionedMessage::Legacy(m) => m,
                    _ => return Err(RpcErr::params("only legacy messages are supported")),
                };
                self.with_context(self.fee_for(legacy).await?)
            }
            "sendTransaction" => self.send_transaction(params).await,
            "simulateTransaction" => self.simulate_transaction(params).await,
            "getSignatureStatuses" => self.signature_statuses(params).await,
            "getSlot" => to_value(self.chain.slot()),
            "getBlockHeight" => to_value(
                self.chain
                    .banks
                    .get_root_block_height()
                    .await
                    .map_err(RpcErr::internal)?,
            ),
            "getMinimumBalanceForRentExemption" => {
                let len = param(params, 0)
                    .and_then(Value::as_u64)
                    .ok_or_else(|| RpcErr::params("expected a data length"))?;
                let rent = self
                    .chain
                    .banks
                    .get_rent()
                    .await
                    .map_err(RpcErr::internal)?;
                to_value(rent.minimum_balance(len as usize))
            }
            "getTokenAccountBalance" => self.token_account_balance(params).await,
            "getHealth" => to_value("ok"),
            "getVersion" => to_value(RpcVersionInfo {
                solana_core: "3.1.12".into(),
                feature_set: None,
            }),
            "getGenesisHash" => to_value(self.chain.genesis_hash.to_string()),
            "requestAirdrop" => self.request_airdrop(params).await,
            _ => Err(RpcErr {
                code: -32601,
                message: "Method not found".into(),
                data: None,
            }),
        }
    }

    async fn latest_blockhash(&self) -> Result<(Hash, u64), RpcErr> {
        let hash = self
            .chain
            .banks
            .get_latest_blockhash()
            .await
            .map_err(RpcErr::internal)?;
        let height = self
            .chain
            .banks
            .get_root_block_height()
            .await
            .map_err(RpcErr::internal)?;
        Ok((hash, height + 150))
    }

    async fn fee_for(&self, message: Message) -> Result<Option<u64>, RpcErr> {
        self.chain
            .banks
            .get_fee_for_message(message)
            .await
            .map_err(RpcErr::internal)
    }

    async fn encode_account(
        &self,
        key: &Pubkey,
        cfg: &Value,
    ) -> Result<Option<solana_account_decoder_client_types::UiAccount>, RpcErr> {
        let encoding: UiAccountEncoding = match cfg.get("encoding").filter(|v| !v.is_null()) {
            Some(e) => {
                serde_json::from_value(e.clone()).map_err(|_| RpcErr::params("unknown encoding"))?
            }
            None => UiAccountEncoding::Binary,
        };
        if encoding == UiAccountEncoding::JsonParsed {
            return Err(RpcErr::params("jsonParsed is not supported; use base64"));
        }
        let slice: Option<UiDataSliceConfig> = match cfg.get("dataSlice").filter(|v| !v.is_null()) {
            Some(s) => Some(
                serde_json::from_value(s.clone())
                    .map_err(|_| RpcErr::params("invalid dataSlice"))?,
            ),
            None => None,
        };
        let account = self
            .chain
            .banks
            .get_account(*key)
            .await
            .map_err(RpcErr::internal)?;
        Ok(account.map(|a| encode_ui_account(key, &a, encoding, None, slice)))
    }

    async fn get_account_info(&self, params: &Value) -> RpcResult {
        let key = pubkey_param(params, 0)?;
        let account = self.encode_account(&key, config(params, 1)).await?;
        self.with_context(account)
    }

    async fn get_multiple_accounts(&self, params: &Value) -> RpcResult {
        let keys = param(params, 0)
            .and_then(Value::as_array)
            .ok_or_else(|| RpcErr::params("expected an array of pubkeys"))?;
        if keys.len() > 100 {
            return Err(RpcErr::params(
                "too many accounts requested; the maximum is 100",
            ));
        }
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            let key: Pubkey = k
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| RpcErr::params("invalid pubkey"))?;
            out.push(self.encode_account(&key, config(params, 1)).await?);
        }
        self.with_context(out)
    }

    fn decode_transaction(&self, params: &Value) -> Result<VersionedTransaction, RpcErr> {
        let text = param(params, 0)
            .and_then(Value::as_str)
            .ok_or_else(|| RpcErr::params("expected an encoded transaction"))?;
        let encoding = config(params, 1)
            .get("encoding")
            .and_then(Value::as_str)
            .unwrap_or("base58");
        let bytes = match encoding {
            "base64" => base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| RpcErr::params("transaction is not valid base64"))?,
            "base58" => bs58::decode(text)
                .into_vec()
                .map_err(|_| RpcErr::params("transaction is not valid base58"))?,
            other => return Err(RpcErr::params(format!("unsupported encoding {other}"))),
        };
        bincode::deserialize(&bytes)
            .map_err(|_| RpcErr::params("failed to deserialize the transaction"))
    }

    async fn simulation(
        &self,
        tx: VersionedTransaction,
    ) -> Result<RpcSimulateTransactionResult, RpcErr> {
        let res = self
            .chain
            .banks
            .simulate_transaction(tx)
            .await
            .map_err(RpcErr::internal)?;
        let details = res.simulation_details;
        Ok(RpcSimulateTransactionResult {
            err: res
                .result
                .and_then(|r| r.err())
                .map(UiTransactionError::from),
            logs: details.as_ref().map(|d| d.logs.clone()),
            units_consumed: details.as_ref().map(|d| d.units_consumed),
            loaded_accounts_data_size: details.as_ref().map(|d| d.loaded_accounts_data_size),
            ..simulation_result(None)
        })
    }

    async fn simulate_transaction(&self, params: &Value) -> RpcResult {
        let mut tx = self.decode_transaction(params)?;
        let cfg = config(params, 1);
        if cfg.get("replaceRecentBlockhash").and_then(Value::as_bool) == Some(true) {
            let (hash, _) = self.latest_blockhash().await?;
            tx.message.set_recent_blockhash(hash);
        }
        let sim = self.simulation(tx).await?;
        self.with_context(sim)
    }

    async fn send_transaction(&self, params: &Value) -> RpcResult {
        let tx = self.decode_transaction(params)?;
        if tx.verify_with_results().iter().any(|ok| !ok) {
            return Err(RpcErr {
                code: JSON_RPC_SERVER_ERROR_TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
                message: "Transaction signature verification failure".into(),
                data: None,
            });
        }
        let signature = tx.signatures[0];
        let skip_preflight = config(params, 1)
            .get("skipPreflight")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !skip_preflight {
            let sim = self.simulation(tx.clone()).await?;
            if let Some(err) = &sim.err {
                return Err(preflight_failure(err.to_string(), sim));
            }
        }
        match self.chain.banks.process_transaction(tx.clone()).await {
            Ok(()) => {}
            Err(
                BanksClientError::TransactionError(e)
                | BanksClientError::SimulationError { err: e, .. },
            ) => {
                // An executed-but-failed transaction is on chain (fee paid, status recorded) and
                // its signature is returned, as a validator does. One that never executed is not.
                let landed = self
                    .chain
                    .banks
                    .get_transaction_status(signature)
                    .await
                    .map_err(RpcErr::internal)?
                    .is_some();
                if !landed {
                    let sim = self
                        .simulation(tx)
                        .await
                        .unwrap_or_else(|_| simulation_result(Some(e.clone())));
                    return Err(preflight_failure(e.to_string(), sim));
                }
            }
            Err(e) => return Err(RpcErr::internal(e)),
        }
        to_value(signature.to_string())
    }

    async fn signature_statuses(&self, params: &Value) -> RpcResult {
        let sigs = param(params, 0)
            .and_then(Value::as_array)
            .ok_or_else(|| RpcErr::params("expected an array of signatures"))?;
        if sigs.len() > 256 {
            return Err(RpcErr::params("too many signatures; the maximum is 256"));
        }
        let mut out: Vec<Option<TransactionStatus>> = Vec::with_capacity(sigs.len());
        for s in sigs {
            let sig: Signature = s
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| RpcErr::params("invalid signature"))?;
            let status = self
                .chain
                .banks
                .get_transaction_status(sig)
                .await
                .map_err(RpcErr::internal)?;
            out.push(status.map(|st| TransactionStatus {
                slot: st.slot,
                // Every processed transaction is final on a single-node local network.
                confirmations: None,
                status: match &st.err {
                    Some(e) => Err(e.clone()),
                    None => Ok(()),
                },
                err: st.err,
                confirmation_status: Some(TransactionConfirmationStatus::Finalized),
            }));
        }
        self.with_context(out)
    }

    async fn token_account_balance(&self, params: &Value) -> RpcResult {
        let key = pubkey_param(params, 0)?;
        let invalid = || RpcErr::params("Invalid param: not a Token account");
        let acc = self
            .chain
            .banks
            .get_account(key)
            .await
            .map_err(RpcErr::internal)?
            .ok_or_else(|| RpcErr::params("Invalid param: could not find account"))?;
        if acc.owner != spl_token_interface::ID && acc.owner != spl_token_2022_id() {
            return Err(invalid());
        }
        let base = acc
            .data
            .get(..spl_token_interface::state::Account::LEN)
            .ok_or_else(invalid)?;
        let token =
            spl_token_interface::state::Account::unpack_unchecked(base).map_err(|_| invalid())?;
        let mint = self
            .chain
            .banks
            .get_account(token.mint)
            .await
            .map_err(RpcErr::internal)?
            .ok_or_else(invalid)?;
        let decimals = *mint.data.get(44).ok_or_else(invalid)?;
        let amount = token.amount;
        let ui = amount as f64 / 10f64.powi(i32::from(decimals));
        self.with_context(UiTokenAmount {
            ui_amount: Some(ui),
            decimals,
            amount: amount.to_string(),
            ui_amount_string: concord_client::amount::format_amount(amount, decimals),
        })
    }

    async fn request_airdrop(&self, params: &Value) -> RpcResult {
        let to = pubkey_param(params, 0)?;
        let lamports = param(params, 1)
            .and_then(Value::as_u64)
            .ok_or_else(|| RpcErr::params("expected lamports"))?;
        let (hash, _) = self.latest_blockhash().await?;
        let ix = solana_system_interface::instruction::transfer(
            &self.chain.faucet.pubkey(),
            &to,
            lamports,
        );
        let tx = Transaction::new_signed_with_payer(
            &[ix],
            Some(&self.chain.faucet.pubkey()),
            &[&self.chain.faucet],
            hash,
        );
        let sig = tx.signatures[0];
        self.chain
            .banks
            .process_transaction(tx)
            .await
            .map_err(|e| RpcErr::internal(format!("airdrop failed: {e}")))?;
        to_value(sig.to_string())
    }
}

fn spl_token_2022_id() -> Pubkey {
    Pubkey::from_str_const("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
}

/// A simulation result with only `err` set.
fn simulation_result(err: Option<TransactionError>) -> RpcSimulateTransactionResult {
    RpcSimulateTransactionResult {
        err: err.map(Into::into),
        logs: None,
        accounts: None,
        units_consumed: None,
        loaded_accounts_data_size: None,
        return_data: None,
        inner_instructions: None,
        replacement_blockhash: None,
        fee: None,
        pre_balances: None,
        post_balances: None,
        pre_token_balances: None,
        post_token_balances: None,
        loaded_addresses: None,
    }
}

fn preflight_failure(err: String, sim: RpcSimulateTransactionResult) -> RpcErr {
    RpcErr {
        code: JSON_RPC_SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
        message: format!("Transaction simulation failed: {err}"),
        data: serde_json::to_value(sim).ok(),
    }
}

/// The JSON-RPC 2.0 envelope for one request.
pub async fn handle(rpc: &Rpc, request: &Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let (Some("2.0"), Some(method)) = (
        request.get("jsonrpc").and_then(Value::as_str),
        request.get("method").and_then(Value::as_str),
    ) else {
        return json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600, "message": "Invalid request"}});
    };
    let params = request
        .get("params")
        .cloned()
        .unwrap_or(Value::Array(vec![]));
    match rpc.call(method, &params).await {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(e) => {
            let mut error = json!({"code": e.code, "message": e.message});
            if let Some(data) = e.data {
                error["data"] = data;
            }
            json!({"jsonrpc": "2.0", "id": id, "error": error})
        }
    }
}
