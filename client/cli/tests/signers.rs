//! Every signer form the Solana CLI accepts, through the `concord` binary: keypair files (with
//! `~` and `file:`), the Solana CLI config's `keypair_path`, `stdin`, `prompt://` (seed phrase
//! and passphrase typed at a real terminal, with and without `?key=` derivation, the legacy
//! `ASK`, non-BIP39 phrases), pubkeys with presigned signatures or `--sign-only`, and
//! `usb://ledger` refused with the way to get it. A job paid from a seed-phrase wallet, with a
//! file fee payer, runs against the test network in `cli.rs`' style.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use assert_cmd::Command;
use solana_derivation_path::DerivationPath;
use solana_keypair::seed_derivable::keypair_from_seed_and_derivation_path;
use solana_sdk::signature::{write_keypair_file, Keypair, Signer};
use solana_seed_phrase::generate_seed_from_seed_phrase_and_passphrase;

const PHRASE: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

/// `concord --output json ARGS` (with no Solana CLI config unless ARGS give one), in `dir`
/// with HOME there.
fn concord(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::cargo_bin("concord").unwrap();
    c.current_dir(dir)
        .env("HOME", dir)
        .env_remove("CONCORD_URL")
        .args(["--output", "json"]);
    if !args.contains(&"-C") {
        c.args(["-C", "no-such-config.yml"]);
    }
    c.args(args).timeout(Duration::from_secs(60));
    c
}

fn address_of(out: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)));
    v["address"].as_str().expect("address").to_string()
}

fn address(dir: &Path, args: &[&str]) -> String {
    let out = concord(dir, args).arg("address").assert().success();
    address_of(&out.get_output().stdout)
}

fn refused(dir: &Path, args: &[&str], message: &str) {
    let out = concord(dir, args).arg("address").assert().failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains(message),
        "{args:?}: expected '{message}' in: {stderr}"
    );
}

/// Runs `concord ARGS address` on a pseudo-terminal (util-linux `script`) with `typed` as what
/// the user types; returns its exit status and what the terminal showed (`\r` removed), or
/// `None` (with the reason printed) where `script` is missing. rpassword reads the terminal,
/// never standard input, so only a terminal tests `prompt://` as a user meets it.
fn on_terminal(dir: &Path, args: &[&str], typed: &str) -> Option<(bool, String)> {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: util-linux `script` is not installed, so no terminal can be given to `concord` here");
        return None;
    }
    let bin = assert_cmd::cargo::cargo_bin("concord");
    let mut cmd = format!("'{}' -C no-such-config.yml", bin.display());
    for a in args {
        cmd.push_str(&format!(" '{a}'"));
    }
    cmd.push_str(" address");
    let mut child = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir)
        .env("HOME", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(typed.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    Some((out.status.success(), text))
}

/// [`on_terminal`], which must succeed: the address it printed last.
fn at_terminal(dir: &Path, args: &[&str], typed: &str) -> Option<String> {
    let (ok, text) = on_terminal(dir, args, typed)?;
    assert!(ok, "{args:?} at a terminal failed: {text}");
    Some(text.lines().last().unwrap_or_default().trim().to_string())
}

fn derived(phrase: &str, passphrase: &str, path: Option<DerivationPath>) -> String {
    let seed = generate_seed_from_seed_phrase_and_passphrase(phrase, passphrase);
    keypair_from_seed_and_derivation_path(&seed, path)
        .unwrap()
        .pubkey()
        .to_string()
}

#[test]
fn keypair_files_config_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let kp = Keypair::new();
    std::fs::create_dir_all(d.join(".config/solana")).unwrap();
    let path = d.join(".config/solana/id.json");
    write_keypair_file(&kp, &path).unwrap();
    let me = kp.pubkey().to_string();
    let p = path.to_str().unwrap();
    assert_eq!(address(d, &["-k", p]), me);
    assert_eq!(address(d, &["-k", &format!("file:{p}")]), me);
    assert_eq!(
        address(d, &["-k", "~/.config/solana/id.json"]),
        me,
        "~ is the home directory"
    );
    // The Solana CLI config's keypair_path, in any form -k takes.
    std::fs::write(d.join("config.yml"), format!("keypair_path: {p}\n")).unwrap();
    assert_eq!(address(d, &["-C", "config.yml"]), me);
    std::fs::write(d.join("stdin.yml"), "keypair_path: stdin\n").unwrap();
    let json = std::fs::read(&path).unwrap();
    for args in [
        &["-k", "stdin"][..],
        &["-k", "stdin://"],
        &["-k", "-"],
        &["-C", "stdin.yml"],
    ] {
        let out = concord(d, args)
            .arg("address")
            .write_stdin(json.clone())
            .assert()
            .success();
        assert_eq!(address_of(&out.get_output().stdout), me, "{args:?}");
    }
    // What goes wrong says what to do.
    refused(d, &["-k", "missing.json"], "solana-keygen new");
    let out = concord(d, &["-k", "stdin"])
        .arg("address")
        .write_stdin("not a keypair")
        .assert()
        .failure();
    assert!(String::from_utf8_lossy(&out.get_output().stderr)
        .contains("cannot read the keypair from stdin"));
    refused(d, &["-k", "nfc://wallet"], "is not a signer");
}

#[test]
fn seed_phrases_at_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let typed = format!("{PHRASE}\n\n");
    let Some(base) = at_terminal(d, &["-k", "prompt://"], &typed) else {
        return;
    };
    assert_eq!(base, derived(PHRASE, "", None), "prompt:// is m/44'/501'");
    let bip44 = |a, c| Some(DerivationPath::new_bip44(Some(a), Some(c)));
    assert_eq!(
        at_terminal(d, &["-k", "prompt://?key=0/0"], &typed).unwrap(),
        derived(PHRASE, "", bip44(0, 0)),
        "the Phantom/Solflare account 0"
    );
    assert_eq!(
        at_terminal(d, &["-k", "prompt:?key=3/1"], &typed).unwrap(),
        derived(PHRASE, "", bip44(3, 1))
    );
    assert_eq!(
        at_terminal(
            d,
            &["-k", "prompt://?key=0/0"],
            &format!("{PHRASE}\nsecret words\nsecret words\n")
        )
        .unwrap(),
        derived(PHRASE, "secret words", bip44(0, 0)),
        "a passphrase changes the key"
    );
    // The legacy `ASK`: the seed's first 32 bytes, no derivation.
    let seed = generate_seed_from_seed_phrase_and_passphrase(PHRASE, "");
    let legacy = <Keypair as solana_sdk::signature::SeedDerivable>::from_seed(&seed).unwrap();
    assert_eq!(
        at_terminal(d, &["-k", "ASK"], &typed).unwrap(),
        legacy.pubkey().to_string()
    );
    assert_ne!(base, derived(PHRASE, "", bip44(0, 0)), "the paths differ");
    // Not BIP39: refused unless asked for.
    let (ok, text) =
        on_terminal(d, &["-k", "prompt://"], "correct horse battery staple\n\n").unwrap();
    assert!(!ok);
    assert!(text.contains("mnemonic"), "{text}");
    let words = "correct horse battery staple";
    assert_eq!(
        at_terminal(
            d,
            &["--skip-seed-phrase-validation", "-k", "prompt://"],
            &format!("{words}\n\n")
        )
        .unwrap(),
        derived(words, "", None)
    );
}

#[test]
fn pubkeys_presigners_and_hardware_wallets() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let kp = Keypair::new();
    let me = kp.pubkey().to_string();
    refused(d, &["-k", &me], &format!("--signer {me}=<SIGNATURE>"));
    assert_eq!(address(d, &["-k", &me, "--sign-only"]), me);
    let sig = kp.sign_message(b"anything");
    assert_eq!(
        address(d, &["-k", &me, "--signer", &format!("{me}={sig}")]),
        me
    );
    refused(
        d,
        &["-k", &me, "--signer", "nope"],
        "is not PUBKEY=SIGNATURE",
    );
    // The default build has no USB stack: it says how to get one, and how to do without.
    #[cfg(not(feature = "ledger"))]
    {
        refused(d, &["-k", "usb://ledger"], "--features ledger");
        refused(d, &["-k", "usb://ledger?key=0/0"], "--sign-only");
    }
    refused(d, &["-k", "usb://trezor"], "is not a signer");
}
