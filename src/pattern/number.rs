//! JSON numbers as EventBridge compares them.
//!
//! A number "round-trips" when its decimal value is exactly the value of the
//! shortest text of the nearest double: `301.8`, `3.018e2` and `1E3` do, while
//! `9007199254740993`, `0.1000000000000000055511151231257827` and `1e400` do not.
//! Round-tripping numbers compare by value (so `-0.0` equals `0`); the others are
//! rejected by `numeric` and `anything-but` patterns, match an exact pattern only by
//! identical text, and never satisfy `numeric` in an event. This follows
//! aws/event-ruler, the engine behind EventBridge.

/// A number in a pattern: its original text and, when it round-trips, its value.
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

    pub fn as_ref(&self) -> NumberRef<'_> {
        NumberRef {
            text: &self.text,
            value: self.value,
        }
    }
}

/// A number borrowed from an event: its text and, when it round-trips, its value.
#[derive(Debug, Clone, Copy)]
pub struct NumberRef<'a> {
    pub text: &'a str,
    pub value: Option<f64>,
}

impl<'a> NumberRef<'a> {
    pub fn new(text: &'a str) -> NumberRef<'a> {
        NumberRef {
            text,
            value: round_trip(text),
        }
    }

    /// Exact-value equality: by value when both round-trip, else by text.
    pub fn same_as(&self, other: &NumberRef<'_>) -> bool {
        match (self.value, other.value) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.text == other.text,
            _ => false,
        }
    }
}

/// The double a JSON number stands for, if the number round-trips through it.
pub fn round_trip(text: &str) -> Option<f64> {
    // Fast path: a decimal with at most 15 significant digits and no exponent is
    // always recovered exactly from its nearest double (DBL_DIG is 15).
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    if digits <= 15 && !text.bytes().any(|b| b == b'e' || b == b'E') {
        return text.parse().ok();
    }
    round_trip_slow(text)
}

fn round_trip_slow(text: &str) -> Option<f64> {
    let value: f64 = text.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    // Rust prints the shortest text that reads back as the same double, choosing
    // the closest when several qualify (faster formatters such as zmij may pick
    // another 17-digit text, which would change which numbers round-trip). A
    // stack buffer keeps this free of allocation on the matching hot path.
    let mut buffer = [0u8; 40];
    let mut cursor = std::io::Cursor::new(&mut buffer[..]);
    std::io::Write::write_fmt(&mut cursor, format_args!("{value:e}")).ok()?;
    let written = cursor.position() as usize;
    let shortest = std::str::from_utf8(&buffer[..written]).ok()?;
    (Decimal::parse(text)? == Decimal::parse(shortest)?).then_some(value)
}

/// Most significant digits the shortest text of a double can have.
const MAX_DIGITS: usize = 17;

/// A decimal value in a canonical form: sign, significant digits without leading or
/// trailing zeros, and the power of ten of the last digit. Zero has no digits and
/// no sign, so `-0.0` and `0` are equal. Values with more significant digits than
/// any double's shortest text are not represented (`parse` gives `None`), which
/// is all the round-trip check needs.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: [u8; MAX_DIGITS],
    len: usize,
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
        let all = int_part.bytes().chain(frac_part.bytes());
        let mut decimal = Decimal {
            negative,
            digits: [0; MAX_DIGITS],
            len: 0,
            exponent: exp.checked_sub(frac_part.len() as i64)?,
        };
        // Significant digits, with a count of zeros not yet known to be trailing.
        let mut pending_zeros = 0usize;
        for d in all.skip_while(|&d| d == b'0') {
            if d == b'0' {
                pending_zeros += 1;
                continue;
            }
            if decimal.len + pending_zeros + 1 > MAX_DIGITS {
                return None;
            }
            decimal.len += pending_zeros; // zeros inside the number are digits
            pending_zeros = 0;
            decimal.digits[decimal.len] = d;
            decimal.len += 1;
        }
        if decimal.len == 0 {
            decimal.negative = false;
            decimal.exponent = 0;
            return Some(decimal);
        }
        decimal.exponent = decimal.exponent.checked_add(pending_zeros as i64)?;
        Some(decimal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_accepts_exact_decimal_spellings() {
        for text in [
            "0",
            "-0.0",
            "0E0",
            "5",
            "5.0",
            "301.8",
            "3.018e2",
            "1E3",
            "1E+21",
            "1e-3",
            "-2.75E+0",
            "2147483647e0",
            "2.2250738585072014E-308",
            "1.7976931348623157e308",
            "5e-324",
        ] {
            assert!(round_trip(text).is_some(), "{text} should round-trip");
        }
        assert_eq!(round_trip("3.018e2"), Some(301.8));
    }

    #[test]
    fn fast_path_agrees_with_the_definition() {
        for text in [
            "0",
            "-0",
            "1",
            "123456789012345",
            "0.1",
            "-122.4194155",
            "37.8",
            "0.000000000000001",
            "999999999999999",
            "1234567890.12345",
        ] {
            assert_eq!(round_trip(text), round_trip_slow(text), "{text}");
        }
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
        let same = |a: &str, b: &str| NumberRef::new(a).same_as(&Number::new(b).as_ref());
        assert!(same("301.8", "3.018e2"));
        assert!(same("-0.0", "0"));
        assert!(!same("5", "5.1"));
        assert!(same("1e400", "1e400"));
        assert!(!same("1e400", "1E400"));
        assert!(!same("9007199254740993", "9007199254740992"));
    }
}
