//! `--output display|json`: every command prints either a human summary or one JSON object.

use serde_json::Value;

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
            Format::Json => println!("{}", serde_json::to_string_pretty(&value).expect("JSON")),
            Format::Display => print!("{}", human()),
        }
    }
}
