//! `concord-worker register|stake|status` moved to `concord node …`: each says where it went.

use std::process::Command;

#[test]
fn operator_subcommands_point_to_the_concord_cli() {
    for (old, new) in [
        ("register", "node register --gpu-model"),
        ("stake", "node stake <TOKENS>"),
        ("status", "node show"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_concord-worker"))
            .args([old, "-c", "worker.toml", "--stake", "200"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{old} must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!(
                "`concord-worker {old}` moved to the `concord` CLI"
            )) && err.contains(new),
            "{old}: {err}"
        );
    }
    // They are not advertised.
    let help = Command::new(env!("CARGO_BIN_EXE_concord-worker"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("run") && !help.contains("register"), "{help}");
}
