//! `--output display|json`: every command prints either a human summary or one JSON object.

use std::io::Write;

use serde_json::Value;

/// Prints and flushes (progress lines appear as they happen). The embedded network's program
/// logs never reach stdout: they go to the transactions' logs (`concord::native`).
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
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
