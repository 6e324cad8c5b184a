//! Token amounts as people write them ("12.5") and as the chain stores them (raw units).

use crate::error::{ClientError, Result};

/// Parses a decimal token amount into raw units of a mint with `decimals` decimals.
/// `"1.5"` with 6 decimals is 1_500_000. More fractional digits than the mint has is an error.
pub fn parse_amount(text: &str, decimals: u8) -> Result<u64> {
    let bad = |why: &str| ClientError::InvalidInput(format!("invalid amount '{text}': {why}"));
    let t = text.trim();
    if t.is_empty() || t.starts_with('-') || t.starts_with('+') {
        return Err(bad("expected a non-negative number like 12 or 12.5"));
    }
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() && frac.is_empty() {
        return Err(bad("expected a number"));
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad("expected digits and at most one '.'"));
    }
    if frac.len() > usize::from(decimals) {
        return Err(bad(&format!("the mint has only {decimals} decimals")));
    }
    let scale = 10u128.pow(u32::from(decimals));
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad("too large"))?
    };
    let frac_units: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u128>().map_err(|_| bad("too large"))?
            * 10u128.pow(u32::from(decimals) - frac.len() as u32)
    };
    let raw = whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_units))
        .ok_or_else(|| bad("too large"))?;
    u64::try_from(raw).map_err(|_| bad("too large for a token amount"))
}

/// Formats raw units with the mint's decimals, trimming trailing zeros ("1.5", "20").
pub fn format_amount(raw: u64, decimals: u8) -> String {
    if decimals == 0 {
        return raw.to_string();
    }
    let scale = 10u64.pow(u32::from(decimals));
    let frac = format!("{:0width$}", raw % scale, width = usize::from(decimals));
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        (raw / scale).to_string()
    } else {
        format!("{}.{frac}", raw / scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(parse_amount("1.5", 6).unwrap(), 1_500_000);
        assert_eq!(parse_amount("20", 6).unwrap(), 20_000_000);
        assert_eq!(parse_amount(".25", 2).unwrap(), 25);
        assert_eq!(parse_amount("0.000001", 6).unwrap(), 1);
        assert_eq!(parse_amount("18446744073709.551615", 6).unwrap(), u64::MAX);
        for bad in [
            "",
            "-1",
            "1.2.3",
            "abc",
            "1.0000001",
            "18446744073709.551616",
            ".",
        ] {
            assert!(parse_amount(bad, 6).is_err(), "{bad}");
        }
        assert!(parse_amount("1.0000001", 6)
            .unwrap_err()
            .to_string()
            .contains("6 decimals"));
        assert_eq!(format_amount(1_500_000, 6), "1.5");
        assert_eq!(format_amount(20_000_000, 6), "20");
        assert_eq!(format_amount(1, 6), "0.000001");
        assert_eq!(format_amount(7, 0), "7");
    }
}
