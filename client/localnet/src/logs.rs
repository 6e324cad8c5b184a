//! Transaction logs as a validator writes them.
//!
//! A natively loaded program is invoked through solana-program-test's builtin shim, which logs
//! its own `invoke`/`success`/`failed` lines beside the runtime's, and announces each of its CPIs
//! at the caller's depth before the runtime announces it at the callee's. A validator writes one
//! `Program <id> invoke [depth]` per invocation, at depth = the stack height. [`normalize`] keeps
//! exactly that: an invoke line is kept only when its depth is one more than the open frames, and
//! a `success`/`failed` line only when it closes the innermost open frame of that program. The
//! Concord program's `sol_log_data` lines, which the native stubs can only write as tagged
//! `Program log:` lines, become `Program data:` lines inside a Concord frame (and nowhere else).

use concord::native::DATA_LOG_MARKER;

enum Line<'a> {
    Invoke { program: &'a str, depth: usize },
    Success { program: &'a str },
    Failed { program: &'a str },
    Log(&'a str),
    Other,
}

fn classify(line: &str) -> Line<'_> {
    if let Some(log) = line.strip_prefix("Program log: ") {
        return Line::Log(log);
    }
    let Some(rest) = line.strip_prefix("Program ") else {
        return Line::Other;
    };
    let Some((program, tail)) = rest.split_once(' ') else {
        return Line::Other;
    };
    if tail == "success" {
        return Line::Success { program };
    }
    if tail.starts_with("failed: ") {
        return Line::Failed { program };
    }
    if let Some(depth) = tail
        .strip_prefix("invoke [")
        .and_then(|d| d.strip_suffix(']'))
        .and_then(|d| d.parse().ok())
    {
        return Line::Invoke { program, depth };
    }
    Line::Other
}

/// The validator's form of the runtime's `raw` log of one transaction.
///
/// One line cannot be restored: natively, `Pubkey::log` (Anchor's `Left:`/`Right:` pubkeys after
/// a constraint error) prints instead of logging. A bare `Left:` line followed by `Right:` is
/// dropped with it, so that clients parse the `AnchorError` line before them by itself (the error
/// keeps its name, code and message; only the compared pubkeys are missing).
pub fn normalize(raw: &[String]) -> Vec<String> {
    let mut out = frames(raw);
    let mut i = 0;
    while i + 1 < out.len() {
        if out[i] == "Program log: Left:" && out[i + 1] == "Program log: Right:" {
            out.drain(i..i + 2);
        } else {
            i += 1;
        }
    }
    out
}

fn frames(raw: &[String]) -> Vec<String> {
    let concord = concord::ID.to_string();
    let mut frames: Vec<&str> = Vec::new();
    let mut out = Vec::with_capacity(raw.len());
    for line in raw {
        match classify(line) {
            Line::Invoke { program, depth } => {
                if depth != frames.len() + 1 {
                    continue;
                }
                frames.push(program);
            }
            Line::Success { program } | Line::Failed { program } => {
                if frames.last() != Some(&program) {
                    continue;
                }
                frames.pop();
            }
            Line::Log(log) => {
                if let Some(data) = log.strip_prefix(DATA_LOG_MARKER) {
                    if frames.last() == Some(&concord.as_str()) {
                        out.push(format!("Program data: {data}"));
                    }
                    continue;
                }
            }
            Line::Other => {}
        }
        out.push(line.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn native_shim_lines_become_a_validators() {
        let c = concord::ID.to_string();
        let t = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
        let raw = lines(&[
            &format!("Program {c} invoke [1]"),
            &format!("Program {c} invoke [1]"),
            "Program log: Instruction: CreateJob",
            &format!("Program {t} invoke [1]"),
            &format!("Program {t} invoke [2]"),
            "Program log: Instruction: TransferChecked",
            &format!("Program {t} consumed 6200 of 190000 compute units"),
            &format!("Program {t} success"),
            &format!("Program {t} success"),
            &format!("Program log: {DATA_LOG_MARKER}AQID"),
            &format!("Program {c} success"),
            &format!("Program {c} success"),
        ]);
        let want = lines(&[
            &format!("Program {c} invoke [1]"),
            "Program log: Instruction: CreateJob",
            &format!("Program {t} invoke [2]"),
            "Program log: Instruction: TransferChecked",
            &format!("Program {t} consumed 6200 of 190000 compute units"),
            &format!("Program {t} success"),
            "Program data: AQID",
            &format!("Program {c} success"),
        ]);
        assert_eq!(normalize(&raw), want);
    }

    #[test]
    fn failures_once_and_no_forged_data_lines() {
        let c = concord::ID.to_string();
        let other = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr";
        let raw = lines(&[
            &format!("Program {other} invoke [1]"),
            &format!("Program log: {DATA_LOG_MARKER}AQID"),
            &format!("Program {other} success"),
            &format!("Program {c} invoke [1]"),
            &format!("Program {c} invoke [1]"),
            "Program log: AnchorError occurred. Error Code: Paused. Error Number: 6000. Error Message: paused.",
            "Program log: Left:",
            "Program log: Right:",
            &format!("Program {c} failed: custom program error: 0x1770"),
            &format!("Program {c} failed: custom program error: 0x1770"),
        ]);
        let want = lines(&[
            &format!("Program {other} invoke [1]"),
            &format!("Program {other} success"),
            &format!("Program {c} invoke [1]"),
            "Program log: AnchorError occurred. Error Code: Paused. Error Number: 6000. Error Message: paused.",
            &format!("Program {c} failed: custom program error: 0x1770"),
        ]);
        assert_eq!(normalize(&raw), want);
    }
}
