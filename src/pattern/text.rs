//! String comparisons of the pattern language: `equals-ignore-case` (alone and
//! with `prefix`, `suffix` and `anything-but`) and `wildcard` globs.
//!
//! Case-insensitivity follows aws/event-ruler exactly. The pattern is taken one
//! UTF-16 unit at a time; each unit `c` may appear in the event as
//! `lower(c)` or `upper(c)`, the full case mappings of `c` alone (so `ß` matches
//! `SS` but not `ss`, and a title-case letter such as `ǅ` matches `ǆ` or `Ǆ` but
//! not itself). The event is never case-folded. Characters outside the Basic
//! Multilingual Plane (emoji, for example) are split into surrogates, which Java
//! encodes as `?`, so in these patterns they match the text `??`: a quirk of the
//! engine behind EventBridge that we keep so that rules behave as they do on AWS.

/// One position of a case-insensitive pattern: the texts the event may have there.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    One(String),
    Either(String, String),
}

impl Slot {
    fn alternatives(&self) -> impl Iterator<Item = &str> {
        let (a, b) = match self {
            Slot::One(a) => (a.as_str(), None),
            Slot::Either(a, b) => (a.as_str(), Some(b.as_str())),
        };
        std::iter::once(a).chain(b)
    }
}

/// A case-insensitive string pattern, compiled into slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseInsensitive {
    /// The text as written.
    pub source: String,
    slots: Vec<Slot>,
}

impl CaseInsensitive {
    pub fn new(source: &str) -> CaseInsensitive {
        let slots = source
            .chars()
            .flat_map(|c| {
                if c.len_utf16() == 2 {
                    // Two lone surrogates, each encoded by Java as '?'.
                    vec![Slot::One("?".into()), Slot::One("?".into())]
                } else {
                    let lower: String = c.to_lowercase().collect();
                    let upper: String = c.to_uppercase().collect();
                    vec![if lower == upper {
                        Slot::One(lower)
                    } else {
                        Slot::Either(lower, upper)
                    }]
                }
            })
            .collect();
        CaseInsensitive {
            source: source.to_string(),
            slots,
        }
    }

    /// The byte offsets in `text` where a run of all slots starting at `from` can
    /// end (a small set: alternatives rarely overlap).
    fn ends_from(&self, text: &str, from: usize) -> Vec<usize> {
        let mut positions = vec![from];
        for slot in &self.slots {
            let mut next = Vec::new();
            for &pos in &positions {
                for alt in slot.alternatives() {
                    if text[pos..].starts_with(alt) && !next.contains(&(pos + alt.len())) {
                        next.push(pos + alt.len());
                    }
                }
            }
            if next.is_empty() {
                return next;
            }
            positions = next;
        }
        positions
    }

    /// Whether `text` equals the pattern ignoring case.
    pub fn equals(&self, text: &str) -> bool {
        self.ends_from(text, 0).contains(&text.len())
    }

    /// Whether `text` starts with the pattern ignoring case.
    pub fn is_prefix_of(&self, text: &str) -> bool {
        !self.ends_from(text, 0).is_empty()
    }

    /// Whether `text` ends with the pattern ignoring case. Only starts from which
    /// the pattern's shortest to longest spelling could reach the end are tried,
    /// so a long event string costs the pattern's length, not the string's.
    pub fn is_suffix_of(&self, text: &str) -> bool {
        let (shortest, longest) = self.slots.iter().fold((0, 0), |(lo, hi), slot| {
            let shortest = slot.alternatives().map(str::len).min().unwrap_or(0);
            let longest = slot.alternatives().map(str::len).max().unwrap_or(0);
            (lo + shortest, hi + longest)
        });
        let Some(last_start) = text.len().checked_sub(shortest) else {
            return false;
        };
        (text.len().saturating_sub(longest)..=last_start)
            .filter(|&start| text.is_char_boundary(start))
            .any(|start| self.ends_from(text, start).contains(&text.len()))
    }
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
                write!(
                    f,
                    "consecutive wildcard characters (\"**\") are not allowed"
                )
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
    fn ignore_case_follows_event_ruler() {
        let ci = CaseInsensitive::new;
        assert!(ci("hELLO").equals("Hello"));
        assert!(ci("äöü").equals("ÄÖÜ"));
        assert!(!ci("hell").equals("hello"));
        // Full mappings of single characters: ß -> {ß, SS}.
        assert!(ci("ß").equals("SS"));
        assert!(ci("ß").equals("ß"));
        assert!(!ci("ß").equals("ss"));
        assert!(!ci("ss").equals("ß"));
        // A title-case letter stands for its lower and upper forms, not itself.
        assert!(ci("ǅ").equals("ǆ"));
        assert!(!ci("ǅ").equals("ǅ"));
        // The dotless i maps to I, but I does not map to the dotless i.
        assert!(ci("ı").equals("I"));
        assert!(!ci("I").equals("ı"));
        // Characters outside the BMP become "??", as in Java's encoder.
        assert!(ci("a😀").equals("A??"));
        assert!(!ci("😀").equals("😀"));
        assert!(ci("arn:").is_prefix_of("ARN:aws"));
        assert!(!ci("arn").is_prefix_of("ar"));
        assert!(ci(".jpg").is_suffix_of("photo.JPG"));
        assert!(!ci(".jpg").is_suffix_of("jpg"));
        assert!(ci("").is_suffix_of(""));
        assert!(ci("λΆΔα").is_suffix_of("xΛάΔΑ"));
        assert!(!ci("λΆΔα").is_suffix_of("xΛΆΔΒ"));
        assert!(ci("λΆΔα").is_suffix_of("xΛΆΔΑ"));
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
        assert_eq!(
            Wildcard::parse("a**b"),
            Err(WildcardError::ConsecutiveStars)
        );
        assert_eq!(
            Wildcard::parse(r"bad\q"),
            Err(WildcardError::BadEscape('q'))
        );
        assert_eq!(
            Wildcard::parse("abc\\"),
            Err(WildcardError::TrailingBackslash)
        );
        assert_eq!(
            WildcardError::BadEscape('q').to_string(),
            r#"invalid escape "\q": only "\*" and "\\" may be escaped"#
        );
        // An escaped star next to a star is not two stars.
        assert!(Wildcard::parse(r"x*\*\\y").is_ok());
    }
}
