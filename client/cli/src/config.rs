//! Solana CLI conventions: `~/.config/solana/cli/config.yml`, URL monikers, keypair paths, and
//! signers given as keypair files or as pubkeys with offline signatures.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use std::rc::Rc;

use anyhow::{anyhow, bail, Context, Result};
use solana_clap_v3_utils::input_parsers::signer::{
    SignerSource as ClapSignerSource, SignerSourceError, SignerSourceKind,
};
use solana_presigner::Presigner;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, Keypair, Signature, Signer};

/// The parts of the Solana CLI's config file that concord uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SolanaConfig {
    pub json_rpc_url: Option<String>,
    pub websocket_url: Option<String>,
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
                "websocket_url" => cfg.websocket_url = Some(value),
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

/// A transaction signer, from any form the Solana CLI accepts (see [`SignerOptions::resolve`]).
pub enum SignerSource {
    /// A keypair held in memory: read from a file, from standard input, or derived from a seed
    /// phrase typed at the prompt.
    Keypair(Keypair),
    /// A pubkey with its signature made elsewhere (`--signer PUBKEY=SIGNATURE`).
    Presigned(Presigner),
    /// A pubkey with no signature yet: allowed only with --sign-only (it shows as absent).
    Absent(Pubkey),
    /// A hardware wallet (`usb://ledger`): every message is signed on the device.
    Remote(Rc<dyn Signer>),
}

impl SignerSource {
    pub fn pubkey(&self) -> Pubkey {
        match self {
            SignerSource::Keypair(k) => k.pubkey(),
            SignerSource::Presigned(p) => p.pubkey(),
            SignerSource::Absent(p) => *p,
            SignerSource::Remote(r) => r.pubkey(),
        }
    }

    /// The same signer again (the fee payer is usually the -k wallet; a seed phrase or
    /// standard input is read once, a hardware wallet opened once).
    pub fn share(&self) -> SignerSource {
        match self {
            SignerSource::Keypair(k) => SignerSource::Keypair(k.insecure_clone()),
            SignerSource::Presigned(p) => SignerSource::Presigned(p.clone()),
            SignerSource::Absent(p) => SignerSource::Absent(*p),
            SignerSource::Remote(r) => SignerSource::Remote(Rc::clone(r)),
        }
    }

    /// The signer, for signing here and now (none for an absent one).
    pub fn signer(&self) -> Option<&dyn Signer> {
        match self {
            SignerSource::Keypair(k) => Some(k),
            SignerSource::Presigned(p) => Some(p),
            SignerSource::Absent(_) => None,
            SignerSource::Remote(r) => Some(r.as_ref()),
        }
    }
}

/// How signer arguments are resolved: the `--signer` signatures, `--sign-only`, and
/// `--skip-seed-phrase-validation`, as in the Solana CLI.
#[derive(Clone, Debug, Default)]
pub struct SignerOptions {
    pub presigned: Vec<SignerArg>,
    pub sign_only: bool,
    pub skip_seed_phrase_validation: bool,
}

impl SignerOptions {
    /// Resolves a `-k`/`--fee-payer`/`keypair_path` value with the Solana CLI's own parser
    /// (`solana-clap-v3-utils`), so every form it accepts works the same here:
    /// - a keypair file path (`~` expanded), or `file:PATH`;
    /// - `prompt://` (or `prompt:`, or the legacy `ASK`): a seed phrase and optional passphrase
    ///   read from the terminal, with `?key=ACCOUNT[/CHANGE]` for BIP44 derivation
    ///   (`m/44'/501'/ACCOUNT'/CHANGE'`) and `?full-path=m/…` for any path;
    /// - `stdin` (also `stdin:`, `stdin://`, `-`): a keypair file's JSON on standard input;
    /// - `usb://ledger[?key=ACCOUNT[/CHANGE]]`: a Ledger (built with the `ledger` feature);
    /// - a base-58 pubkey, whose signature comes from `--signer PUBKEY=SIGNATURE` (or is left
    ///   absent with `--sign-only`).
    ///
    /// `name` labels the prompt (`keypair`, `fee-payer`).
    pub fn resolve(&self, arg: &str, name: &str) -> Result<SignerSource> {
        let expanded = expand_home(arg);
        let mut text = expanded.to_string_lossy().into_owned();
        // Solana's parser knows `stdin:`/`stdin://` and `-`; a bare `stdin` is read the same
        // unless a file of that name exists.
        if text == "stdin" && !Path::new("stdin").exists() {
            text = "stdin:".into();
        }
        let source = match ClapSignerSource::parse(&text) {
            Ok(source) => source,
            // No scheme, not a pubkey, and no such file: say which file is missing.
            Err(SignerSourceError::IoError(_)) => {
                return read_keypair(arg).map(SignerSource::Keypair)
            }
            Err(e) => bail!(
                "'{arg}' is not a signer: {e}. Use a keypair file path, prompt://, stdin, usb://ledger or a pubkey with --signer PUBKEY=SIGNATURE"
            ),
        };
        match &source.kind {
            SignerSourceKind::Pubkey(pubkey) => self.pubkey_signer(*pubkey),
            SignerSourceKind::Filepath(path) => read_keypair(path).map(SignerSource::Keypair),
            SignerSourceKind::Usb(_) => remote_signer(&source, name, arg),
            SignerSourceKind::Prompt | SignerSourceKind::Stdin => {
                let matches = self.clap_matches();
                solana_clap_v3_utils::keypair::keypair_from_source(&matches, &source, name, false)
                    .map(SignerSource::Keypair)
                    .map_err(|e| anyhow!("cannot read the {name} from {arg}: {e}"))
            }
        }
    }

    fn pubkey_signer(&self, pubkey: Pubkey) -> Result<SignerSource> {
        if let Some(s) = self.presigned.iter().find(|s| s.pubkey == pubkey) {
            return Ok(SignerSource::Presigned(Presigner::new(
                &pubkey,
                &s.signature,
            )));
        }
        if self.sign_only {
            return Ok(SignerSource::Absent(pubkey));
        }
        bail!("{pubkey} is given as a pubkey, so its signature is needed: add --signer {pubkey}=<SIGNATURE> (from --sign-only)");
    }

    /// The clap 3 matches `solana-clap-v3-utils` reads its seed-phrase option from.
    fn clap_matches(&self) -> clap3::ArgMatches {
        let arg = solana_clap_v3_utils::keypair::SKIP_SEED_PHRASE_VALIDATION_ARG;
        let mut argv = vec!["concord".to_string()];
        if self.skip_seed_phrase_validation {
            argv.push(format!("--{}", arg.long));
        }
        clap3::Command::new("concord")
            .arg(clap3::Arg::new(arg.name).long(arg.long))
            .get_matches_from(argv)
    }
}

#[cfg(feature = "ledger")]
fn remote_signer(source: &ClapSignerSource, name: &str, arg: &str) -> Result<SignerSource> {
    let mut wallet_manager = None;
    let matches = SignerOptions::default().clap_matches();
    let signer = solana_clap_v3_utils::keypair::signer_from_source(
        &matches,
        source,
        name,
        &mut wallet_manager,
    )
    .map_err(|e| anyhow!("cannot use the hardware wallet {arg} as the {name}: {e} (is it plugged in, unlocked, with the Solana app open?)"))?;
    Ok(SignerSource::Remote(Rc::from(signer)))
}

#[cfg(not(feature = "ledger"))]
fn remote_signer(_: &ClapSignerSource, name: &str, arg: &str) -> Result<SignerSource> {
    bail!(
        "{arg} (the {name}) needs a hardware-wallet build of concord: cargo install --path client/cli --features ledger (on Linux it needs libudev-dev); or sign offline with --sign-only and pass the signature with --signer"
    )
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
            cfg.websocket_url, None,
            "an empty websocket_url is derived from the RPC URL"
        );
        let custom = SolanaConfig::parse("websocket_url: wss://ws.example\n");
        assert_eq!(custom.websocket_url.as_deref(), Some("wss://ws.example"));
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
        let me = kp.pubkey().to_string();
        let presigned = SignerOptions {
            presigned: vec![arg],
            ..SignerOptions::default()
        };
        let src = presigned.resolve(&me, "keypair").unwrap();
        assert!(matches!(src, SignerSource::Presigned(_)));
        assert!(src.signer().is_some());
        let err = SignerOptions::default()
            .resolve(&me, "keypair")
            .err()
            .unwrap();
        assert!(err.to_string().contains("--signer"));
        let offline = SignerOptions {
            sign_only: true,
            ..SignerOptions::default()
        };
        let absent = offline.resolve(&me, "keypair").unwrap();
        assert!(matches!(absent, SignerSource::Absent(_)) && absent.signer().is_none());
        assert_eq!(absent.share().pubkey(), kp.pubkey());
        assert!(SignerOptions::default()
            .resolve("/nonexistent/id.json", "keypair")
            .err()
            .unwrap()
            .to_string()
            .contains("solana-keygen"));
        let dir = std::env::temp_dir().join(format!("concord-signer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("id.json");
        solana_sdk::signature::write_keypair_file(&kp, &file).unwrap();
        let from_file = SignerOptions::default()
            .resolve(file.to_str().unwrap(), "keypair")
            .unwrap();
        assert!(matches!(from_file.share(), SignerSource::Keypair(k) if k.pubkey() == kp.pubkey()));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
