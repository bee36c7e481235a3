//! JSON numbers as EventBridge compares them.
//!
//! A number "round-trips" when its decimal value is exactly the value of the
//! shortest text of the nearest double: `301.8`, `3.018e2` and `1E3` do, while
//! `9007199254740993`, `0.1000000000000000055511151231257827` and `1e400` do not.
//! Round-tripping numbers compare by value (so `-0.0` equals `0`); the others are
//! rejected by `numeric` and `anything-but` patterns, match an exact pattern only by
//! identical text, and never satisfy `numeric` in an event. This follows
//! aws/event-ruler, the engine behind EventBridge.

/// A number with its original text and, when it round-trips, its double value.
#[derive(Debug, Clone)]
pub struct Number {
    pub text: String,
    pub value: Option<f64>,
}

impl Number {
    pub fn new(text: &str) -> Number {
        Number {
            text: text.to_string(),
            value: round_trip(text),
        }
    }

    /// Exact-value equality: by value when both round-trip, else by text.
    pub fn same_as(&self, other: &Number) -> bool {
        match (self.value, other.value) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.text == other.text,
            _ => false,
        }
    }
}

/// The double a JSON number stands for, if the number round-trips through it.
pub fn round_trip(text: &str) -> Option<f64> {
    let value: f64 = text.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    // Rust prints the shortest text that reads back as the same double.
    let shortest = format!("{value:e}");
    (Decimal::parse(text)? == Decimal::parse(&shortest)?).then_some(value)
}

/// A decimal value in a canonical form: sign, significant digits without leading or
/// trailing zeros, and the power of ten of the last digit. Zero has no digits and
/// no sign, so `-0.0` and `0` are equal.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: String,
    exponent: i64,
}

impl Decimal {
    fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exp) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all: String = int_part.chars().chain(frac_part.chars()).collect();
        let exponent = exp.checked_sub(frac_part.len() as i64)?;
        let trimmed_start = all.trim_start_matches('0');
        let digits = trimmed_start.trim_end_matches('0');
        if digits.is_empty() {
            return Some(Decimal {
                negative: false,
                digits: String::new(),
                exponent: 0,
            });
        }
        let trailing = (trimmed_start.len() - digits.len()) as i64;
        Some(Decimal {
            negative,
            digits: digits.to_string(),
            exponent: exponent.checked_add(trailing)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_accepts_exact_decimal_spellings() {
        for text in [
            "0", "-0.0", "0E0", "5", "5.0", "301.8", "3.018e2", "1E3", "1E+21", "1e-3",
            "-2.75E+0", "2147483647e0", "2.2250738585072014E-308", "1.7976931348623157e308",
            "5e-324",
        ] {
            assert!(round_trip(text).is_some(), "{text} should round-trip");
        }
        assert_eq!(round_trip("3.018e2"), Some(301.8));
    }

    #[test]
    fn round_trip_rejects_inexact_or_infinite_numbers() {
        for text in [
            "9007199254740993",
            "123456789012345678901",
            "0.1000000000000000055511151231257827",
            "1e400",
            "-1e400",
            "1e309",
            "1e-400",
        ] {
            assert!(round_trip(text).is_none(), "{text} should not round-trip");
        }
    }

    #[test]
    fn same_as_compares_by_value_or_by_text() {
        assert!(Number::new("301.8").same_as(&Number::new("3.018e2")));
        assert!(Number::new("-0.0").same_as(&Number::new("0")));
        assert!(!Number::new("5").same_as(&Number::new("5.1")));
        assert!(Number::new("1e400").same_as(&Number::new("1e400")));
        assert!(!Number::new("1e400").same_as(&Number::new("1E400")));
        assert!(!Number::new("9007199254740993").same_as(&Number::new("9007199254740992")));
    }
}
