//! How numbers read on the card: the only place a figure becomes text.
//!
//! A card is read at a glance on a phone, so figures are rounded to one decimal (none when it is
//! zero) and grouped by thousands; and a NaN or an infinity from a caller's division is drawn as
//! neither text nor geometry, so one bad figure cannot break the card.

/// Replaces NaN and infinities by 0 so that no geometry is computed from them.
pub(super) fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// An integer without decimals, anything else with one, thousands grouped: "1,234", "12.5", "-3".
pub(super) fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let tenths = (v * 10.0).round();
    let negative = tenths < 0.0;
    let tenths = tenths.abs();
    let whole = (tenths / 10.0).trunc();
    let decimal = (tenths - whole * 10.0) as u8;
    let digits = (whole as u64).to_string();
    let mut out = String::with_capacity(digits.len() + 6);
    if negative {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    if decimal != 0 {
        out.push('.');
        out.push(char::from(b'0' + decimal.min(9)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(fmt_num(12.0), "12");
        assert_eq!(fmt_num(12.04), "12");
        assert_eq!(fmt_num(0.96), "1");
        assert_eq!(fmt_num(1234.5), "1,234.5");
        assert_eq!(fmt_num(1_000_000.0), "1,000,000");
        assert_eq!(fmt_num(-3.25), "-3.3");
        assert_eq!(fmt_num(-0.01), "0");
        assert_eq!(fmt_num(f64::NAN), "—");
    }
}
