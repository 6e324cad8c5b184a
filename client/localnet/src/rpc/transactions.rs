//! Transaction methods: send (with preflight), simulate (every field a validator fills), airdrop,
//! statuses, history (`getTransaction`, `getSignaturesForAddress`), blockhashes and fees.

use std::any::type_name;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::Value;
use solana_account_decoder::UiAccountEncoding;
use solana_commitment_config::{CommitmentConfig, CommitmentLevel};
use solana_rpc_client_api::config::{
    RpcContextConfig, RpcEncodingConfigWrapper, RpcRequestAirdropConfig, RpcSendTransactionConfig,
    RpcSignatureStatusConfig, RpcSignaturesForAddressConfig, RpcSimulateTransactionConfig,
    RpcTransactionConfig,
};
use solana_rpc_client_api::custom_error::RpcCustomError;
use solana_rpc_client_api::request::{
    MAX_GET_CONFIRMED_SIGNATURES_FOR_ADDRESS2_LIMIT, MAX_GET_SIGNATURE_STATUSES_QUERY_ITEMS,
};
use solana_rpc_client_api::response::{
    RpcBlockhash, RpcConfirmedTransactionStatusWithSignature, RpcPrioritizationFee,
    RpcSimulateTransactionResult,
};
use solana_runtime::bank::TransactionSimulationResult;
use solana_sdk::account::AccountSharedData;
use solana_sdk::message::{SanitizedMessage, SanitizedVersionedMessage, VersionedMessage};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;
use solana_sdk::transaction::{Transaction, TransactionError, VersionedTransaction};
use solana_transaction_status::{
    map_inner_instructions, parse_ui_inner_instructions, ConfirmedTransactionWithStatusMeta,
    TransactionBinaryEncoding, TransactionConfirmationStatus, TransactionStatus,
    TransactionWithStatusMeta, UiLoadedAddresses, UiTransactionEncoding,
    VersionedTransactionWithStatusMeta,
};

use super::accounts::encode;
use super::{
    args, custom, internal, invalid_params, to_value, verify_hash, verify_list, verify_pubkey,
    verify_signature, Rpc, RpcResult,
};
use crate::chain::ChainEvent;
use crate::history::TxRecord;
use jsonrpc_core::Error;

/// agave's limits on an encoded transaction (`MAX_BASE58_SIZE`, `MAX_BASE64_SIZE`).
const MAX_BASE58_SIZE: usize = 1683;
const MAX_BASE64_SIZE: usize = 1644;
/// The largest wire transaction (`solana_packet::PACKET_DATA_SIZE`).
pub const PACKET_DATA_SIZE: usize = 1232;
/// How long a request waits for its transaction to execute before answering that it may still.
pub const EXECUTION_TIMEOUT: Duration = Duration::from_secs(30);
/// Blocks `getRecentPrioritizationFees` covers (agave's cache keeps 150).
const PRIORITIZATION_FEE_SLOTS: usize = 150;

/// Decodes and deserializes a wire transaction or message as agave does, refusing anything over
/// a packet before decoding further.
pub fn decode<T: DeserializeOwned>(
    encoded: &str,
    encoding: TransactionBinaryEncoding,
) -> Result<T, Error> {
    let bytes = match encoding {
        TransactionBinaryEncoding::Base58 => {
            if encoded.len() > MAX_BASE58_SIZE {
                return Err(invalid_params(format!(
                    "base58 encoded {} too large: {} bytes (max: encoded/raw {}/{})",
                    type_name::<T>(),
                    encoded.len(),
                    MAX_BASE58_SIZE,
                    PACKET_DATA_SIZE,
                )));
            }
            bs58::decode(encoded)
                .into_vec()
                .map_err(|e| invalid_params(format!("invalid base58 encoding: {e:?}")))?
        }
        TransactionBinaryEncoding::Base64 => {
            if encoded.len() > MAX_BASE64_SIZE {
                return Err(invalid_params(format!(
                    "base64 encoded {} too large: {} bytes (max: encoded/raw {}/{})",
                    type_name::<T>(),
                    encoded.len(),
                    MAX_BASE64_SIZE,
                    PACKET_DATA_SIZE,
                )));
            }
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| invalid_params(format!("invalid base64 encoding: {e:?}")))?
        }
    };
    if bytes.len() > PACKET_DATA_SIZE {
        return Err(invalid_params(format!(
            "decoded {} too large: {} bytes (max: {} bytes)",
            type_name::<T>(),
            bytes.len(),
            PACKET_DATA_SIZE
        )));
    }
    use bincode::Options;
    bincode::options()
        .with_limit(PACKET_DATA_SIZE as u64)
        .with_fixint_encoding()
        .allow_trailing_bytes()
        .deserialize_from(&bytes[..])
        .map_err(|e| invalid_params(format!("failed to deserialize {}: {}", type_name::<T>(), e)))
}

fn binary_encoding(
    encoding: Option<UiTransactionEncoding>,
) -> Result<TransactionBinaryEncoding, Error> {
    let encoding = encoding.unwrap_or(UiTransactionEncoding::Base58);
    encoding.into_binary_encoding().ok_or_else(|| {
        invalid_params(format!(
            "unsupported encoding: {encoding}. Supported encodings: base58, base64"
        ))
    })
}

fn preflight_failure(err: &TransactionError, result: RpcSimulateTransactionResult) -> Error {
    custom(RpcCustomError::SendTransactionPreflightFailure {
        message: format!("Transaction simulation failed: {err}"),
        result,
    })
}

fn ui_token_balances(
    v: Option<Vec<solana_svm::transaction_balances::SvmTokenInfo>>,
) -> Option<Vec<solana_transaction_status::UiTransactionTokenBalance>> {
    v.map(|v| {
        v.into_iter()
            .map(|b| crate::history::token_balance(b).into())
            .collect()
    })
}

/// What a simulation's answer has beyond the runtime's result.
#[derive(Default)]
struct SimulationExtras {
    replacement_blockhash: Option<RpcBlockhash>,
    loaded_addresses: Option<UiLoadedAddresses>,
    inner_instructions: Option<Vec<solana_transaction_status::UiInnerInstructions>>,
}

/// The RPC's status of a kept transaction: every committed transaction is final here.
pub fn status_of(record: &TxRecord) -> TransactionStatus {
    TransactionStatus {
        slot: record.slot,
        confirmations: None,
        status: record.meta.status.clone(),
        err: record.meta.status.clone().err(),
        confirmation_status: Some(TransactionConfirmationStatus::Finalized),
    }
}

impl Rpc {
    pub(super) async fn send_transaction(self: &Arc<Self>, p: Value) -> RpcResult {
        let (data, config): (String, Option<RpcSendTransactionConfig>) = args(&p, 2)?;
        let config = config.unwrap_or_default();
        let tx: VersionedTransaction = decode(&data, binary_encoding(config.encoding)?)?;
        let bank = self.bank(Some(RpcContextConfig {
            commitment: config
                .preflight_commitment
                .map(|commitment| CommitmentConfig { commitment }),
            min_context_slot: config.min_context_slot,
        }))?;
        let sanitized = crate::chain::Chain::sanitize(&bank, tx.clone(), false)
            .map_err(|e| invalid_params(format!("invalid transaction: {e}")))?;
        let signature = *sanitized.signature();
        if !config.skip_preflight {
            let rpc = Arc::clone(self);
            let tx = tx.clone();
            let (_, _, sim) =
                tokio::task::spawn_blocking(move || rpc.chain.simulate(tx, true, false))
                    .await
                    .map_err(|e| internal(format!("preflight failed to run: {e}")))?;
            if let Err(err) = &sim.result {
                let err = err.clone();
                return Err(preflight_failure(
                    &err,
                    self.simulation_result(sim, None, SimulationExtras::default()),
                ));
            }
        }
        self.chain.announce(ChainEvent::Received(signature));
        let rpc = Arc::clone(self);
        let run = tokio::task::spawn_blocking(move || rpc.chain.execute(tx));
        match tokio::time::timeout(EXECUTION_TIMEOUT, run).await {
            Ok(Ok(Ok(_))) => to_value(signature.to_string()),
            // Not executed at all (expired blockhash, duplicate, unpayable fee, bad signature with
            // preflight skipped): a validator would drop it silently; here the sender learns why.
            Ok(Ok(Err(err))) => Err(preflight_failure(
                &err,
                self.simulation_result(
                    TransactionSimulationResult::new_error(err.clone()),
                    None,
                    SimulationExtras::default(),
                ),
            )),
            Err(_) => Err(internal(format!(
                "the transaction did not finish executing within {} s; whether it lands is \
                 unknown: ask getSignatureStatuses for {signature}",
                EXECUTION_TIMEOUT.as_secs()
            ))),
            Ok(Err(e)) => Err(internal(format!(
                "the transaction could not be executed: {e}"
            ))),
        }
    }

    /// agave's `RpcSimulateTransactionResult` from the runtime's simulation.
    fn simulation_result(
        &self,
        sim: TransactionSimulationResult,
        accounts: Option<Vec<Option<solana_account_decoder::UiAccount>>>,
        extra: SimulationExtras,
    ) -> RpcSimulateTransactionResult {
        let SimulationExtras {
            replacement_blockhash,
            loaded_addresses,
            inner_instructions,
        } = extra;
        RpcSimulateTransactionResult {
            err: sim.result.err().map(Into::into),
            logs: Some(sim.logs),
            accounts,
            units_consumed: Some(sim.units_consumed),
            loaded_accounts_data_size: Some(sim.loaded_accounts_data_size),
            return_data: sim.return_data.map(Into::into),
            inner_instructions,
            replacement_blockhash,
            fee: sim.fee,
            pre_balances: sim.pre_balances,
            post_balances: sim.post_balances,
            pre_token_balances: ui_token_balances(sim.pre_token_balances),
            post_token_balances: ui_token_balances(sim.post_token_balances),
            loaded_addresses,
        }
    }

    pub(super) async fn simulate_transaction(self: &Arc<Self>, p: Value) -> RpcResult {
        let (data, config): (String, Option<RpcSimulateTransactionConfig>) = args(&p, 2)?;
        let config = config.unwrap_or_default();
        let mut tx: VersionedTransaction = decode(&data, binary_encoding(config.encoding)?)?;
        let bank = self.bank(Some(RpcContextConfig {
            commitment: config.commitment,
            min_context_slot: config.min_context_slot,
        }))?;
        let mut replacement = None;
        if config.replace_recent_blockhash {
            if config.sig_verify {
                return Err(invalid_params(
                    "sigVerify may not be used with replaceRecentBlockhash",
                ));
            }
            let hash = bank.last_blockhash();
            tx.message.set_recent_blockhash(hash);
            replacement = Some(RpcBlockhash {
                blockhash: hash.to_string(),
                last_valid_block_height: bank
                    .get_blockhash_last_valid_block_height(&hash)
                    .unwrap_or_else(|| bank.block_height() + 150),
            });
        }
        crate::chain::Chain::sanitize(&bank, tx.clone(), false)
            .map_err(|e| invalid_params(format!("invalid transaction: {e}")))?;
        let rpc = Arc::clone(self);
        let cpi = config.inner_instructions;
        let verify = config.sig_verify;
        let (bank, sanitized, mut sim) =
            tokio::task::spawn_blocking(move || rpc.chain.simulate(tx, verify, cpi))
                .await
                .map_err(|e| internal(format!("the simulation failed to run: {e}")))?;
        // Refused before it ran (a bad signature under sigVerify): the error is the result.
        let Some(sanitized) = sanitized else {
            return Self::respond(
                &bank,
                self.simulation_result(sim, None, SimulationExtras::default()),
            );
        };
        let keys: Vec<Pubkey> = sanitized.message().account_keys().iter().copied().collect();
        let accounts = match config.accounts {
            None => None,
            Some(wanted) => {
                let encoding = wanted.encoding.unwrap_or(UiAccountEncoding::Base64);
                if matches!(
                    encoding,
                    UiAccountEncoding::Binary | UiAccountEncoding::Base58
                ) {
                    return Err(invalid_params("base58 encoding not supported"));
                }
                if wanted.addresses.len() > keys.len() {
                    return Err(invalid_params(format!(
                        "Too many accounts provided; max {}",
                        keys.len()
                    )));
                }
                if sim.result.is_err() {
                    Some(vec![None; wanted.addresses.len()])
                } else {
                    let post: HashMap<Pubkey, AccountSharedData> =
                        std::mem::take(&mut sim.post_simulation_accounts)
                            .into_iter()
                            .collect();
                    Some(
                        wanted
                            .addresses
                            .iter()
                            .map(|a| {
                                let key = verify_pubkey(a)?;
                                post.get(&key)
                                    .cloned()
                                    .or_else(|| bank.get_account(&key))
                                    .map(|acc| encode(&bank, &key, &acc, encoding, None))
                                    .transpose()
                            })
                            .collect::<Result<Vec<_>, Error>>()?,
                    )
                }
            }
        };
        let account_keys = sanitized.message().account_keys();
        let inner = sim.inner_instructions.take().map(|info| {
            map_inner_instructions(info)
                .map(|i| parse_ui_inner_instructions(i, &account_keys))
                .collect()
        });
        let loaded = Some(UiLoadedAddresses::from(&sanitized.get_loaded_addresses()));
        let extra = SimulationExtras {
            replacement_blockhash: replacement,
            loaded_addresses: loaded,
            inner_instructions: inner,
        };
        let result = self.simulation_result(sim, accounts, extra);
        Self::respond(&bank, result)
    }

    pub(super) async fn request_airdrop(self: &Arc<Self>, p: Value) -> RpcResult {
        let (to, lamports, _config): (String, u64, Option<RpcRequestAirdropConfig>) = args(&p, 3)?;
        let to = verify_pubkey(&to)?;
        let faucet = &self.chain.faucet;
        // The same airdrop twice in one slot would be the same transaction (same blockhash, same
        // signature) and refused as already processed: the second waits for the next blockhash.
        for _ in 0..4 {
            let ix =
                solana_system_interface::instruction::transfer(&faucet.pubkey(), &to, lamports);
            let tx = Transaction::new_signed_with_payer(
                &[ix],
                Some(&faucet.pubkey()),
                &[faucet],
                self.chain.bank().last_blockhash(),
            );
            let signature = tx.signatures[0];
            let rpc = Arc::clone(self);
            let run = tokio::task::spawn_blocking(move || rpc.chain.execute(tx.into()));
            match tokio::time::timeout(EXECUTION_TIMEOUT, run).await {
                Ok(Ok(Ok(record))) => {
                    return match &record.meta.status {
                        Ok(()) => to_value(signature.to_string()),
                        Err(e) => Err(internal(format!("airdrop failed: {e}"))),
                    }
                }
                Ok(Ok(Err(TransactionError::AlreadyProcessed))) => {
                    tokio::time::sleep(self.chain.slot_time).await;
                }
                Ok(Ok(Err(e))) => return Err(internal(format!("airdrop failed: {e}"))),
                _ => return Err(internal("airdrop did not finish executing")),
            }
        }
        Err(internal(
            "airdrop failed: no new blockhash; is the slot clock running?",
        ))
    }

    pub(super) fn get_signature_statuses(&self, p: &Value) -> RpcResult {
        let (sigs, _config): (Vec<String>, Option<RpcSignatureStatusConfig>) = args(p, 2)?;
        let sigs = verify_list(
            &sigs,
            MAX_GET_SIGNATURE_STATUSES_QUERY_ITEMS,
            verify_signature,
        )?;
        let bank = self.chain.bank();
        let statuses: Vec<Option<TransactionStatus>> = sigs
            .iter()
            .map(|s| self.chain.history.transaction(s).map(|r| status_of(&r)))
            .collect();
        Self::respond(&bank, statuses)
    }

    pub(super) fn get_transaction(&self, p: &Value) -> RpcResult {
        let (sig, config): (
            String,
            Option<RpcEncodingConfigWrapper<RpcTransactionConfig>>,
        ) = args(p, 2)?;
        let sig = verify_signature(&sig)?;
        let config = config.map(|c| c.convert_to_current()).unwrap_or_default();
        if let Some(c) = config.commitment {
            if c.commitment == CommitmentLevel::Processed {
                return Err(invalid_params(
                    "Method does not support commitment below `confirmed`",
                ));
            }
        }
        let encoding = config.encoding.unwrap_or(UiTransactionEncoding::Json);
        let Some(record) = self.chain.history.transaction(&sig) else {
            return to_value(Value::Null);
        };
        let confirmed = ConfirmedTransactionWithStatusMeta {
            slot: record.slot,
            tx_with_meta: TransactionWithStatusMeta::Complete(VersionedTransactionWithStatusMeta {
                transaction: record.transaction.clone(),
                meta: record.meta.clone(),
            }),
            block_time: Some(record.block_time),
        };
        match confirmed.encode(encoding, config.max_supported_transaction_version) {
            Ok(encoded) => to_value(encoded),
            Err(solana_transaction_status::EncodeError::UnsupportedTransactionVersion(v)) => {
                Err(custom(RpcCustomError::UnsupportedTransactionVersion(v)))
            }
        }
    }

    pub(super) fn get_signatures_for_address(&self, p: &Value) -> RpcResult {
        let (address, config): (String, Option<RpcSignaturesForAddressConfig>) = args(p, 2)?;
        let address = verify_pubkey(&address)?;
        let config = config.unwrap_or_default();
        let before = config.before.as_deref().map(verify_signature).transpose()?;
        let until = config.until.as_deref().map(verify_signature).transpose()?;
        let limit = config
            .limit
            .unwrap_or(MAX_GET_CONFIRMED_SIGNATURES_FOR_ADDRESS2_LIMIT);
        if limit == 0 || limit > MAX_GET_CONFIRMED_SIGNATURES_FOR_ADDRESS2_LIMIT {
            return Err(invalid_params(format!(
                "Invalid limit; max {MAX_GET_CONFIRMED_SIGNATURES_FOR_ADDRESS2_LIMIT}"
            )));
        }
        self.bank(Some(RpcContextConfig {
            commitment: config.commitment,
            min_context_slot: config.min_context_slot,
        }))?;
        let list: Vec<RpcConfirmedTransactionStatusWithSignature> = self
            .chain
            .history
            .for_address(&address, before.as_ref(), until.as_ref(), limit)
            .iter()
            .map(|r| RpcConfirmedTransactionStatusWithSignature {
                signature: r.signature.to_string(),
                slot: r.slot,
                err: r.meta.status.clone().err().map(Into::into),
                memo: r.memo.clone(),
                block_time: Some(r.block_time),
                confirmation_status: Some(TransactionConfirmationStatus::Finalized),
            })
            .collect();
        to_value(list)
    }

    pub(super) fn get_latest_blockhash(&self, p: &Value) -> RpcResult {
        let (config,): (Option<RpcContextConfig>,) = args(p, 1)?;
        let bank = self.bank(config)?;
        let hash = bank.last_blockhash();
        let last_valid_block_height = bank
            .get_blockhash_last_valid_block_height(&hash)
            .ok_or_else(|| internal("the bank's blockhash queue lacks its last blockhash"))?;
        Self::respond(
            &bank,
            RpcBlockhash {
                blockhash: hash.to_string(),
                last_valid_block_height,
            },
        )
    }

    pub(super) fn is_blockhash_valid(&self, p: &Value) -> RpcResult {
        let (hash, config): (String, Option<RpcContextConfig>) = args(p, 2)?;
        let hash = verify_hash(&hash)?;
        let bank = self.bank(config)?;
        Self::respond(&bank, bank.is_blockhash_valid(&hash))
    }

    pub(super) fn get_fee_for_message(&self, p: &Value) -> RpcResult {
        let (data, config): (String, Option<RpcContextConfig>) = args(p, 2)?;
        let message: VersionedMessage = decode(&data, TransactionBinaryEncoding::Base64)?;
        let bank = self.bank(config)?;
        let versioned = SanitizedVersionedMessage::try_from(message)
            .map_err(|e| invalid_params(format!("invalid transaction message: {e}")))?;
        let sanitized =
            SanitizedMessage::try_new(versioned, bank.as_ref(), bank.get_reserved_account_keys())
                .map_err(|e| invalid_params(format!("invalid transaction message: {e}")))?;
        Self::respond(&bank, bank.get_fee_for_message(&sanitized))
    }

    pub(super) fn get_recent_prioritization_fees(&self, p: &Value) -> RpcResult {
        let (keys,): (Option<Vec<String>>,) = args(p, 1)?;
        let keys = keys
            .unwrap_or_default()
            .iter()
            .map(|k| verify_pubkey(k))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.len() > 128 {
            return Err(invalid_params("Too many inputs provided; max 128"));
        }
        let newest = self.chain.slot();
        let history = &self.chain.history;
        let mut fees = Vec::new();
        let slots = history.block_slots(
            newest.saturating_sub(PRIORITIZATION_FEE_SLOTS as u64),
            newest,
            PRIORITIZATION_FEE_SLOTS,
        );
        for slot in slots {
            let Some(block) = history.block(slot) else {
                continue;
            };
            let fee = block
                .signatures
                .iter()
                .filter_map(|s| history.transaction(s))
                .filter(|r| keys.is_empty() || keys.iter().any(|k| r.keys.contains(k)))
                .map(|r| compute_unit_price(&r.transaction))
                .min()
                .unwrap_or(0);
            fees.push(RpcPrioritizationFee {
                slot,
                prioritization_fee: fee,
            });
        }
        to_value(fees)
    }
}

/// The compute-unit price a transaction set with the Compute Budget program (0 when none).
fn compute_unit_price(tx: &VersionedTransaction) -> u64 {
    let keys = tx.message.static_account_keys();
    tx.message
        .instructions()
        .iter()
        .filter(|ix| {
            keys.get(usize::from(ix.program_id_index)) == Some(&solana_sdk_ids::compute_budget::ID)
        })
        .find_map(|ix| match ix.data.as_slice() {
            [3, rest @ ..] if rest.len() >= 8 => rest[..8].try_into().ok().map(u64::from_le_bytes),
            _ => None,
        })
        .unwrap_or(0)
}
