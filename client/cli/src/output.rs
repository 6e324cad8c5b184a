//! `--output display|json`: every command prints either a human summary or one JSON object.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// The real stdout, once program logs are silenced.
static REAL_STDOUT: OnceLock<Mutex<std::fs::File>> = OnceLock::new();

/// The Concord program runs natively inside `localnet` and `demo`, where its `msg!` logs are
/// `println!`s. This points file descriptor 1 at /dev/null and keeps a duplicate of the real
/// stdout for the CLI's own output. `CONCORD_PROGRAM_LOGS=1` keeps the logs.
pub fn silence_program_logs() {
    if std::env::var("CONCORD_PROGRAM_LOGS").is_ok_and(|v| v == "1") || REAL_STDOUT.get().is_some()
    {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::fd::FromRawFd;
        std::io::stdout().flush().ok();
        // SAFETY: plain descriptor calls; `saved` is a fresh descriptor owned by the File.
        unsafe {
            let saved = libc::dup(1);
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if saved < 0 || null < 0 || libc::dup2(null, 1) < 0 {
                return;
            }
            libc::close(null);
            let _ = REAL_STDOUT.set(Mutex::new(std::fs::File::from_raw_fd(saved)));
        }
    }
}

/// Prints to the real stdout.
pub fn print(text: &str) {
    match REAL_STDOUT.get() {
        Some(f) => {
            let mut f = f.lock().expect("stdout lock");
            let _ = f.write_all(text.as_bytes());
            let _ = f.flush();
        }
        None => {
            print!("{text}");
            let _ = std::io::stdout().flush();
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Display,
    Json,
}

#[derive(Clone, Copy, Debug)]
pub struct Output {
    pub format: Format,
}

impl Output {
    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    /// Prints `value` as JSON, or the human text.
    pub fn emit(&self, value: Value, human: impl FnOnce() -> String) {
        match self.format {
            Format::Json => print(&format!(
                "{}\n",
                serde_json::to_string_pretty(&value).expect("JSON")
            )),
            Format::Display => print(&human()),
        }
    }
}
