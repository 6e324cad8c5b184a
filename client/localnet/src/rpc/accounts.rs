//! Account methods: single and multiple reads, program scans with filters, token accounts, all
//! encodings including `jsonParsed` (through solana-account-decoder's parsers, as agave does).

use std::cmp::Reverse;

use serde_json::Value;
use solana_account_decoder::parse_account_data::{
    AccountAdditionalDataV3, SplTokenAdditionalDataV2,
};
use solana_account_decoder::parse_token::{get_token_account_mint, token_amount_to_ui_amount_v3};
use solana_account_decoder::{encode_ui_account, UiAccount, UiAccountEncoding, UiDataSliceConfig};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcContextConfig, RpcProgramAccountsConfig, RpcTokenAccountsFilter,
};
use solana_rpc_client_api::filter::RpcFilterType;
use solana_rpc_client_api::request::{MAX_GET_PROGRAM_ACCOUNT_FILTERS, MAX_MULTIPLE_ACCOUNTS};
use solana_rpc_client_api::response::{OptionalContext, RpcKeyedAccount, RpcTokenAccountBalance};
use solana_runtime::bank::Bank;
use solana_sdk::account::{AccountSharedData, ReadableAccount};
use solana_sdk::pubkey::Pubkey;
use spl_token_2022_interface::extension::interest_bearing_mint::InterestBearingConfig;
use spl_token_2022_interface::extension::scaled_ui_amount::ScaledUiAmountConfig;
use spl_token_2022_interface::extension::{BaseStateWithExtensions, StateWithExtensions};
use spl_token_2022_interface::generic_token_account::GenericTokenAccount;

use super::{args, invalid_params, to_value, verify_list, verify_pubkey, Rpc, RpcResult};
use jsonrpc_core::{Error, ErrorCode};

/// Bytes of base-58 account data a validator will encode (`MAX_BASE58_BYTES`).
const MAX_BASE58_BYTES: usize = 128;
/// Accounts `getTokenLargestAccounts` returns.
const NUM_LARGEST_ACCOUNTS: usize = 20;
/// The largest account a program can allocate.
const MAX_ACCOUNT_DATA: usize = 10 * 1024 * 1024;
/// Offset of an SPL token account's owner, and of its delegate's COption tag.
const TOKEN_OWNER_OFFSET: usize = 32;
const TOKEN_DELEGATE_OFFSET: usize = 72;

pub enum By {
    Owner,
    Delegate,
}

pub fn is_token_program(id: &Pubkey) -> bool {
    *id == spl_token_interface::ID || *id == spl_token_2022_interface::ID
}

fn context(config: &RpcAccountInfoConfig) -> Option<RpcContextConfig> {
    Some(RpcContextConfig {
        commitment: config.commitment,
        min_context_slot: config.min_context_slot,
    })
}

/// A mint's decimals and the extensions that change its UI amounts.
fn mint_data(bank: &Bank, data: &[u8]) -> Result<SplTokenAdditionalDataV2, Error> {
    let mint = StateWithExtensions::<spl_token_2022_interface::state::Mint>::unpack(data)
        .map_err(|_| invalid_params("Invalid param: Token mint could not be unpacked"))?;
    let now = bank.clock().unix_timestamp;
    Ok(SplTokenAdditionalDataV2 {
        decimals: mint.base.decimals,
        interest_bearing_config: mint
            .get_extension::<InterestBearingConfig>()
            .map(|x| (*x, now))
            .ok(),
        scaled_ui_amount_config: mint
            .get_extension::<ScaledUiAmountConfig>()
            .map(|x| (*x, now))
            .ok(),
    })
}

fn mint_owner_and_data(
    bank: &Bank,
    mint: &Pubkey,
) -> Result<(Pubkey, SplTokenAdditionalDataV2), Error> {
    if *mint == spl_token_interface::native_mint::ID {
        return Ok((
            spl_token_interface::ID,
            SplTokenAdditionalDataV2::with_decimals(spl_token_interface::native_mint::DECIMALS),
        ));
    }
    let account = bank
        .get_account(mint)
        .ok_or_else(|| invalid_params("Invalid param: could not find mint"))?;
    Ok((*account.owner(), mint_data(bank, account.data())?))
}

/// Encodes `account` as agave's `getAccountInfo` does: token accounts and mints parse with their
/// mint's data, everything else through the generic parsers or the binary encodings.
pub fn encode(
    bank: &Bank,
    key: &Pubkey,
    account: &AccountSharedData,
    encoding: UiAccountEncoding,
    slice: Option<UiDataSliceConfig>,
) -> Result<UiAccount, Error> {
    if is_token_program(account.owner()) && encoding == UiAccountEncoding::JsonParsed {
        let additional = get_token_account_mint(account.data())
            .and_then(|mint| bank.get_account(&mint))
            .and_then(|mint| mint_data(bank, mint.data()).ok())
            .map(|d| AccountAdditionalDataV3 {
                spl_token_additional_data: Some(d),
            });
        return Ok(encode_ui_account(key, account, encoding, additional, None));
    }
    if matches!(
        encoding,
        UiAccountEncoding::Binary | UiAccountEncoding::Base58
    ) {
        let len = slice
            .map(|s| s.length.min(account.data().len().saturating_sub(s.offset)))
            .unwrap_or(account.data().len());
        if len > MAX_BASE58_BYTES {
            return Err(Error {
                code: ErrorCode::InvalidRequest,
                message: format!(
                    "Encoded binary (base 58) data should be less than {MAX_BASE58_BYTES} bytes, \
                     please use Base64 encoding."
                ),
                data: None,
            });
        }
    }
    Ok(encode_ui_account(key, account, encoding, None, slice))
}

pub(crate) fn verify_filters(filters: &[RpcFilterType]) -> Result<(), Error> {
    if filters.len() > MAX_GET_PROGRAM_ACCOUNT_FILTERS {
        return Err(invalid_params(format!(
            "Too many filters provided; max {MAX_GET_PROGRAM_ACCOUNT_FILTERS}"
        )));
    }
    for f in filters {
        f.verify()
            .map_err(|e| invalid_params(format!("Invalid param: {e:?}")))?;
    }
    Ok(())
}

pub(crate) fn allows(filter: &RpcFilterType, account: &AccountSharedData) -> bool {
    match filter {
        RpcFilterType::DataSize(size) => account.data().len() as u64 == *size,
        RpcFilterType::Memcmp(m) => m.bytes_match(account.data()),
        RpcFilterType::TokenAccountState => {
            spl_token_2022_interface::state::Account::valid_account_data(account.data())
        }
    }
}

impl Rpc {
    pub(super) fn get_account_info(&self, p: &Value) -> RpcResult {
        let (key, config): (String, Option<RpcAccountInfoConfig>) = args(p, 2)?;
        let key = verify_pubkey(&key)?;
        let config = config.unwrap_or_default();
        let bank = self.bank(context(&config))?;
        let encoding = config.encoding.unwrap_or(UiAccountEncoding::Binary);
        let account = bank
            .get_account(&key)
            .map(|a| encode(&bank, &key, &a, encoding, config.data_slice))
            .transpose()?;
        Self::respond(&bank, account)
    }

    pub(super) fn get_multiple_accounts(&self, p: &Value) -> RpcResult {
        let (keys, config): (Vec<String>, Option<RpcAccountInfoConfig>) = args(p, 2)?;
        let keys = verify_list(&keys, MAX_MULTIPLE_ACCOUNTS, verify_pubkey)?;
        let config = config.unwrap_or_default();
        let bank = self.bank(context(&config))?;
        let encoding = config.encoding.unwrap_or(UiAccountEncoding::Base64);
        let accounts = keys
            .iter()
            .map(|k| {
                bank.get_account(k)
                    .map(|a| encode(&bank, k, &a, encoding, config.data_slice))
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::respond(&bank, accounts)
    }

    pub(super) fn get_balance(&self, p: &Value) -> RpcResult {
        let (key, config): (String, Option<RpcContextConfig>) = args(p, 2)?;
        let key = verify_pubkey(&key)?;
        let bank = self.bank(config)?;
        Self::respond(&bank, bank.get_balance(&key))
    }

    pub(super) fn get_minimum_balance(&self, p: &Value) -> RpcResult {
        let (len, _commitment): (usize, Option<CommitmentConfig>) = args(p, 2)?;
        if len > MAX_ACCOUNT_DATA {
            return Err(invalid_params(format!(
                "Invalid param: data length {len} exceeds the largest account a program can \
                 allocate ({MAX_ACCOUNT_DATA} bytes)"
            )));
        }
        to_value(
            self.chain
                .bank()
                .get_minimum_balance_for_rent_exemption(len),
        )
    }

    fn scan(
        &self,
        bank: &Bank,
        program: &Pubkey,
        filters: &[RpcFilterType],
    ) -> Result<Vec<(Pubkey, AccountSharedData)>, Error> {
        let mut found = bank
            .get_filtered_program_accounts(
                program,
                |a| a.owner() == program && filters.iter().all(|f| allows(f, a)),
                &solana_accounts_db::accounts_index::ScanConfig::default(),
            )
            .map_err(|e| Error {
                code: ErrorCode::ServerError(
                    solana_rpc_client_api::custom_error::JSON_RPC_SCAN_ERROR,
                ),
                message: e.to_string(),
                data: None,
            })?;
        found.sort_unstable_by_key(|(k, _)| *k);
        Ok(found)
    }

    /// The accounts of `program` that pass `filters`, encoded as `config` asks (binary by
    /// default, as agave's scans).
    fn keyed(
        &self,
        bank: &Bank,
        program: &Pubkey,
        filters: &[RpcFilterType],
        config: &RpcAccountInfoConfig,
    ) -> Result<Vec<RpcKeyedAccount>, Error> {
        let encoding = config.encoding.unwrap_or(UiAccountEncoding::Binary);
        self.scan(bank, program, filters)?
            .iter()
            .map(|(k, a)| {
                Ok(RpcKeyedAccount {
                    pubkey: k.to_string(),
                    account: encode(bank, k, a, encoding, config.data_slice)?,
                })
            })
            .collect()
    }

    pub(super) fn get_program_accounts(&self, p: &Value) -> RpcResult {
        let (program, config): (String, Option<RpcProgramAccountsConfig>) = args(p, 2)?;
        let program = verify_pubkey(&program)?;
        let config = config.unwrap_or_default();
        let filters = config.filters.unwrap_or_default();
        verify_filters(&filters)?;
        let account_config = config.account_config;
        let bank = self.bank(context(&account_config))?;
        let accounts = self.keyed(&bank, &program, &filters, &account_config)?;
        if config.with_context.unwrap_or(false) {
            to_value(OptionalContext::Context(
                solana_rpc_client_api::response::Response {
                    context: solana_rpc_client_api::response::RpcResponseContext::new(bank.slot()),
                    value: accounts,
                },
            ))
        } else {
            to_value(OptionalContext::NoContext(accounts))
        }
    }

    pub(super) fn get_token_accounts_by(&self, p: &Value, by: By) -> RpcResult {
        let (who, filter, config): (String, RpcTokenAccountsFilter, Option<RpcAccountInfoConfig>) =
            args(p, 3)?;
        let who = verify_pubkey(&who)?;
        let config = config.unwrap_or_default();
        let bank = self.bank(context(&config))?;
        let (program, mint) = match filter {
            RpcTokenAccountsFilter::Mint(m) => {
                let mint = verify_pubkey(&m)?;
                let (owner, _) = mint_owner_and_data(&bank, &mint)?;
                if !is_token_program(&owner) {
                    return Err(invalid_params("Invalid param: not a Token mint"));
                }
                (owner, Some(mint))
            }
            RpcTokenAccountsFilter::ProgramId(id) => {
                let id = verify_pubkey(&id)?;
                if !is_token_program(&id) {
                    return Err(invalid_params(
                        "Invalid param: unrecognized Token program id",
                    ));
                }
                (id, None)
            }
        };
        let mut filters = vec![RpcFilterType::TokenAccountState];
        match by {
            By::Owner => filters.push(RpcFilterType::Memcmp(
                solana_rpc_client_api::filter::Memcmp::new_raw_bytes(
                    TOKEN_OWNER_OFFSET,
                    who.to_bytes().to_vec(),
                ),
            )),
            By::Delegate => {
                let mut tagged = vec![1, 0, 0, 0];
                tagged.extend_from_slice(who.as_ref());
                filters.push(RpcFilterType::Memcmp(
                    solana_rpc_client_api::filter::Memcmp::new_raw_bytes(
                        TOKEN_DELEGATE_OFFSET,
                        tagged,
                    ),
                ));
            }
        }
        if let Some(mint) = mint {
            filters.push(RpcFilterType::Memcmp(
                solana_rpc_client_api::filter::Memcmp::new_raw_bytes(0, mint.to_bytes().to_vec()),
            ));
        }
        let accounts = self.keyed(&bank, &program, &filters, &config)?;
        Self::respond(&bank, accounts)
    }

    /// A token account's amount and its mint's UI data.
    fn token_account(
        &self,
        bank: &Bank,
        key: &Pubkey,
    ) -> Result<(u64, Pubkey, SplTokenAdditionalDataV2), Error> {
        let account = bank
            .get_account(key)
            .ok_or_else(|| invalid_params("Invalid param: could not find account"))?;
        if !is_token_program(account.owner()) {
            return Err(invalid_params("Invalid param: not a Token account"));
        }
        let token =
            StateWithExtensions::<spl_token_2022_interface::state::Account>::unpack(account.data())
                .map_err(|_| invalid_params("Invalid param: not a Token account"))?;
        let (_, data) = mint_owner_and_data(bank, &token.base.mint)?;
        Ok((token.base.amount, token.base.mint, data))
    }

    pub(super) fn get_token_account_balance(&self, p: &Value) -> RpcResult {
        let (key, _c): (String, Option<CommitmentConfig>) = args(p, 2)?;
        let key = verify_pubkey(&key)?;
        let bank = self.bank(None)?;
        let (amount, _, data) = self.token_account(&bank, &key)?;
        Self::respond(&bank, token_amount_to_ui_amount_v3(amount, &data))
    }

    pub(super) fn get_token_supply(&self, p: &Value) -> RpcResult {
        let (mint, _c): (String, Option<CommitmentConfig>) = args(p, 2)?;
        let mint = verify_pubkey(&mint)?;
        let bank = self.bank(None)?;
        let account = bank
            .get_account(&mint)
            .ok_or_else(|| invalid_params("Invalid param: could not find account"))?;
        if !is_token_program(account.owner()) {
            return Err(invalid_params("Invalid param: not a Token mint"));
        }
        let parsed =
            StateWithExtensions::<spl_token_2022_interface::state::Mint>::unpack(account.data())
                .map_err(|_| invalid_params("Invalid param: mint could not be unpacked"))?;
        let data = mint_data(&bank, account.data())?;
        Self::respond(
            &bank,
            token_amount_to_ui_amount_v3(parsed.base.supply, &data),
        )
    }

    pub(super) fn get_token_largest_accounts(&self, p: &Value) -> RpcResult {
        let (mint, _c): (String, Option<CommitmentConfig>) = args(p, 2)?;
        let mint = verify_pubkey(&mint)?;
        let bank = self.bank(None)?;
        let (program, data) = mint_owner_and_data(&bank, &mint)?;
        if !is_token_program(&program) {
            return Err(invalid_params("Invalid param: not a Token mint"));
        }
        let filters = [
            RpcFilterType::TokenAccountState,
            RpcFilterType::Memcmp(solana_rpc_client_api::filter::Memcmp::new_raw_bytes(
                0,
                mint.to_bytes().to_vec(),
            )),
        ];
        let mut balances: Vec<(u64, Pubkey)> = self
            .scan(&bank, &program, &filters)?
            .into_iter()
            .filter_map(|(k, a)| {
                StateWithExtensions::<spl_token_2022_interface::state::Account>::unpack(a.data())
                    .ok()
                    .map(|t| (t.base.amount, k))
            })
            .collect();
        balances.sort_unstable_by_key(|(amount, key)| (Reverse(*amount), *key));
        balances.truncate(NUM_LARGEST_ACCOUNTS);
        let value: Vec<RpcTokenAccountBalance> = balances
            .into_iter()
            .map(|(amount, key)| RpcTokenAccountBalance {
                address: key.to_string(),
                amount: token_amount_to_ui_amount_v3(amount, &data),
            })
            .collect();
        Self::respond(&bank, value)
    }
}
