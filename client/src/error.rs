//! Errors of the client, with program error codes mapped to their names.

use std::sync::OnceLock;

#[cfg(feature = "rpc")]
use solana_rpc_client_api::client_error::{Error as RpcError, ErrorKind};
#[cfg(feature = "rpc")]
use solana_rpc_client_api::request::{RpcError as RpcRequestError, RpcResponseErrorData};
use solana_sdk::instruction::InstructionError;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::transaction::TransactionError;

pub use anchor_lang::error::ErrorCode as AnchorError;
pub use concord::errors::ConcordError;

/// A Concord or Anchor error code with its name and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramErrorInfo {
    /// Numeric code (Concord's start at 6000).
    pub code: u32,
    /// Variant name, e.g. `InsufficientFreeStake`.
    pub name: String,
    /// Human message.
    pub msg: String,
}

impl std::fmt::Display for ProgramErrorInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.name, self.code, self.msg)
    }
}

/// Everything that can go wrong talking to Concord.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The program refused the transaction with a named error.
    #[error("transaction refused by the program: {0}")]
    Program(ProgramErrorInfo),
    /// The runtime refused the transaction (not a program error code).
    #[error("transaction failed: {0}")]
    Transaction(TransactionError),
    /// The RPC endpoint could not be reached or answered with an error.
    #[cfg(feature = "rpc")]
    #[error("RPC error: {0}")]
    Rpc(Box<RpcError>),
    /// An account that should exist does not.
    #[error("account {0} not found")]
    AccountNotFound(Pubkey),
    /// An account exists but is not what was expected.
    #[error("account {address} is not a valid {kind}: {reason}")]
    InvalidAccount {
        /// The account's address.
        address: Pubkey,
        /// What it should have been.
        kind: &'static str,
        /// Why it is not.
        reason: String,
    },
    /// A transaction was not confirmed after every retry.
    #[error("transaction not confirmed after {attempts} attempts")]
    /// Not confirmed after this many attempts.
    NotConfirmed {
        /// Attempts made, each with a fresh blockhash.
        attempts: u32,
    },
    /// The caller asked for something invalid; the message says what to fix.
    #[error("{0}")]
    InvalidInput(String),
    /// Downloading or verifying data failed.
    #[error("{0}")]
    Data(String),
    /// Waiting for a job ran out of time.
    #[error("timed out waiting for job {0}")]
    Timeout(Pubkey),
}

/// Result with [`ClientError`] as the default error.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

#[cfg(feature = "rpc")]
impl From<RpcError> for ClientError {
    fn from(e: RpcError) -> Self {
        if let Some(tx_err) = transaction_error(&e) {
            return ClientError::from(tx_err);
        }
        ClientError::Rpc(Box::new(e))
    }
}

impl From<TransactionError> for ClientError {
    fn from(e: TransactionError) -> Self {
        match &e {
            TransactionError::InstructionError(_, InstructionError::Custom(code)) => {
                match program_error(*code) {
                    Some(info) => ClientError::Program(info),
                    None => ClientError::Transaction(e),
                }
            }
            _ => ClientError::Transaction(e),
        }
    }
}

impl ClientError {
    /// The program error's name, if this is one (`"InsufficientFreeStake"`, `"ConstraintSeeds"`…),
    /// for messages; match with [`concord_error`](Self::concord_error) or
    /// [`is_anchor`](Self::is_anchor).
    pub fn program_error_name(&self) -> Option<&str> {
        match self {
            ClientError::Program(info) => Some(&info.name),
            _ => None,
        }
    }

    /// The program's numeric error code, if this is a program error.
    pub fn program_error_code(&self) -> Option<u32> {
        match self {
            ClientError::Program(info) => Some(info.code),
            _ => None,
        }
    }

    /// The Concord error this is, to match on: `Some(ConcordError::CommitWindowClosed)`.
    pub fn concord_error(&self) -> Option<ConcordError> {
        self.program_error_code().and_then(ConcordError::from_code)
    }

    /// Whether this is Concord error `e`.
    pub fn is(&self, e: ConcordError) -> bool {
        self.concord_error() == Some(e)
    }

    /// Whether this is Anchor framework error `e` (a failed account constraint, say).
    pub fn is_anchor(&self, e: anchor_lang::error::ErrorCode) -> bool {
        self.program_error_code() == Some(u32::from(e))
    }
}

/// The transaction error inside an RPC error: a failed transaction or a failed preflight.
#[cfg(feature = "rpc")]
fn transaction_error(e: &RpcError) -> Option<TransactionError> {
    match e.kind() {
        ErrorKind::TransactionError(t) => Some(t.clone()),
        ErrorKind::RpcError(RpcRequestError::RpcResponseError {
            data: RpcResponseErrorData::SendTransactionPreflightFailure(sim),
            ..
        }) => sim.err.clone().map(Into::into),
        _ => None,
    }
}

/// Names and messages of Concord's error codes (from the committed IDL) and of Anchor's own.
pub fn program_error(code: u32) -> Option<ProgramErrorInfo> {
    static TABLE: OnceLock<Vec<ProgramErrorInfo>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let idl: serde_json::Value =
            serde_json::from_str(include_str!("../../idl/concord.json")).expect("IDL is JSON");
        idl["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                Some(ProgramErrorInfo {
                    code: e["code"].as_u64()? as u32,
                    name: e["name"].as_str()?.to_string(),
                    msg: e["msg"].as_str().unwrap_or_default().to_string(),
                })
            })
            .collect()
    });
    if let Some(info) = table.iter().find(|e| e.code == code) {
        return Some(info.clone());
    }
    use anchor_lang::error::ErrorCode as A;
    let anchor = [
        A::InstructionMissing,
        A::InstructionFallbackNotFound,
        A::InstructionDidNotDeserialize,
        A::InstructionDidNotSerialize,
        A::ConstraintMut,
        A::ConstraintHasOne,
        A::ConstraintSigner,
        A::ConstraintRaw,
        A::ConstraintOwner,
        A::ConstraintRentExempt,
        A::ConstraintSeeds,
        A::ConstraintExecutable,
        A::ConstraintAddress,
        A::ConstraintTokenMint,
        A::ConstraintTokenOwner,
        A::ConstraintDuplicateMutableAccount,
        A::AccountDiscriminatorAlreadySet,
        A::AccountDiscriminatorNotFound,
        A::AccountDiscriminatorMismatch,
        A::AccountDidNotDeserialize,
        A::AccountDidNotSerialize,
        A::AccountNotEnoughKeys,
        A::AccountNotMutable,
        A::AccountOwnedByWrongProgram,
        A::InvalidProgramId,
        A::InvalidProgramExecutable,
        A::AccountNotSigner,
        A::AccountNotSystemOwned,
        A::AccountNotInitialized,
        A::DeclaredProgramIdMismatch,
    ]
    .into_iter()
    .find(|e| u32::from(*e) == code)?;
    Some(ProgramErrorInfo {
        code,
        name: format!("{anchor:?}"),
        msg: anchor.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_concord_and_anchor_codes_to_names() {
        let code =
            anchor_lang::error::ERROR_CODE_OFFSET + ConcordError::InsufficientFreeStake as u32;
        let info = program_error(code).unwrap();
        assert_eq!(info.name, "InsufficientFreeStake");
        assert!(info.msg.contains("free stake"));
        let seeds = program_error(2006).unwrap();
        assert_eq!(seeds.name, "ConstraintSeeds");
        assert!(program_error(1).is_none());
        let e = ClientError::from(TransactionError::InstructionError(
            0,
            InstructionError::Custom(code),
        ));
        assert_eq!(e.program_error_name(), Some("InsufficientFreeStake"));
        assert_eq!(e.concord_error(), Some(ConcordError::InsufficientFreeStake));
        assert!(e.is(ConcordError::InsufficientFreeStake));
        let seeds = ClientError::from(TransactionError::InstructionError(
            0,
            InstructionError::Custom(2006),
        ));
        assert!(seeds.is_anchor(anchor_lang::error::ErrorCode::ConstraintSeeds));
        assert_eq!(seeds.concord_error(), None);
    }

    /// `ConcordError::ALL` lists the program's errors exactly as the IDL does, in code order.
    #[test]
    fn every_idl_error_maps_to_its_variant() {
        let idl: serde_json::Value =
            serde_json::from_str(include_str!("../../idl/concord.json")).unwrap();
        let errors = idl["errors"].as_array().unwrap();
        assert_eq!(errors.len(), ConcordError::ALL.len());
        for e in errors {
            let code = e["code"].as_u64().unwrap() as u32;
            let variant = ConcordError::from_code(code).expect("a Concord code");
            assert_eq!(format!("{variant:?}"), e["name"].as_str().unwrap());
            assert_eq!(u32::from(variant), code);
        }
        assert_eq!(
            ConcordError::from_code(6000 + ConcordError::ALL.len() as u32),
            None
        );
        assert_eq!(ConcordError::from_code(5999), None);
    }
}
