//! Sending the CLI's transactions: online (fresh blockhash, retries, confirmation) or offline
//! (`--sign-only` prints the partially signed transaction; `--signer PUBKEY=SIGNATURE` and
//! `--blockhash` complete it, as the Solana CLI does).

use anyhow::{bail, Result};
use base64::Engine;
use concord_client::{ClientError, ConcordClient};
use serde_json::json;
use solana_sdk::hash::Hash;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Signature, Signer};
use solana_sdk::transaction::Transaction;

use crate::config::SignerSource;
use crate::output::Output;

/// How this invocation signs and sends.
pub struct Sender {
    pub client: ConcordClient,
    pub fee_payer: SignerSource,
    pub sign_only: bool,
    pub blockhash: Option<Hash>,
    pub dump_cu: bool,
}

/// What happened to a transaction.
pub enum Sent {
    Confirmed(Signature),
    /// `--sign-only`: nothing was sent.
    SignedOnly,
}

impl Sender {
    /// Signs `ixs` with the fee payer and `signers`, then sends it (or, with `--sign-only`,
    /// prints it with its signatures for completion elsewhere).
    pub async fn run(
        &self,
        out: &Output,
        ixs: Vec<Instruction>,
        signers: &[&SignerSource],
    ) -> Result<Sent> {
        let mut all: Vec<&SignerSource> = vec![&self.fee_payer];
        for s in signers {
            if !all.iter().any(|a| a.pubkey() == s.pubkey()) {
                all.push(s);
            }
        }
        let local: Vec<&dyn Signer> = all.iter().filter_map(|s| s.signer()).collect();

        if self.dump_cu && !self.sign_only {
            if let Some(kp) = self.all_keypairs(&all) {
                let refs: Vec<&solana_sdk::signature::Keypair> = kp.into_iter().skip(1).collect();
                match self.client.simulate_units(&ixs, &refs).await {
                    Ok(Some(units)) => eprintln!("simulated compute units: {units}"),
                    Ok(None) => eprintln!("simulated compute units: not reported by this RPC"),
                    Err(e) => eprintln!("simulation failed: {e}"),
                }
            }
        }

        let offline = self.sign_only || self.blockhash.is_some();
        if !offline {
            // Every signer is local: the library's send refreshes blockhashes and retries.
            if let Some(kps) = self.all_keypairs(&all) {
                // The client's payer is the fee payer's keypair (see main).
                let rest: Vec<&solana_sdk::signature::Keypair> = kps.into_iter().skip(1).collect();
                let sig = self.client.send(&ixs, &rest).await?;
                return Ok(Sent::Confirmed(sig));
            }
        }
        let blockhash = match self.blockhash {
            Some(h) => h,
            None if self.sign_only => bail!(
                "--sign-only needs --blockhash (get one with `solana block-hash` or from any RPC)"
            ),
            None => self.client.rpc().get_latest_blockhash().await?,
        };
        let ixs = self.client.with_budget(&ixs);
        let mut tx = Transaction::new_with_payer(&ixs, Some(&self.fee_payer.pubkey()));
        tx.try_partial_sign(&local, blockhash).map_err(|e| {
            anyhow::anyhow!(
                "cannot sign: {e}: a --signer signature does not match this transaction; sign it again with --sign-only and the same --blockhash and arguments"
            )
        })?;
        let required = tx.message.header.num_required_signatures as usize;
        let keys: Vec<Pubkey> = tx.message.account_keys[..required].to_vec();
        let absent: Vec<Pubkey> = keys
            .iter()
            .zip(&tx.signatures)
            .filter(|(_, s)| **s == Signature::default())
            .map(|(k, _)| *k)
            .collect();
        if self.sign_only {
            let signed: Vec<String> = keys
                .iter()
                .zip(&tx.signatures)
                .filter(|(_, s)| **s != Signature::default())
                .map(|(k, s)| format!("{k}={s}"))
                .collect();
            let bytes = bincode::serialize(&tx)?;
            out.emit(
                json!({
                    "blockhash": blockhash.to_string(),
                    "signers": signed,
                    "absent": absent.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
                    "transaction_base58": bs58::encode(&bytes).into_string(),
                    "transaction_base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
                }),
                || {
                    let mut s = format!("Blockhash: {blockhash}\nSigners (Pubkey=Signature):\n");
                    for x in &signed {
                        s.push_str(&format!("  {x}\n"));
                    }
                    if !absent.is_empty() {
                        s.push_str("Absent Signers (Pubkey):\n");
                        for a in &absent {
                            s.push_str(&format!("  {a}\n"));
                        }
                    }
                    s.push_str(&format!(
                        "Transaction (base58): {}\n",
                        bs58::encode(&bytes).into_string()
                    ));
                    s
                },
            );
            return Ok(Sent::SignedOnly);
        }
        if !absent.is_empty() {
            let list: Vec<String> = absent.iter().map(|k| k.to_string()).collect();
            bail!(
                "missing signatures from {}: pass --signer PUBKEY=SIGNATURE for each",
                list.join(", ")
            );
        }
        if tx.verify().is_err() {
            bail!("a --signer signature does not match this transaction: sign it again with --sign-only and the same --blockhash and arguments");
        }
        let sig = self
            .client
            .rpc()
            .send_and_confirm_transaction(&tx)
            .await
            .map_err(ClientError::from)?;
        Ok(Sent::Confirmed(sig))
    }

    fn all_keypairs<'a>(
        &self,
        all: &[&'a SignerSource],
    ) -> Option<Vec<&'a solana_sdk::signature::Keypair>> {
        all.iter()
            .map(|s| match s {
                SignerSource::Keypair(k) => Some(k),
                _ => None,
            })
            .collect()
    }
}
