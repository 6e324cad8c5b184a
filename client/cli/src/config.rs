//! Solana CLI conventions: `~/.config/solana/cli/config.yml`, URL monikers, keypair paths, and
//! signers given as keypair files or as pubkeys with offline signatures.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{anyhow, bail, Context, Result};
use solana_presigner::Presigner;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, Keypair, Signature, Signer};

/// The parts of the Solana CLI's config file that concord uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SolanaConfig {
    pub json_rpc_url: Option<String>,
    pub keypair_path: Option<String>,
}

/// `~/.config/solana/cli/config.yml`.
pub fn default_config_path() -> Option<PathBuf> {
    dirs::home_dir().map(|h| h.join(".config/solana/cli/config.yml"))
}

impl SolanaConfig {
    /// Reads the file if it exists (a missing file is an empty config).
    pub fn load(path: &Path) -> Result<SolanaConfig> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(SolanaConfig::default())
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(SolanaConfig::parse(&text))
    }

    /// The config is flat YAML (`key: value`); only top-level scalar keys are read.
    pub fn parse(text: &str) -> SolanaConfig {
        let mut cfg = SolanaConfig::default();
        for line in text.lines() {
            if line.starts_with([' ', '\t', '#', '-']) {
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value
                .trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .to_string();
            if value.is_empty() {
                continue;
            }
            match key.trim() {
                "json_rpc_url" => cfg.json_rpc_url = Some(value),
                "keypair_path" => cfg.keypair_path = Some(value),
                _ => {}
            }
        }
        cfg
    }
}

/// Expands Solana's monikers (`localhost`, `devnet`, `mainnet-beta`, `testnet` and their first
/// letters) to URLs; anything else must be an http(s) URL.
pub fn resolve_url(url: &str) -> Result<String> {
    Ok(match url {
        "l" | "localhost" => "http://localhost:8899".into(),
        "d" | "devnet" => "https://api.devnet.solana.com".into(),
        "m" | "mainnet-beta" => "https://api.mainnet-beta.solana.com".into(),
        "t" | "testnet" => "https://api.testnet.solana.com".into(),
        u if u.starts_with("http://") || u.starts_with("https://") => u.into(),
        other => bail!(
            "'{other}' is not a URL or moniker: use localhost, devnet, mainnet-beta, testnet or an http(s):// URL"
        ),
    })
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

/// Reads a Solana CLI keypair file (JSON array of 64 bytes), with `~` expanded.
pub fn read_keypair(path: &str) -> Result<Keypair> {
    let p = expand_home(path);
    read_keypair_file(&p).map_err(|e| {
        anyhow!(
            "cannot read keypair file {}: {e} (create one with `solana-keygen new -o {}`)",
            p.display(),
            p.display()
        )
    })
}

/// `PUBKEY=SIGNATURE`, as printed by `--sign-only`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerArg {
    pub pubkey: Pubkey,
    pub signature: Signature,
}

impl FromStr for SignerArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (pk, sig) = s
            .split_once('=')
            .ok_or_else(|| format!("'{s}' is not PUBKEY=SIGNATURE"))?;
        Ok(SignerArg {
            pubkey: pk.parse().map_err(|_| format!("'{pk}' is not a pubkey"))?,
            signature: sig
                .parse()
                .map_err(|_| format!("'{sig}' is not a signature"))?,
        })
    }
}

/// A transaction signer: a keypair file, or a pubkey whose signature was made elsewhere.
pub enum SignerSource {
    Keypair(Keypair),
    Presigned(Presigner),
    /// A pubkey with no signature yet: allowed only with --sign-only (it shows as absent).
    Absent(Pubkey),
}

impl SignerSource {
    pub fn pubkey(&self) -> Pubkey {
        match self {
            SignerSource::Keypair(k) => k.pubkey(),
            SignerSource::Presigned(p) => p.pubkey(),
            SignerSource::Absent(p) => *p,
        }
    }

    /// The keypair, for commands that must sign locally.
    pub fn keypair(&self) -> Result<&Keypair> {
        match self {
            SignerSource::Keypair(k) => Ok(k),
            _ => bail!(
                "{} must sign this command locally: give its keypair file",
                self.pubkey()
            ),
        }
    }
}

/// Resolves `-k`-style arguments: a keypair file path, or a base-58 pubkey (whose signature must
/// come from `--signer`, unless signing offline).
pub fn resolve_signer(arg: &str, presigned: &[SignerArg], sign_only: bool) -> Result<SignerSource> {
    if let Ok(pubkey) = Pubkey::from_str(arg) {
        if let Some(s) = presigned.iter().find(|s| s.pubkey == pubkey) {
            return Ok(SignerSource::Presigned(Presigner::new(
                &pubkey,
                &s.signature,
            )));
        }
        if sign_only {
            return Ok(SignerSource::Absent(pubkey));
        }
        bail!("{pubkey} is given as a pubkey, so its signature is needed: add --signer {pubkey}=<SIGNATURE> (from --sign-only)");
    }
    Ok(SignerSource::Keypair(read_keypair(arg)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_solana_config() {
        let cfg = SolanaConfig::parse(
            "---\njson_rpc_url: \"https://api.devnet.solana.com\"\nwebsocket_url: ''\nkeypair_path: /home/a/.config/solana/id.json\naddress_labels:\n  \"111\": System Program\ncommitment: confirmed\n",
        );
        assert_eq!(
            cfg.json_rpc_url.as_deref(),
            Some("https://api.devnet.solana.com")
        );
        assert_eq!(
            cfg.keypair_path.as_deref(),
            Some("/home/a/.config/solana/id.json")
        );
    }

    #[test]
    fn monikers() {
        assert_eq!(resolve_url("localhost").unwrap(), "http://localhost:8899");
        assert_eq!(resolve_url("d").unwrap(), "https://api.devnet.solana.com");
        assert_eq!(
            resolve_url("mainnet-beta").unwrap(),
            "https://api.mainnet-beta.solana.com"
        );
        assert_eq!(
            resolve_url("http://127.0.0.1:1234").unwrap(),
            "http://127.0.0.1:1234"
        );
        assert!(resolve_url("mainnet")
            .unwrap_err()
            .to_string()
            .contains("moniker"));
    }

    #[test]
    fn signer_args() {
        let kp = Keypair::new();
        let sig = kp.sign_message(b"x");
        let arg: SignerArg = format!("{}={sig}", kp.pubkey()).parse().unwrap();
        assert_eq!(arg.pubkey, kp.pubkey());
        assert!("nope".parse::<SignerArg>().is_err());
        let src = resolve_signer(&kp.pubkey().to_string(), &[arg], false).unwrap();
        assert!(matches!(src, SignerSource::Presigned(_)));
        let err = resolve_signer(&kp.pubkey().to_string(), &[], false)
            .err()
            .unwrap();
        assert!(err.to_string().contains("--signer"));
        assert!(matches!(
            resolve_signer(&kp.pubkey().to_string(), &[], true).unwrap(),
            SignerSource::Absent(_)
        ));
        assert!(resolve_signer("/nonexistent/id.json", &[], false)
            .err()
            .unwrap()
            .to_string()
            .contains("solana-keygen"));
    }
}
