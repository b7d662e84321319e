//! Amounts in a currency's minor unit, as prices and splits are kept:
//! integers, never floats.

/// The ISO 4217 minor-unit exponent of `currency`: 2 (cents) unless listed.
fn exponent(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// Whether `code` has the form of an ISO 4217 code.
pub(crate) fn is_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// A decimal amount (`"25.00"`, as payment terms hold fees) in minor units
/// of `currency`; `None` when it has more decimals than the currency has
/// minor digits (a fraction of a cent), or does not fit.
pub(crate) fn to_minor(amount: &str, currency: &str) -> Option<u64> {
    let digits = exponent(currency) as usize;
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let (kept, dropped) = fraction.split_at(fraction.len().min(digits));
    if dropped.bytes().any(|b| b != b'0') {
        return None;
    }
    let scale = 10u64.checked_pow(u32::try_from(digits).ok()?)?;
    let whole: u64 = whole.parse().ok()?;
    let fraction: u64 = format!("{kept:0<digits$}").parse().unwrap_or(0);
    whole.checked_mul(scale)?.checked_add(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_convert_at_the_currencys_exponent() {
        assert_eq!(to_minor("25.00", "EUR"), Some(2500));
        assert_eq!(to_minor("25", "EUR"), Some(2500));
        assert_eq!(to_minor("0.5", "USD"), Some(50));
        assert_eq!(to_minor("1200", "JPY"), Some(1200));
        assert_eq!(to_minor("1200.0", "JPY"), Some(1200));
        assert_eq!(to_minor("1.234", "KWD"), Some(1234));
        assert_eq!(to_minor("0.001", "EUR"), None);
        assert_eq!(to_minor("1.5", "JPY"), None);
        assert_eq!(to_minor("-1", "EUR"), None);
        assert_eq!(to_minor("99999999999999999999", "EUR"), None);
        assert!(is_currency("EUR") && !is_currency("eur") && !is_currency("EURO"));
    }
}
