//! Per-field value indexes: given one event value, which predicates hold.
//!
//! A predicate is one field test of some pattern (a values array such as
//! `["a", {"prefix": "b"}]`); each of its entries is filed here under the kind of
//! lookup that answers it fastest: hash maps for exact strings, numbers and IP
//! addresses (and ASCII `equals-ignore-case`, keyed by lower-cased text), byte
//! tries for prefixes and suffixes and for the literal start or end of wildcards,
//! lists of cidr blocks (one address parse per value) and numeric ranges (one
//! number parse per value), and a list of tests tried one by one (anything-but,
//! exists, wildcards starting and ending with `*`, non-ASCII case-insensitive
//! text). Combining predicates into pattern matches is not this module's business.

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::super::ip::{Cidr, parse_ip};
use super::super::model::{Literal, Range, Scalar, ValueTest};
use super::super::number::NumberRef;
use super::super::text::Wildcard;
use super::scan::ScanValue;

/// A byte trie mapping strings to the predicates of the keys that are prefixes of
/// them (suffixes: built and walked over reversed bytes).
#[derive(Debug, Clone, Default)]
struct ByteTrie {
    nodes: Vec<TrieNode>,
}

#[derive(Debug, Clone, Default)]
struct TrieNode {
    edges: Vec<(u8, u32)>,
    preds: Vec<u32>,
}

impl ByteTrie {
    fn insert(&mut self, key: impl Iterator<Item = u8>, pred: u32) {
        if self.nodes.is_empty() {
            self.nodes.push(TrieNode::default());
        }
        let mut node = 0usize;
        for byte in key {
            node = match self.nodes[node].edges.iter().find(|(b, _)| *b == byte) {
                Some(&(_, next)) => next as usize,
                None => {
                    let next = self.nodes.len();
                    self.nodes.push(TrieNode::default());
                    self.nodes[node].edges.push((byte, next as u32));
                    next
                }
            };
        }
        self.nodes[node].preds.push(pred);
    }

    fn remove(&mut self, key: impl Iterator<Item = u8>, pred: u32) {
        let mut node = 0usize;
        for byte in key {
            match self
                .nodes
                .get(node)
                .and_then(|n| n.edges.iter().find(|(b, _)| *b == byte))
            {
                Some(&(_, next)) => node = next as usize,
                None => return,
            }
        }
        if let Some(n) = self.nodes.get_mut(node) {
            n.preds.retain(|&p| p != pred);
        }
    }

    /// Calls `hit` for the predicates of every key that is a prefix of `bytes`.
    #[inline]
    fn walk(&self, bytes: impl Iterator<Item = u8>, hit: &mut impl FnMut(u32)) {
        let Some(root) = self.nodes.first() else {
            return;
        };
        root.preds.iter().for_each(|&p| hit(p));
        let mut node = root;
        for byte in bytes {
            match node.edges.iter().find(|(b, _)| *b == byte) {
                Some(&(_, next)) => node = &self.nodes[next as usize],
                None => return,
            }
            node.preds.iter().for_each(|&p| hit(p));
        }
    }

    fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// The map key for a number that round-trips: its value's bits, with -0 as 0.
fn number_key(x: f64) -> u64 {
    if x == 0.0 { 0 } else { x.to_bits() }
}

/// The entries of one field's predicates, filed for fast lookup.
#[derive(Debug, Clone, Default)]
pub(super) struct FieldIndex {
    strings: FxHashMap<Box<str>, Vec<u32>>,
    numbers: FxHashMap<u64, Vec<u32>>,
    number_texts: FxHashMap<Box<str>, Vec<u32>>,
    trues: Vec<u32>,
    falses: Vec<u32>,
    nulls: Vec<u32>,
    addresses: FxHashMap<IpAddr, Vec<u32>>,
    prefixes: ByteTrie,
    suffixes: ByteTrie,
    /// ASCII `equals-ignore-case` texts, lower-cased.
    ascii_ci: FxHashMap<Box<str>, Vec<u32>>,
    ascii_ci_prefixes: ByteTrie,
    ascii_ci_suffixes: ByteTrie,
    /// Tests tried one by one.
    scan: Vec<(ValueTest, u32)>,
    /// `cidr` blocks: the event value is parsed as an address once and tried
    /// against each.
    cidrs: Vec<(Cidr, u32)>,
    /// Numeric ranges, tried on numbers that round-trip (two comparisons each).
    ranges: Vec<(Range, u32)>,
    /// Wildcards filed under their literal start (or, for those starting with
    /// `*`, their literal end), tried only on values that have it.
    wildcard_starts: ByteTrie,
    wildcard_ends: ByteTrie,
    wildcards: FxHashMap<u32, Vec<Wildcard>>,
}

/// The value in the terms of the pattern model.
pub(super) fn as_scalar<'v>(value: &'v ScanValue<'_>) -> Scalar<'v> {
    match value {
        ScanValue::String(s) => Scalar::String(s),
        ScanValue::Number(text) => Scalar::Number(NumberRef::new(text)),
        ScanValue::Bool(b) => Scalar::Bool(*b),
        ScanValue::Null => Scalar::Null,
    }
}

/// How a test is filed.
enum Slot<'t> {
    String(&'t str),
    Number(u64),
    NumberText(&'t str),
    True,
    False,
    Null,
    Address(IpAddr),
    Cidr(&'t Cidr),
    Range(&'t Range),
    WildcardStart(&'t Wildcard),
    WildcardEnd(&'t Wildcard),
    Prefix(&'t str),
    Suffix(&'t str),
    AsciiCi(String),
    AsciiCiPrefix(String),
    AsciiCiSuffix(String),
    Scan,
}

/// Whether a test can only be answered by trying it on each value (it is not
/// indexed). Predicates made only of such tests are evaluated lazily.
pub(super) fn is_scanned(test: &ValueTest) -> bool {
    matches!(slot(test), Slot::Scan)
}

fn slot(test: &ValueTest) -> Slot<'_> {
    match test {
        ValueTest::Exact(Literal::String(s)) => Slot::String(s),
        ValueTest::Exact(Literal::Address(ip)) => Slot::Address(*ip),
        ValueTest::Cidr(c) => Slot::Cidr(c),
        ValueTest::Numeric(r) => Slot::Range(r),
        ValueTest::Wildcard(w) if !w.pieces[0].is_empty() => Slot::WildcardStart(w),
        ValueTest::Wildcard(w) if !w.pieces[w.pieces.len() - 1].is_empty() => Slot::WildcardEnd(w),
        ValueTest::Exact(Literal::Number(n)) => match n.value {
            Some(x) => Slot::Number(number_key(x)),
            None => Slot::NumberText(&n.text),
        },
        ValueTest::Exact(Literal::Bool(true)) => Slot::True,
        ValueTest::Exact(Literal::Bool(false)) => Slot::False,
        ValueTest::Exact(Literal::Null) => Slot::Null,
        // A lone quote also matches "" (see model::quote_quirk): tried one by one.
        ValueTest::Prefix(p) if p != "\"" => Slot::Prefix(p),
        ValueTest::Suffix(p) if p != "\"" => Slot::Suffix(p),
        ValueTest::EqualsIgnoreCase(ci) if ci.source.is_ascii() => {
            Slot::AsciiCi(ci.source.to_ascii_lowercase())
        }
        ValueTest::PrefixIgnoreCase(ci) if ci.source.is_ascii() && ci.source != "\"" => {
            Slot::AsciiCiPrefix(ci.source.to_ascii_lowercase())
        }
        ValueTest::SuffixIgnoreCase(ci) if ci.source.is_ascii() && ci.source != "\"" => {
            Slot::AsciiCiSuffix(ci.source.to_ascii_lowercase())
        }
        _ => Slot::Scan,
    }
}

fn add_to<K: std::hash::Hash + Eq>(map: &mut FxHashMap<K, Vec<u32>>, key: K, pred: u32) {
    map.entry(key).or_default().push(pred);
}

fn remove_from<K, Q>(map: &mut FxHashMap<K, Vec<u32>>, key: &Q, pred: u32)
where
    K: std::hash::Hash + Eq + std::borrow::Borrow<Q>,
    Q: std::hash::Hash + Eq + ?Sized,
{
    if let Some(list) = map.get_mut(key) {
        list.retain(|&p| p != pred);
        if list.is_empty() {
            map.remove(key);
        }
    }
}

fn lower(bytes: &[u8]) -> impl DoubleEndedIterator<Item = u8> + '_ {
    bytes.iter().map(u8::to_ascii_lowercase)
}

impl FieldIndex {
    pub fn insert(&mut self, test: &ValueTest, pred: u32) {
        match slot(test) {
            Slot::String(s) => add_to(&mut self.strings, s.into(), pred),
            Slot::Number(k) => add_to(&mut self.numbers, k, pred),
            Slot::NumberText(t) => add_to(&mut self.number_texts, t.into(), pred),
            Slot::True => self.trues.push(pred),
            Slot::False => self.falses.push(pred),
            Slot::Null => self.nulls.push(pred),
            Slot::Address(ip) => add_to(&mut self.addresses, ip, pred),
            Slot::Cidr(c) => self.cidrs.push((c.clone(), pred)),
            Slot::Range(r) => self.ranges.push((r.clone(), pred)),
            Slot::WildcardStart(w) => {
                self.wildcard_starts.insert(w.pieces[0].bytes(), pred);
                self.wildcards.entry(pred).or_default().push(w.clone());
            }
            Slot::WildcardEnd(w) => {
                self.wildcard_ends
                    .insert(w.pieces[w.pieces.len() - 1].bytes().rev(), pred);
                self.wildcards.entry(pred).or_default().push(w.clone());
            }
            Slot::Prefix(p) => self.prefixes.insert(p.bytes(), pred),
            Slot::Suffix(p) => self.suffixes.insert(p.bytes().rev(), pred),
            Slot::AsciiCi(p) => add_to(&mut self.ascii_ci, p.into(), pred),
            Slot::AsciiCiPrefix(p) => self.ascii_ci_prefixes.insert(p.bytes(), pred),
            Slot::AsciiCiSuffix(p) => self.ascii_ci_suffixes.insert(p.bytes().rev(), pred),
            Slot::Scan => self.scan.push((test.clone(), pred)),
        }
    }

    pub fn remove(&mut self, test: &ValueTest, pred: u32) {
        match slot(test) {
            Slot::String(s) => remove_from(&mut self.strings, s, pred),
            Slot::Number(k) => remove_from(&mut self.numbers, &k, pred),
            Slot::NumberText(t) => remove_from(&mut self.number_texts, t, pred),
            Slot::True => self.trues.retain(|&p| p != pred),
            Slot::False => self.falses.retain(|&p| p != pred),
            Slot::Null => self.nulls.retain(|&p| p != pred),
            Slot::Address(ip) => remove_from(&mut self.addresses, &ip, pred),
            Slot::Cidr(_) => self.cidrs.retain(|(_, p)| *p != pred),
            Slot::Range(_) => self.ranges.retain(|(_, p)| *p != pred),
            Slot::WildcardStart(w) => {
                self.wildcard_starts.remove(w.pieces[0].bytes(), pred);
                self.wildcards.remove(&pred);
            }
            Slot::WildcardEnd(w) => {
                self.wildcard_ends
                    .remove(w.pieces[w.pieces.len() - 1].bytes().rev(), pred);
                self.wildcards.remove(&pred);
            }
            Slot::Prefix(p) => self.prefixes.remove(p.bytes(), pred),
            Slot::Suffix(p) => self.suffixes.remove(p.bytes().rev(), pred),
            Slot::AsciiCi(p) => remove_from(&mut self.ascii_ci, p.as_str(), pred),
            Slot::AsciiCiPrefix(p) => self.ascii_ci_prefixes.remove(p.bytes(), pred),
            Slot::AsciiCiSuffix(p) => self.ascii_ci_suffixes.remove(p.bytes().rev(), pred),
            Slot::Scan => self.scan.retain(|(_, p)| *p != pred),
        }
    }

    /// Calls `hit` for every predicate one event value satisfies (possibly more
    /// than once for the same predicate).
    #[inline]
    pub fn lookup(&self, scalar: &Scalar<'_>, hit: &mut impl FnMut(u32)) {
        match scalar {
            Scalar::String(s) => self.lookup_string(s, hit),
            Scalar::Number(number) => match number.value {
                Some(x) => {
                    if let Some(preds) = self.numbers.get(&number_key(x)) {
                        preds.iter().for_each(|&p| hit(p));
                    }
                    for (range, pred) in &self.ranges {
                        if range.contains(x) {
                            hit(*pred);
                        }
                    }
                }
                None => {
                    if let Some(preds) = self.number_texts.get(number.text) {
                        preds.iter().for_each(|&p| hit(p));
                    }
                }
            },
            Scalar::Bool(true) => self.trues.iter().for_each(|&p| hit(p)),
            Scalar::Bool(false) => self.falses.iter().for_each(|&p| hit(p)),
            Scalar::Null => self.nulls.iter().for_each(|&p| hit(p)),
        }
        for (test, pred) in &self.scan {
            if test.accepts(scalar) {
                hit(*pred);
            }
        }
    }

    #[inline]
    fn lookup_string(&self, s: &str, hit: &mut impl FnMut(u32)) {
        if let Some(preds) = self.strings.get(s) {
            preds.iter().for_each(|&p| hit(p));
        }
        if (!self.addresses.is_empty() || !self.cidrs.is_empty())
            && let Some(ip) = parse_ip(s)
        {
            if let Some(preds) = self.addresses.get(&ip) {
                preds.iter().for_each(|&p| hit(p));
            }
            for (block, pred) in &self.cidrs {
                if block.contains_address(ip) {
                    hit(*pred);
                }
            }
        }
        let bytes = s.as_bytes();
        if !self.prefixes.is_empty() {
            self.prefixes.walk(bytes.iter().copied(), hit);
        }
        if !self.suffixes.is_empty() {
            self.suffixes.walk(bytes.iter().rev().copied(), hit);
        }
        if !self.ascii_ci.is_empty() {
            // Only ASCII events can equal an ASCII pattern ignoring case. Short
            // values are lower-cased on the stack.
            if s.is_ascii() {
                let mut buffer = [0u8; 64];
                let owned;
                let lowered: &[u8] = match buffer.get_mut(..s.len()) {
                    Some(b) => {
                        b.copy_from_slice(s.as_bytes());
                        b.make_ascii_lowercase();
                        b
                    }
                    None => {
                        owned = s.to_ascii_lowercase();
                        owned.as_bytes()
                    }
                };
                let lowered = std::str::from_utf8(lowered).unwrap_or_default();
                if let Some(preds) = self.ascii_ci.get(lowered) {
                    preds.iter().for_each(|&p| hit(p));
                }
            }
        }
        if !self.wildcards.is_empty() {
            let mut try_wildcards = |pred: u32| {
                let list = self
                    .wildcards
                    .get(&pred)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                if list.iter().any(|w| w.matches(s)) {
                    hit(pred);
                }
            };
            self.wildcard_starts
                .walk(bytes.iter().copied(), &mut try_wildcards);
            self.wildcard_ends
                .walk(bytes.iter().rev().copied(), &mut try_wildcards);
        }
        if !self.ascii_ci_prefixes.is_empty() {
            self.ascii_ci_prefixes.walk(lower(bytes), hit);
        }
        if !self.ascii_ci_suffixes.is_empty() {
            self.ascii_ci_suffixes.walk(lower(bytes).rev(), hit);
        }
    }
}
