//! `cargo run -p concord-idl` writes `idl/concord.json`; with `--check` it fails if the committed
//! file differs from what the program's source produces.
//!
//! Anchor 1.x builds the IDL on the host: the program is compiled with its `idl-build` feature and
//! a generated test prints the IDL pieces, which `anchor-lang-idl` assembles. This is the same
//! path `anchor build` / `anchor idl build` take, without needing the anchor CLI.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let program = root.join("programs/concord");
    let out = root.join("idl").join("concord.json");

    // anchor-lang-idl sets RUSTFLAGS="-A warnings", which would rebuild every dependency with new
    // flags; an (empty) CARGO_ENCODED_RUSTFLAGS takes precedence and keeps the normal build cache.
    if std::env::var_os("CARGO_ENCODED_RUSTFLAGS").is_none() {
        std::env::set_var("CARGO_ENCODED_RUSTFLAGS", "");
    }
    // anchor-lang-idl 0.1.4 turns RUSTUP_TOOLCHAIN (set by rustup's proxy under `cargo run`) into
    // a literal `cargo +{toolchain}` argument; the machine's one toolchain is the default anyway.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let idl = match anchor_lang_idl::build::IdlBuilder::new()
        .program_path(program)
        .cargo_args(vec!["--lib".into()])
        .build()
    {
        Ok(idl) => idl,
        Err(e) => {
            eprintln!("error: building the IDL failed: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let json = serde_json::to_string_pretty(&idl).expect("IDL serializes") + "\n";

    if check {
        let committed = std::fs::read_to_string(&out).unwrap_or_default();
        if committed != json {
            eprintln!(
                "error: {} is stale; regenerate it with `cargo run -p concord-idl` and commit it",
                out.display()
            );
            return ExitCode::FAILURE;
        }
        println!("{} is up to date", out.display());
    } else {
        std::fs::write(&out, json).expect("write IDL");
        println!("wrote {}", out.display());
    }
    ExitCode::SUCCESS
}
