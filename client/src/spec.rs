//! Node hardware as people write it: compute capabilities like `8.9`, backends like `cuda,cpu`.

use concord::constants::{BACKEND_CPU, BACKEND_CUDA};

use crate::error::{ClientError, Result};

/// `"8.9"` → 89 (major × 10 + minor), as the program stores it.
pub fn parse_compute_capability(s: &str) -> Result<u16> {
    let (maj, min) = s.split_once('.').unwrap_or((s, "0"));
    match (maj.parse::<u16>(), min.parse::<u16>()) {
        (Ok(a), Ok(b)) if b < 10 && a < 100 => Ok(a * 10 + b),
        _ => Err(ClientError::InvalidInput(format!(
            "compute capability '{s}' is not like 8.6 or 9.0"
        ))),
    }
}

/// A compute backend a node offers and a job may require.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// The CPU backend (every node has it; bit-identical to the GPU's output).
    Cpu,
    /// An NVIDIA GPU through CUDA.
    Cuda,
}

impl Backend {
    /// The program's bit for this backend.
    pub fn bit(self) -> u8 {
        match self {
            Backend::Cpu => BACKEND_CPU,
            Backend::Cuda => BACKEND_CUDA,
        }
    }

    /// The name files and the command line use: `cpu`, `cuda`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Cuda => "cuda",
        }
    }

    /// The bitmask of a list of backends.
    pub fn mask(backends: &[Backend]) -> u8 {
        backends.iter().fold(0, |m, b| m | b.bit())
    }
}

impl std::str::FromStr for Backend {
    type Err = ClientError;
    fn from_str(s: &str) -> Result<Backend> {
        match s.trim() {
            "cpu" => Ok(Backend::Cpu),
            "cuda" => Ok(Backend::Cuda),
            other => Err(ClientError::InvalidInput(format!(
                "unknown backend '{other}': use cuda, cpu or cuda,cpu"
            ))),
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Read from a string through `FromStr` (config files: `backends = ["cpu", "cuda"]`),
/// so files and the command line accept exactly the same words.
impl<'de> serde::Deserialize<'de> for Backend {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Backend, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `"cuda,cpu"` → the backends bitmask.
pub fn parse_backends(s: &str) -> Result<u8> {
    let backends = s
        .split(',')
        .map(str::parse)
        .collect::<Result<Vec<Backend>>>()?;
    Ok(Backend::mask(&backends))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(parse_compute_capability("8.9").unwrap(), 89);
        assert_eq!(parse_compute_capability("9").unwrap(), 90);
        assert!(parse_compute_capability("8.10").is_err());
        assert!(parse_compute_capability("x").is_err());
        assert_eq!(
            parse_backends("cuda, cpu").unwrap(),
            BACKEND_CUDA | BACKEND_CPU
        );
        assert!(parse_backends("tpu")
            .unwrap_err()
            .to_string()
            .contains("unknown backend"));
    }
}
