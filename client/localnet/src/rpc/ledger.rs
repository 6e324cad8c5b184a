//! Ledger and cluster methods: slots, blocks and their times, epochs, the node's identity and
//! version, from the working bank and the kept history.

use serde_json::Value;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client_api::config::{
    RpcBlockConfig, RpcBlocksConfigWrapper, RpcContextConfig, RpcEncodingConfigWrapper,
    RpcEpochConfig,
};
use solana_rpc_client_api::custom_error::RpcCustomError;
use solana_rpc_client_api::request::MAX_GET_CONFIRMED_BLOCKS_RANGE;
use solana_rpc_client_api::response::{RpcContactInfo, RpcIdentity, RpcVersionInfo};
use solana_sdk::clock::Slot;
use solana_sdk::pubkey::Pubkey;
use solana_transaction_status::{
    BlockEncodingOptions, ConfirmedBlock, TransactionWithStatusMeta, UiTransactionEncoding,
    VersionedTransactionWithStatusMeta,
};

use super::{args, custom, invalid_params, to_value, verify_pubkey, Rpc, RpcResult};
use jsonrpc_core::Error;

/// The agave release whose runtime this network embeds.
pub const SOLANA_CORE_VERSION: &str = "3.1.12";

/// The first four bytes of the runtime's feature-set identifier, as `solana-version` reports.
pub fn feature_set_id() -> u32 {
    let id = &*agave_feature_set::ID;
    u32::from_le_bytes([
        id.as_ref()[0],
        id.as_ref()[1],
        id.as_ref()[2],
        id.as_ref()[3],
    ])
}

impl Rpc {
    /// The node's identity: the genesis faucet's key stands in for a validator identity.
    pub(super) fn identity(&self) -> Pubkey {
        solana_sdk::signature::Signer::pubkey(&self.chain.faucet)
    }

    pub(super) fn get_slot(&self, p: &Value) -> RpcResult {
        let (config,): (Option<RpcContextConfig>,) = args(p, 1)?;
        to_value(self.bank(config)?.slot())
    }

    pub(super) fn get_block_height(&self, p: &Value) -> RpcResult {
        let (config,): (Option<RpcContextConfig>,) = args(p, 1)?;
        to_value(self.bank(config)?.block_height())
    }

    pub(super) fn get_transaction_count(&self, p: &Value) -> RpcResult {
        let (config,): (Option<RpcContextConfig>,) = args(p, 1)?;
        to_value(self.bank(config)?.transaction_count())
    }

    pub(super) fn get_epoch_info(&self, p: &Value) -> RpcResult {
        let (config,): (Option<RpcContextConfig>,) = args(p, 1)?;
        to_value(self.bank(config)?.get_epoch_info())
    }

    pub(super) fn get_version(&self) -> RpcResult {
        to_value(RpcVersionInfo {
            solana_core: SOLANA_CORE_VERSION.to_string(),
            feature_set: Some(feature_set_id()),
        })
    }

    pub(super) fn get_identity(&self) -> RpcResult {
        to_value(RpcIdentity {
            identity: self.identity().to_string(),
        })
    }

    pub(super) fn get_cluster_nodes(&self) -> RpcResult {
        to_value(vec![RpcContactInfo {
            pubkey: self.identity().to_string(),
            gossip: None,
            tvu: None,
            tpu: None,
            tpu_quic: None,
            tpu_forwards: None,
            tpu_forwards_quic: None,
            tpu_vote: None,
            serve_repair: None,
            rpc: self.rpc_addr,
            pubsub: self.pubsub_addr,
            version: Some(SOLANA_CORE_VERSION.to_string()),
            feature_set: Some(feature_set_id()),
            shred_version: Some(0),
        }])
    }

    pub(super) fn get_inflation_reward(&self, p: &Value) -> RpcResult {
        let (addresses, _config): (Vec<String>, Option<RpcEpochConfig>) = args(p, 2)?;
        for a in &addresses {
            verify_pubkey(a)?;
        }
        // No staking or inflation is simulated: there is no reward for any address.
        to_value(vec![Value::Null; addresses.len()])
    }

    pub(super) fn first_available_block(&self) -> RpcResult {
        to_value(
            self.chain
                .history
                .first_block()
                .unwrap_or(self.chain.slot()),
        )
    }

    /// Why `slot` has no block here, in agave's words.
    fn missing_block(&self, slot: Slot) -> Error {
        let first = self
            .chain
            .history
            .first_block()
            .unwrap_or(self.chain.slot());
        if slot < first {
            custom(RpcCustomError::BlockCleanedUp {
                slot,
                first_available_block: first,
            })
        } else {
            custom(RpcCustomError::BlockNotAvailable { slot })
        }
    }

    pub(super) fn get_block(&self, p: &Value) -> RpcResult {
        let (slot, config): (Slot, Option<RpcEncodingConfigWrapper<RpcBlockConfig>>) = args(p, 2)?;
        let config = config.map(|c| c.convert_to_current()).unwrap_or_default();
        check_confirmed(config.commitment)?;
        let Some(block) = self.chain.history.block(slot) else {
            return Err(self.missing_block(slot));
        };
        let history = &self.chain.history;
        let transactions = block
            .signatures
            .iter()
            .filter_map(|s| history.transaction(s))
            .map(|r| {
                TransactionWithStatusMeta::Complete(VersionedTransactionWithStatusMeta {
                    transaction: r.transaction.clone(),
                    meta: r.meta.clone(),
                })
            })
            .collect();
        let confirmed = ConfirmedBlock {
            previous_blockhash: block.previous_blockhash.to_string(),
            blockhash: block.blockhash.to_string(),
            parent_slot: block.parent_slot,
            transactions,
            rewards: vec![],
            num_partitions: None,
            block_time: Some(block.block_time),
            block_height: Some(block.block_height),
        };
        let encoded = confirmed
            .encode_with_options(
                config.encoding.unwrap_or(UiTransactionEncoding::Json),
                BlockEncodingOptions {
                    transaction_details: config.transaction_details.unwrap_or_default(),
                    show_rewards: config.rewards.unwrap_or(true),
                    max_supported_transaction_version: config.max_supported_transaction_version,
                },
            )
            .map_err(|e| match e {
                solana_transaction_status::EncodeError::UnsupportedTransactionVersion(v) => {
                    custom(RpcCustomError::UnsupportedTransactionVersion(v))
                }
            })?;
        to_value(encoded)
    }

    pub(super) fn get_blocks(&self, p: &Value, with_limit: bool) -> RpcResult {
        let newest = self.chain.root();
        let (start, end) = if with_limit {
            let (start, limit, config): (Slot, usize, Option<RpcContextConfig>) = args(p, 3)?;
            check_confirmed(config.and_then(|c| c.commitment))?;
            if limit as u64 > MAX_GET_CONFIRMED_BLOCKS_RANGE {
                return Err(invalid_params(format!(
                    "Limit too large; max {MAX_GET_CONFIRMED_BLOCKS_RANGE}"
                )));
            }
            return to_value(self.chain.history.block_slots(start, newest, limit));
        } else {
            let (start, wrapper, config): (
                Slot,
                Option<RpcBlocksConfigWrapper>,
                Option<RpcContextConfig>,
            ) = args(p, 3)?;
            let (end, wrapped) = wrapper.map(|w| w.unzip()).unwrap_or_default();
            check_confirmed(config.or(wrapped).and_then(|c| c.commitment))?;
            (start, end.unwrap_or(newest).min(newest))
        };
        if end.saturating_sub(start) > MAX_GET_CONFIRMED_BLOCKS_RANGE {
            return Err(invalid_params(format!(
                "Slot range too large; max {MAX_GET_CONFIRMED_BLOCKS_RANGE}"
            )));
        }
        to_value(self.chain.history.block_slots(start, end, usize::MAX))
    }

    pub(super) fn get_block_time(&self, p: &Value) -> RpcResult {
        let (slot,): (Slot,) = args(p, 1)?;
        match self.chain.history.block(slot) {
            Some(b) => to_value(b.block_time),
            None => Err(self.missing_block(slot)),
        }
    }
}

fn check_confirmed(commitment: Option<CommitmentConfig>) -> Result<(), Error> {
    if commitment.is_some_and(|c| !c.is_at_least_confirmed()) {
        return Err(invalid_params(
            "Method does not support commitment below `confirmed`",
        ));
    }
    Ok(())
}
