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

/// `"cuda,cpu"` → the backends bitmask.
pub fn parse_backends(s: &str) -> Result<u8> {
    let mut mask = 0;
    for b in s.split(',').map(str::trim) {
        mask |= match b {
            "cuda" => BACKEND_CUDA,
            "cpu" => BACKEND_CPU,
            other => {
                return Err(ClientError::InvalidInput(format!(
                    "unknown backend '{other}': use cuda, cpu or cuda,cpu"
                )))
            }
        };
    }
    Ok(mask)
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
