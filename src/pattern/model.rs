//! The validated form of one event pattern, and what each value test means.
//!
//! A pattern is a [`Conjunction`]: field tests that must all hold, plus `$or` groups
//! of which one branch must hold. Nested pattern objects and dotted keys are
//! flattened into dotted field paths (`detail.state`), which is how EventBridge sees
//! them too. This module says whether one event value passes one test; walking
//! events, array consistency and whole-pattern matching live in `reference` (and,
//! later, in the compiled matcher).

use std::net::IpAddr;

use super::ip::Cidr;
use super::number::{Number, NumberRef};
use super::text::{CaseInsensitive, Wildcard};
use crate::json::Span;

/// Field tests that must all hold, and `$or` groups of which one branch must hold.
#[derive(Debug, Clone, Default)]
pub struct Conjunction {
    pub fields: Vec<FieldTest>,
    pub any_of: Vec<AnyOf>,
}

/// One `$or`: at least one branch must hold.
#[derive(Debug, Clone)]
pub struct AnyOf {
    /// Where the `$or` stands in the pattern, e.g. `detail.$or`.
    pub location: String,
    pub branches: Vec<Conjunction>,
}

/// The tests on one field: the field matches when any of them holds.
#[derive(Debug, Clone)]
pub struct FieldTest {
    /// Dotted path of the field in events, e.g. `detail.state`.
    pub path: String,
    /// Where the test stands in the pattern, e.g. `$or[1].detail.state`.
    pub location: String,
    /// The values array as written, for explanations.
    pub source: String,
    /// Where the values array stands in the text the pattern was read from.
    pub span: Span,
    pub tests: Vec<ValueTest>,
    /// Position of the test in the pattern's text (counting field tests from 0).
    /// When one `$or` combination names a path twice (beside the `$or` and inside
    /// a branch), the test written last wins, as in event-ruler, which copies the
    /// fields seen so far into each branch and writes every later field into
    /// every branch.
    pub order: u32,
}

impl FieldTest {
    /// Whether the list holds `exists: false`, which a missing field satisfies.
    pub fn wants_absent(&self) -> bool {
        self.tests
            .iter()
            .any(|t| matches!(t, ValueTest::Exists(false)))
    }

    /// Whether one event value satisfies any test in the list.
    pub fn accepts(&self, value: &Scalar<'_>) -> bool {
        self.tests.iter().any(|t| t.accepts(value))
    }
}

/// One entry of a pattern's values array.
#[derive(Debug, Clone)]
pub enum ValueTest {
    /// `"abc"`, `5`, `true`, `null`.
    Exact(Literal),
    Prefix(String),
    PrefixIgnoreCase(CaseInsensitive),
    Suffix(String),
    SuffixIgnoreCase(CaseInsensitive),
    EqualsIgnoreCase(CaseInsensitive),
    Wildcard(Wildcard),
    AnythingBut(AnythingBut),
    Numeric(Range),
    /// `exists: true` holds for any value; `exists: false` only when the field
    /// has no value at all, which is decided per field, not per value.
    Exists(bool),
    Cidr(Cidr),
}

/// An exact value in a pattern.
#[derive(Debug, Clone)]
pub enum Literal {
    String(String),
    /// An exact string that is an IP address: it matches event strings that are
    /// the same address in any spelling (`"::1"`, `"0:0:0:0:0:0:0:1"`), as on
    /// EventBridge. Only plain exact values get this; `anything-but` lists compare
    /// text.
    Address(IpAddr),
    Number(Number),
    Bool(bool),
    Null,
}

/// What `anything-but` excludes.
#[derive(Debug, Clone)]
pub enum AnythingBut {
    /// Strings, or round-tripping numbers (never both).
    Literals(Vec<Literal>),
    Prefix(Vec<String>),
    Suffix(Vec<String>),
    EqualsIgnoreCase(Vec<CaseInsensitive>),
    Wildcard(Vec<Wildcard>),
}

/// A numeric interval; `=` is the interval `[x, x]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub value: f64,
    pub inclusive: bool,
}

impl Range {
    pub fn contains(&self, x: f64) -> bool {
        let above = self.lower.is_none_or(|b| {
            if b.inclusive {
                x >= b.value
            } else {
                x > b.value
            }
        });
        let below = self.upper.is_none_or(|b| {
            if b.inclusive {
                x <= b.value
            } else {
                x < b.value
            }
        });
        above && below
    }
}

/// One value found in an event (arrays are unrolled before this).
#[derive(Debug, Clone)]
pub enum Scalar<'a> {
    String(&'a str),
    Number(NumberRef<'a>),
    Bool(bool),
    Null,
}

impl Literal {
    fn equals(&self, value: &Scalar<'_>) -> bool {
        match (self, value) {
            (Literal::String(p), Scalar::String(e)) => p == e,
            (Literal::Address(p), Scalar::String(e)) => super::ip::parse_ip(e) == Some(*p),
            (Literal::Number(p), Scalar::Number(e)) => e.same_as(&p.as_ref()),
            (Literal::Bool(p), Scalar::Bool(e)) => p == e,
            (Literal::Null, Scalar::Null) => true,
            _ => false,
        }
    }
}

impl ValueTest {
    /// Whether one event value passes this test.
    pub fn accepts(&self, value: &Scalar<'_>) -> bool {
        let string = match value {
            Scalar::String(s) => Some(*s),
            _ => None,
        };
        match self {
            ValueTest::Exact(literal) => literal.equals(value),
            ValueTest::Prefix(p) => string.is_some_and(|s| has_prefix(s, p)),
            ValueTest::PrefixIgnoreCase(p) => {
                string.is_some_and(|s| p.is_prefix_of(s) || quote_quirk(s, &p.source))
            }
            ValueTest::Suffix(p) => string.is_some_and(|s| has_suffix(s, p)),
            ValueTest::SuffixIgnoreCase(p) => {
                string.is_some_and(|s| p.is_suffix_of(s) || quote_quirk(s, &p.source))
            }
            ValueTest::EqualsIgnoreCase(p) => string.is_some_and(|s| p.equals(s)),
            ValueTest::Wildcard(w) => string.is_some_and(|s| w.matches(s)),
            ValueTest::AnythingBut(excluded) => !excluded.excludes(value),
            ValueTest::Numeric(range) => match value {
                Scalar::Number(n) => n.value.is_some_and(|x| range.contains(x)),
                _ => false,
            },
            ValueTest::Exists(present) => *present,
            ValueTest::Cidr(cidr) => string.is_some_and(|s| cidr.contains(s)),
        }
    }
}

impl AnythingBut {
    /// Whether the value is one of the excluded ones. Values of another type than
    /// the excluded ones are never excluded.
    fn excludes(&self, value: &Scalar<'_>) -> bool {
        if let AnythingBut::Literals(list) = self {
            return list.iter().any(|l| l.equals(value));
        }
        let Scalar::String(string) = value else {
            return false;
        };
        match self {
            AnythingBut::Literals(_) => unreachable!("handled above"),
            AnythingBut::Prefix(list) => list.iter().any(|p| has_prefix(string, p)),
            AnythingBut::Suffix(list) => list.iter().any(|p| has_suffix(string, p)),
            AnythingBut::EqualsIgnoreCase(list) => list.iter().any(|p| p.equals(string)),
            AnythingBut::Wildcard(list) => list.iter().any(|w| w.matches(string)),
        }
    }
}

/// event-ruler compares prefixes and suffixes on the quoted string (`"abc"`), so a
/// prefix or suffix that is a lone double quote also matches the empty string,
/// whose quoted form is `""`. Kept so that rules behave as on AWS.
fn quote_quirk(event: &str, pattern: &str) -> bool {
    event.is_empty() && pattern == "\""
}

fn has_prefix(event: &str, prefix: &str) -> bool {
    event.starts_with(prefix) || quote_quirk(event, prefix)
}

fn has_suffix(event: &str, suffix: &str) -> bool {
    event.ends_with(suffix) || quote_quirk(event, suffix)
}
