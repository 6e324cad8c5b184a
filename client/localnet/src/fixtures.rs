//! Accounts and programs loaded at start, as `solana-test-validator --account`, `--account-dir`,
//! `--bpf-program` and `--upgradeable-program` load them.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use solana_account_decoder_client_types::UiAccount;
use solana_sdk::account::{Account, AccountSharedData};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::rent::Rent;

/// What is wrong with a fixture; each message names the file and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("{path}: cannot read: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: not an account file as `solana account --output json` writes it ({reason})")]
    Format { path: PathBuf, reason: String },
    #[error("{path}: the account data cannot be decoded (use base64 or base58 data)")]
    Data { path: PathBuf },
    #[error("{path}: not an SBF program (an ELF file starts with 0x7f 'ELF')")]
    NotElf { path: PathBuf },
    #[error("{0}: a fixture cannot replace this address, which the local network itself uses")]
    Reserved(Pubkey),
}

/// The `solana account --output json` file format.
#[derive(Deserialize)]
struct AccountFile {
    pubkey: String,
    account: UiAccount,
}

/// Accounts to store in the genesis bank, in order (a later one replaces an earlier one).
#[derive(Clone, Debug, Default)]
pub struct Fixtures {
    accounts: Vec<(Pubkey, AccountSharedData)>,
}

fn read(path: &Path) -> Result<Vec<u8>, FixtureError> {
    std::fs::read(path).map_err(|e| FixtureError::Read {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

impl Fixtures {
    pub fn accounts(&self) -> impl Iterator<Item = &(Pubkey, AccountSharedData)> {
        self.accounts.iter()
    }

    fn push(&mut self, address: Pubkey, account: AccountSharedData) -> Result<(), FixtureError> {
        if address == concord::ID {
            return Err(FixtureError::Reserved(address));
        }
        self.accounts.push((address, account));
        Ok(())
    }

    /// `--account ADDRESS FILE`: the account in `file`, stored at `address` (or at the file's own
    /// `pubkey` when `address` is `None`, as `-` does for the test validator).
    pub fn add_account_file(
        &mut self,
        address: Option<Pubkey>,
        file: &Path,
    ) -> Result<Pubkey, FixtureError> {
        let bytes = read(file)?;
        let parsed: AccountFile =
            serde_json::from_slice(&bytes).map_err(|e| FixtureError::Format {
                path: file.to_owned(),
                reason: e.to_string(),
            })?;
        let address = match address {
            Some(a) => a,
            None => parsed.pubkey.parse().map_err(|_| FixtureError::Format {
                path: file.to_owned(),
                reason: format!("\"pubkey\" {:?} is not a base-58 address", parsed.pubkey),
            })?,
        };
        let account: AccountSharedData =
            parsed.account.decode().ok_or_else(|| FixtureError::Data {
                path: file.to_owned(),
            })?;
        self.push(address, account)?;
        Ok(address)
    }

    /// `--account-dir DIR`: every `*.json` account file in `dir`, at the address it names.
    pub fn add_account_dir(&mut self, dir: &Path) -> Result<Vec<Pubkey>, FixtureError> {
        let entries = std::fs::read_dir(dir).map_err(|e| FixtureError::Read {
            path: dir.to_owned(),
            reason: e.to_string(),
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| self.add_account_file(None, f))
            .collect()
    }

    /// `--bpf-program ADDRESS FILE.so`: a program owned by the (non-upgradeable) BPF loader.
    pub fn add_bpf_program(&mut self, address: Pubkey, file: &Path) -> Result<(), FixtureError> {
        let elf = read_elf(file)?;
        let account = Account {
            lamports: Rent::default().minimum_balance(elf.len()).max(1),
            data: elf,
            owner: solana_sdk_ids::bpf_loader::ID,
            executable: true,
            rent_epoch: u64::MAX,
        };
        self.push(address, account.into())
    }

    /// `--upgradeable-program ADDRESS FILE.so AUTHORITY`: a program of the upgradeable loader
    /// with its program-data account; `authority` may upgrade or close it (`None`: immutable).
    pub fn add_upgradeable_program(
        &mut self,
        address: Pubkey,
        file: &Path,
        authority: Option<Pubkey>,
    ) -> Result<(), FixtureError> {
        let elf = read_elf(file)?;
        let [(program, program_account), (data, mut data_account)] =
            solana_program_binaries::bpf_loader_upgradeable_program_accounts(
                &address,
                &elf,
                &Rent::default(),
            );
        // ProgramData header: u32 tag, u64 slot, Option<Pubkey> authority (tag byte + 32 bytes).
        let header = &mut data_account.data[..4 + 8 + 1 + 32];
        match authority {
            Some(a) => {
                header[12] = 1;
                header[13..45].copy_from_slice(a.as_ref());
            }
            None => {
                header[12] = 0;
                header[13..45].fill(0);
            }
        }
        self.push(program, program_account.into())?;
        self.push(data, data_account.into())
    }
}

fn read_elf(file: &Path) -> Result<Vec<u8>, FixtureError> {
    let elf = read(file)?;
    if !elf.starts_with(b"\x7fELF") {
        return Err(FixtureError::NotElf {
            path: file.to_owned(),
        });
    }
    Ok(elf)
}
