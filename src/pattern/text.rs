//! String comparisons of the pattern language: case-insensitive equality, prefix
//! and suffix (`equals-ignore-case`), and `wildcard` globs.
//!
//! Case-insensitivity follows event-ruler: each character of the pattern may appear
//! in the event as itself, its simple lower-case or its simple upper-case mapping
//! (one character to one character, as Java's `Character.toLowerCase` does), so
//! `"ß"` does not match `"SS"` and strings only match strings of the same length
//! in characters.

/// Simple (one-to-one) lower-case mapping of a character.
pub fn simple_lower(c: char) -> char {
    let mut mapped = c.to_lowercase();
    match (mapped.next(), mapped.next()) {
        (Some(l), None) => l,
        // The only multi-character lower-case mapping is U+0130, whose simple
        // mapping is plain `i`.
        _ if c == '\u{130}' => 'i',
        _ => c,
    }
}

/// Simple (one-to-one) upper-case mapping of a character.
pub fn simple_upper(c: char) -> char {
    let mut mapped = c.to_uppercase();
    match (mapped.next(), mapped.next()) {
        (Some(u), None) => u,
        // Characters whose full mapping expands (ß -> SS, ŉ -> ʼN, ligatures) keep
        // themselves, except Greek letters with iota subscript, whose simple mapping
        // is the title-case letter with the subscript.
        _ => greek_iota_subscript_upper(c).unwrap_or(c),
    }
}

fn greek_iota_subscript_upper(c: char) -> Option<char> {
    let code = c as u32;
    let mapped = match code {
        0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => code + 8,
        0x1F88..=0x1F8F | 0x1F98..=0x1F9F | 0x1FA8..=0x1FAF => code,
        0x1FB3 => 0x1FBC,
        0x1FC3 => 0x1FCC,
        0x1FF3 => 0x1FFC,
        0x1FBC | 0x1FCC | 0x1FFC => code,
        _ => return None,
    };
    char::from_u32(mapped)
}

/// Whether event character `e` stands for pattern character `p` ignoring case.
pub fn char_eq_ignore_case(e: char, p: char) -> bool {
    e == p || e == simple_lower(p) || e == simple_upper(p)
}

/// Whether `event` equals `pattern` ignoring case, character by character.
pub fn eq_ignore_case(event: &str, pattern: &str) -> bool {
    let mut e = event.chars();
    let mut p = pattern.chars();
    loop {
        match (e.next(), p.next()) {
            (None, None) => return true,
            (Some(ec), Some(pc)) if char_eq_ignore_case(ec, pc) => {}
            _ => return false,
        }
    }
}

/// Whether `event` starts with `prefix` ignoring case.
pub fn starts_with_ignore_case(event: &str, prefix: &str) -> bool {
    let mut e = event.chars();
    prefix
        .chars()
        .all(|pc| e.next().is_some_and(|ec| char_eq_ignore_case(ec, pc)))
}

/// Whether `event` ends with `suffix` ignoring case.
pub fn ends_with_ignore_case(event: &str, suffix: &str) -> bool {
    let mut e = event.chars().rev();
    suffix
        .chars()
        .rev()
        .all(|pc| e.next().is_some_and(|ec| char_eq_ignore_case(ec, pc)))
}

/// A validated `wildcard` pattern: literal pieces separated by `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wildcard {
    /// The text as written, for messages.
    pub source: String,
    /// Literal pieces with escapes removed; `pieces.len() - 1` stars separate them.
    pub pieces: Vec<String>,
}

/// Why a wildcard pattern is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WildcardError {
    ConsecutiveStars,
    BadEscape(char),
    TrailingBackslash,
}

impl std::fmt::Display for WildcardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WildcardError::ConsecutiveStars => {
                write!(f, "consecutive wildcard characters (\"**\") are not allowed")
            }
            WildcardError::BadEscape(c) => write!(
                f,
                "invalid escape \"\\{c}\": only \"\\*\" and \"\\\\\" may be escaped"
            ),
            WildcardError::TrailingBackslash => {
                write!(f, "a backslash at the end must escape \"*\" or \"\\\"")
            }
        }
    }
}

impl Wildcard {
    pub fn parse(source: &str) -> Result<Wildcard, WildcardError> {
        let mut pieces = vec![String::new()];
        let mut chars = source.chars();
        let mut last_was_star = false;
        while let Some(c) = chars.next() {
            match c {
                '*' if last_was_star => return Err(WildcardError::ConsecutiveStars),
                '*' => {
                    pieces.push(String::new());
                    last_was_star = true;
                    continue;
                }
                '\\' => match chars.next() {
                    Some(escaped @ ('*' | '\\')) => pieces.last_mut().unwrap().push(escaped),
                    Some(other) => return Err(WildcardError::BadEscape(other)),
                    None => return Err(WildcardError::TrailingBackslash),
                },
                other => pieces.last_mut().unwrap().push(other),
            }
            last_was_star = false;
        }
        Ok(Wildcard {
            source: source.to_string(),
            pieces,
        })
    }

    /// Whether `text` matches: `*` stands for any run of characters, even none.
    pub fn matches(&self, text: &str) -> bool {
        let (first, rest) = self.pieces.split_first().expect("never empty");
        let Some(mut remaining) = text.strip_prefix(first.as_str()) else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            return remaining.is_empty(); // no star at all: exact match
        };
        // Leftmost placement of each middle piece leaves the most room for the rest.
        for piece in middle {
            match remaining.find(piece.as_str()) {
                Some(i) => remaining = &remaining[i + piece.len()..],
                None => return false,
            }
        }
        remaining.ends_with(last.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_case_uses_simple_one_to_one_mappings() {
        assert!(eq_ignore_case("Hello", "hELLO"));
        assert!(eq_ignore_case("ÄÖÜ", "äöü"));
        assert!(!eq_ignore_case("SS", "ß"));
        assert!(!eq_ignore_case("hello", "hell"));
        assert!(eq_ignore_case("i", "İ"));
        assert!(starts_with_ignore_case("ARN:aws", "arn:"));
        assert!(!starts_with_ignore_case("ar", "arn"));
        assert!(ends_with_ignore_case("photo.JPG", ".jpg"));
        assert!(!ends_with_ignore_case("jpg", ".jpg"));
        assert_eq!(simple_upper('ᾳ'), 'ᾼ');
        assert_eq!(simple_upper('ß'), 'ß');
    }

    #[test]
    fn wildcard_matching() {
        let w = |p: &str| Wildcard::parse(p).unwrap();
        assert!(w("*").matches(""));
        assert!(w("a*").matches("a"));
        assert!(w("*LL7D").matches("xLL7D"));
        assert!(!w("*LL7D").matches("CANCELLED"));
        assert!(w("a*b*c").matches("abc"));
        assert!(w("a*b*c").matches("aXbYbZc"));
        assert!(!w("a*b*c").matches("acb"));
        assert!(w("*ab*ab*").matches("abab"));
        assert!(!w("aba*aba").matches("aba"));
        assert!(w(r"a\*b").matches("a*b"));
        assert!(!w(r"a\*b").matches("axb"));
        assert!(w(r"a\\*").matches(r"a\xyz"));
        assert!(w("exact").matches("exact"));
        assert!(!w("exact").matches("exactly"));
    }

    #[test]
    fn wildcard_errors() {
        assert_eq!(Wildcard::parse("a**b"), Err(WildcardError::ConsecutiveStars));
        assert_eq!(Wildcard::parse(r"bad\q"), Err(WildcardError::BadEscape('q')));
        assert_eq!(Wildcard::parse("abc\\"), Err(WildcardError::TrailingBackslash));
        assert_eq!(
            WildcardError::BadEscape('q').to_string(),
            r#"invalid escape "\q": only "\*" and "\\" may be escaped"#
        );
        // An escaped star next to a star is not two stars.
        assert!(Wildcard::parse(r"x*\*\\y").is_ok());
    }
}
