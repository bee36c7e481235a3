//! The event scanner: walks event JSON bytes once, validating as it goes, and hands
//! over the values of fields that some pattern names. Everything else is skipped
//! without building a tree or allocating.
//!
//! Which fields matter is a [`PathTrie`] of path segments (event keys with dots
//! are split, so `{"a.b": 1}` and `{"a": {"b": 1}}` reach the same node). The
//! scanner validates the whole document, skipped parts included, so an invalid
//! event is always an error; the error text itself comes from the reference reader
//! (`event::read_event`), so both matchers describe bad input the same way.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

/// A node of the field-path trie: its child segments and, when some pattern tests
/// this exact path, the field id.
#[derive(Debug, Clone, Default)]
pub(super) struct PathNode {
    children: Vec<(Box<[u8]>, u32)>,
    /// Built when a node has many children.
    lookup: Option<FxHashMap<Box<[u8]>, u32>>,
    /// The first bytes of the children's segments (a dot for an empty segment,
    /// which a dotted key reaches by starting with a dot): most keys an event
    /// has at a named level start with none of them and miss without a compare.
    first_bytes: [u64; 4],
    pub field: Option<u32>,
}

impl PathNode {
    #[inline(always)]
    fn may_lead(&self, key: &[u8]) -> bool {
        match key.first() {
            Some(&b) => self.first_bytes[(b >> 6) as usize] & (1 << (b & 63)) != 0,
            None => true,
        }
    }
}

const HASHED_CHILDREN: usize = 8;

/// The paths patterns name, as a trie of segments. Node 0 is the event's root.
#[derive(Debug, Clone)]
pub(super) struct PathTrie {
    nodes: Vec<PathNode>,
}

impl Default for PathTrie {
    fn default() -> Self {
        PathTrie {
            nodes: vec![PathNode::default()],
        }
    }
}

impl PathTrie {
    fn child(&self, node: u32, segment: &[u8]) -> Option<u32> {
        let n = &self.nodes[node as usize];
        match &n.lookup {
            Some(map) => map.get(segment).copied(),
            None => n
                .children
                .iter()
                .find(|(k, _)| same_bytes(k, segment))
                .map(|&(_, c)| c),
        }
    }

    /// The node an event key leads to from `node`, splitting dotted keys.
    #[inline(always)]
    fn follow(&self, node: u32, key: &[u8]) -> Option<u32> {
        // A dotted key's first segment starts with its first byte too.
        if !self.nodes[node as usize].may_lead(key) {
            return None;
        }
        // Segments never hold dots, so a dotted key can only miss as a whole.
        let found = self.child(node, key);
        if found.is_some() || !swar::has_dot(key) {
            return found;
        }
        key.split(|&b| b == b'.')
            .try_fold(node, |n, segment| self.child(n, segment))
    }

    /// Marks `path` (dotted) as the field `field`, creating nodes as needed.
    pub fn insert(&mut self, path: &str, field: u32) {
        let mut node = 0u32;
        for segment in path.split('.') {
            node = match self.child(node, segment.as_bytes()) {
                Some(c) => c,
                None => {
                    let c = self.nodes.len() as u32;
                    self.nodes.push(PathNode::default());
                    let parent = &mut self.nodes[node as usize];
                    parent.children.push((segment.as_bytes().into(), c));
                    let first = segment.as_bytes().first().copied().unwrap_or(b'.');
                    parent.first_bytes[(first >> 6) as usize] |= 1 << (first & 63);
                    if parent.children.len() > HASHED_CHILDREN {
                        parent.lookup = Some(parent.children.iter().cloned().collect());
                    }
                    c
                }
            };
        }
        self.nodes[node as usize].field = Some(field);
    }

    /// Forgets the field at `path`. Nodes stay (they are cheap and may be reused);
    /// a node with no field below it is simply never reported.
    pub fn remove(&mut self, path: &str) {
        let node = path
            .split('.')
            .try_fold(0u32, |n, segment| self.child(n, segment.as_bytes()));
        if let Some(node) = node {
            self.nodes[node as usize].field = None;
        }
    }

    fn node(&self, node: u32) -> &PathNode {
        &self.nodes[node as usize]
    }

    fn has_children(&self, node: u32) -> bool {
        !self.nodes[node as usize].children.is_empty()
    }
}

/// Byte equality tuned for short keys: most event keys a named level sees are
/// compared against one or two pattern keys and differ.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    match n {
        0..8 => a.iter().zip(b).all(|(x, y)| x == y),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// One scalar value of a named field, viewed in the event's bytes.
#[derive(Debug, Clone)]
pub(super) enum ScanValue<'a> {
    String(Cow<'a, str>),
    /// The number's text as written (already checked against the JSON grammar).
    Number(&'a str),
    Bool(bool),
    Null,
}

/// Where one scalar value of a named field stands in the event's bytes; cheap to
/// keep, so values can be looked at again after the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RawValue {
    String { start: u32, end: u32, escaped: bool },
    Number { start: u32, end: u32 },
    Bool(bool),
    Null,
}

impl RawValue {
    /// The value itself. `bytes` must be the event that was scanned.
    pub fn view(self, bytes: &[u8]) -> ScanValue<'_> {
        let text = |start: u32, end: u32| {
            // Validated UTF-8 (strings) or ASCII (numbers) by the scan.
            std::str::from_utf8(&bytes[start as usize..end as usize]).unwrap_or_default()
        };
        match self {
            RawValue::String {
                start,
                end,
                escaped: false,
            } => ScanValue::String(Cow::Borrowed(text(start, end))),
            RawValue::String { start, end, .. } => ScanValue::String(Cow::Owned(
                unescape(bytes, start as usize, end as usize).unwrap_or_default(),
            )),
            RawValue::Number { start, end } => ScanValue::Number(text(start, end)),
            RawValue::Bool(b) => ScanValue::Bool(b),
            RawValue::Null => ScanValue::Null,
        }
    }
}

/// Skips a string of a validated event starting at its opening quote at `i`;
/// returns the index after the closing quote.
#[inline]
fn skip_string_trusted(bytes: &[u8], i: usize) -> Result<usize> {
    string_end_trusted(bytes, i).map(|(end, _)| end)
}

/// The index after the closing quote of a validated string opening at `i`, and
/// whether the string holds escapes. Sixteen bytes at a time (SSE2 on x86_64,
/// else a portable loop): keys and most values end within the first sixteen.
#[inline]
fn string_end_trusted(bytes: &[u8], i: usize) -> Result<(usize, bool)> {
    let mut i = i + 1;
    let mut escaped = false;
    loop {
        match bytes.get(i..i + 16) {
            Some(chunk) => {
                let found = quote_or_backslash16(chunk.try_into().expect("16 bytes"));
                if found == 0 {
                    i += 16;
                    continue;
                }
                i += found.trailing_zeros() as usize;
            }
            // Fewer than sixteen bytes are left.
            None => {
                i += bytes
                    .get(i..)
                    .and_then(|rest| rest.iter().position(|&b| b == b'"' || b == b'\\'))
                    .ok_or(Invalid)?;
            }
        }
        if bytes[i] == b'"' {
            return Ok((i + 1, escaped));
        }
        escaped = true;
        i += 2; // the backslash and the character it escapes
    }
}

/// Bit n is set when byte n of `chunk` is a quote or a backslash.
#[cfg(target_arch = "x86_64")]
#[inline]
fn quote_or_backslash16(chunk: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline; the load reads the 16 bytes of
    // `chunk`, and `loadu` allows any alignment.
    unsafe {
        let x = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
        let hits = _mm_or_si128(
            _mm_cmpeq_epi8(x, _mm_set1_epi8(b'"' as i8)),
            _mm_cmpeq_epi8(x, _mm_set1_epi8(b'\\' as i8)),
        );
        _mm_movemask_epi8(hits) as u32 & 0xFFFF
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn quote_or_backslash16(chunk: &[u8; 16]) -> u32 {
    chunk.iter().enumerate().fold(0, |m, (n, &b)| {
        m | (((b == b'"' || b == b'\\') as u32) << n)
    })
}

/// Decodes the raw content `start..end` of a string that holds escapes (rare:
/// keys and values are usually plain).
fn unescape(bytes: &[u8], start: usize, end: usize) -> Option<String> {
    let quoted = std::str::from_utf8(&bytes[start - 1..end + 1]).ok()?;
    match crate::json::parse(quoted, 1).map(|j| j.value) {
        Ok(crate::json::JsonValue::String(s)) => Some(s),
        _ => None,
    }
}

/// Something went wrong; the caller asks the reference reader for the message.
#[derive(Debug)]
pub(super) struct Invalid;

type Result<T> = std::result::Result<T, Invalid>;

/// Receives the values of named fields: field id, value, and which element of
/// which array (array id, index) the value sits in.
pub(super) trait Visitor {
    fn value(&mut self, field: u32, value: RawValue, membership: &[(u32, u32)]);
}

/// Whether the scan validates the parts of the event no pattern names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Skipping {
    /// Validate everything: the bytes come from outside.
    Validate,
    /// The event was validated before (see `CheckedEvent`): skipped parts only
    /// need their strings and brackets followed.
    Trust,
}

/// Scans one event. Errors mean "not valid JSON, too deep, or not an object".
pub(super) fn scan(
    bytes: &[u8],
    trie: &PathTrie,
    max_depth: usize,
    skipping: Skipping,
    visitor: &mut impl Visitor,
) -> Result<()> {
    let mut scanner = Scanner {
        bytes,
        pos: 0,
        depth: 0,
        max_depth,
        next_array: 0,
        membership: Vec::new(),
        trie,
        skipping,
    };
    scanner.ws();
    if scanner.peek() != Some(b'{') {
        return Err(Invalid);
    }
    scanner.object(Some(0), visitor)?;
    scanner.ws();
    if scanner.pos != bytes.len() {
        return Err(Invalid);
    }
    Ok(())
}

struct Scanner<'a, 't> {
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    max_depth: usize,
    next_array: u32,
    membership: Vec<(u32, u32)>,
    trie: &'t PathTrie,
    skipping: Skipping,
}

impl<'a> Scanner<'a, '_> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips whitespace; compact JSON has none, which one compare tells.
    #[inline]
    fn ws(&mut self) {
        if self.bytes.get(self.pos).is_some_and(|&b| b > b' ') {
            return;
        }
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The byte after a value and any whitespace (a `,` or a closing bracket,
    /// if the JSON is right), not consumed.
    #[inline(always)]
    fn after_value(&mut self) -> Result<u8> {
        match self.peek() {
            Some(b @ (b',' | b'}' | b']')) => Ok(b),
            _ => {
                self.ws();
                self.peek().ok_or(Invalid)
            }
        }
    }

    #[inline]
    fn expect(&mut self, byte: u8) -> Result<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(Invalid);
        }
        Ok(())
    }

    /// An object at `node` (`None`: nothing below is named, so just validate).
    fn object(&mut self, node: Option<u32>, visitor: &mut impl Visitor) -> Result<()> {
        let Some(node) = node else {
            return self.skip_object();
        };
        self.members(|scanner, (start, end, escaped)| {
            let child = if escaped {
                let key = unescape(scanner.bytes, start, end).ok_or(Invalid)?;
                scanner.trie.follow(node, key.as_bytes())
            } else {
                scanner.trie.follow(node, &scanner.bytes[start..end])
            };
            scanner.value(child, visitor)
        })
    }

    /// An array at a named node: each object or array element is reported with
    /// its position; scalar elements are consistent with every element, as in
    /// event-ruler, so they record no position in this array.
    fn array(&mut self, node: u32, visitor: &mut impl Visitor) -> Result<()> {
        let id = self.next_array;
        self.next_array += 1;
        self.elements(|scanner, index| {
            if let Some(b'{' | b'[') = scanner.peek() {
                scanner.membership.push((id, index));
                scanner.named_value(node, visitor)?;
                scanner.membership.pop();
                Ok(())
            } else {
                scanner.named_value(node, visitor)
            }
        })
    }

    /// Walks the object at `pos`, checking its punctuation; `member` is called
    /// with each key's raw range (and whether it holds escapes), positioned at the
    /// member's value, and must consume the value.
    #[inline]
    fn members(
        &mut self,
        mut member: impl FnMut(&mut Self, (usize, usize, bool)) -> Result<()>,
    ) -> Result<()> {
        self.enter()?;
        self.pos += 1; // '{'
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(Invalid);
            }
            let key = self.string()?;
            // Compact JSON first: `"key":value,` has no whitespace to look for.
            if self.peek() != Some(b':') {
                self.ws();
            }
            self.expect(b':')?;
            self.ws();
            member(self, key)?;
            match self.after_value()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err(Invalid),
            }
        }
    }

    /// Walks the array at `pos`, checking its punctuation; `element` is called
    /// with each index, positioned at the element, and must consume it.
    #[inline]
    fn elements(&mut self, mut element: impl FnMut(&mut Self, u32) -> Result<()>) -> Result<()> {
        self.enter()?;
        self.pos += 1; // '['
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        let mut index = 0u32;
        loop {
            self.ws();
            element(self, index)?;
            index += 1;
            match self.after_value()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err(Invalid),
            }
        }
    }

    /// One value at `node`; reports it when the node is a named field.
    #[inline]
    fn value(&mut self, node: Option<u32>, visitor: &mut impl Visitor) -> Result<()> {
        match node {
            None => self.skip_value(),
            Some(n) => self.named_value(n, visitor),
        }
    }

    fn named_value(&mut self, node: u32, visitor: &mut impl Visitor) -> Result<()> {
        let field = self.trie.node(node).field;
        match self.peek() {
            Some(b'{') if self.trie.has_children(node) => self.object(Some(node), visitor),
            Some(b'{') => self.skip_object(),
            Some(b'[') => self.array(node, visitor),
            Some(b'"') => {
                let (start, end, escaped) = self.string()?;
                if let Some(f) = field {
                    let value = RawValue::String {
                        start: start as u32,
                        end: end as u32,
                        escaped,
                    };
                    visitor.value(f, value, &self.membership);
                }
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                self.number()?;
                if let Some(f) = field {
                    let value = RawValue::Number {
                        start: start as u32,
                        end: self.pos as u32,
                    };
                    visitor.value(f, value, &self.membership);
                }
                Ok(())
            }
            Some(b't') => self.literal(b"true", field, RawValue::Bool(true), visitor),
            Some(b'f') => self.literal(b"false", field, RawValue::Bool(false), visitor),
            Some(b'n') => self.literal(b"null", field, RawValue::Null, visitor),
            _ => Err(Invalid),
        }
    }

    fn literal(
        &mut self,
        word: &[u8],
        field: Option<u32>,
        value: RawValue,
        visitor: &mut impl Visitor,
    ) -> Result<()> {
        if !self.bytes[self.pos..].starts_with(word) {
            return Err(Invalid);
        }
        self.pos += word.len();
        if let Some(f) = field {
            visitor.value(f, value, &self.membership);
        }
        Ok(())
    }

    /// Validates one value that no pattern looks into.
    #[inline(always)]
    fn skip_value(&mut self) -> Result<()> {
        if self.skipping == Skipping::Trust {
            // Strings, the most common value, without a call.
            if self.peek() == Some(b'"') {
                self.pos = skip_string_trusted(self.bytes, self.pos)?;
                return Ok(());
            }
            return self.skip_trusted();
        }
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'{') => self.skip_object(),
            Some(b'[') => self.skip_array(),
            Some(b't') => self.skip_literal(b"true"),
            Some(b'f') => self.skip_literal(b"false"),
            Some(b'n') => self.skip_literal(b"null"),
            _ => Err(Invalid),
        }
    }

    /// Skips one value of an already validated event: strings (for the brackets
    /// and quotes inside them) and bracket depth are all that matter.
    fn skip_trusted(&mut self) -> Result<()> {
        let bytes = self.bytes;
        let i = self.pos;
        self.pos = match bytes.get(i) {
            Some(b'"') => skip_string_trusted(bytes, i)?,
            Some(b'{') => blocks::skip_container(bytes, i, b'{', b'}')?,
            Some(b'[') => blocks::skip_container(bytes, i, b'[', b']')?,
            Some(_) => {
                // A number or literal runs up to the next delimiter.
                let rest = &bytes[i..];
                i + rest
                    .iter()
                    .position(|b| matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t'))
                    .unwrap_or(rest.len())
            }
            None => return Err(Invalid),
        };
        Ok(())
    }

    fn skip_literal(&mut self, word: &[u8]) -> Result<()> {
        if !self.bytes[self.pos..].starts_with(word) {
            return Err(Invalid);
        }
        self.pos += word.len();
        Ok(())
    }

    fn skip_object(&mut self) -> Result<()> {
        self.members(|scanner, _| scanner.skip_value())
    }

    fn skip_array(&mut self) -> Result<()> {
        self.elements(|scanner, _| scanner.skip_value())
    }

    /// Skips a run of ASCII digits, eight at a time where it can.
    #[inline]
    fn digits(&mut self) -> usize {
        let bytes = self.bytes;
        let start = self.pos;
        let mut i = start;
        while let Some(chunk) = bytes.get(i..i + 8) {
            let others = swar::non_digits(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
            if others != 0 {
                i += (others.trailing_zeros() / 8) as usize;
                self.pos = i;
                return i - start;
            }
            i += 8;
        }
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        self.pos = i;
        i - start
    }

    fn number(&mut self) -> Result<()> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(Invalid),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(Invalid);
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(Invalid);
            }
        }
        Ok(())
    }

    /// Reads a string at `pos` (the opening quote), validating it unless the
    /// event is trusted; returns the byte range of its raw content and whether it
    /// holds escapes.
    #[inline(always)]
    fn string(&mut self) -> Result<(usize, usize, bool)> {
        if self.skipping == Skipping::Trust {
            let (end, escaped) = string_end_trusted(self.bytes, self.pos)?;
            let start = self.pos + 1;
            self.pos = end;
            return Ok((start, end - 1, escaped));
        }
        self.string_validated()
    }

    /// [`string`](Self::string) for bytes from outside: every byte is checked.
    fn string_validated(&mut self) -> Result<(usize, usize, bool)> {
        let bytes = self.bytes;
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        let mut non_ascii = false;
        loop {
            // Eight bytes at a time up to the first quote, backslash, control or
            // non-ASCII byte, which is then looked at on its own.
            while let Some(chunk) = bytes.get(i..i + 8) {
                let special =
                    swar::special_in_string(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
                if special != 0 {
                    i += (special.trailing_zeros() / 8) as usize;
                    break;
                }
                i += 8;
            }
            match bytes.get(i) {
                None => return Err(Invalid),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    i = self.escape(i)?;
                }
                Some(&b) if b < 0x20 => return Err(Invalid),
                Some(&b) => {
                    non_ascii |= b >= 0x80;
                    i += 1;
                }
            }
        }
        if non_ascii && std::str::from_utf8(&bytes[start..i]).is_err() {
            return Err(Invalid);
        }
        self.pos = i + 1;
        Ok((start, i, escaped))
    }

    /// Validates the escape at `i` (a backslash); returns the index after it.
    fn escape(&self, i: usize) -> Result<usize> {
        match self.bytes.get(i + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 2),
            Some(b'u') => {
                let unit = self.hex4(i + 2)?;
                if (0xDC00..0xE000).contains(&unit) {
                    return Err(Invalid); // a low surrogate on its own
                }
                if (0xD800..0xDC00).contains(&unit) {
                    if self.bytes.get(i + 6..i + 8) != Some(b"\\u") {
                        return Err(Invalid);
                    }
                    let low = self.hex4(i + 8)?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(Invalid);
                    }
                    return Ok(i + 12);
                }
                Ok(i + 6)
            }
            _ => Err(Invalid),
        }
    }

    fn hex4(&self, at: usize) -> Result<u32> {
        let digits = self.bytes.get(at..at + 4).ok_or(Invalid)?;
        digits.iter().try_fold(0u32, |acc, &b| {
            let d = (b as char).to_digit(16).ok_or(Invalid)?;
            Ok(acc * 16 + d)
        })
    }
}

/// Skipping whole containers of a validated event, 64 bytes at a time: each block
/// is classified into bit masks (opening and closing brackets, quotes,
/// backslashes), string contents are masked out with a prefix XOR of the quotes,
/// and the depth moves by the counts of the remaining brackets; only a block in
/// which the depth could reach zero has its brackets visited one by one. Within an
/// array only `[` and `]` change the depth that matters (braces inside are
/// balanced), and likewise for objects. Blocks with a backslash (escapes in
/// strings, rare) go byte by byte. AVX2 classifies a block in half the
/// instructions of SSE2 (the x86_64 baseline); which one runs is decided once.
mod blocks {
    use super::{Invalid, Result};

    const BLOCK: usize = 64;

    /// Masks (bit n = byte n) of `open`, `close`, `"` and `\` in a block.
    #[derive(Debug, Clone, Copy)]
    struct Masks {
        opens: u64,
        closes: u64,
        quotes: u64,
        backslashes: u64,
    }

    /// Skips the container opening at `start`; returns the index after its end.
    pub(super) fn skip_container(bytes: &[u8], start: usize, open: u8, close: u8) -> Result<usize> {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // SAFETY: the CPU supports AVX2 and POPCNT (checked at run time).
            return unsafe { skip_avx2(bytes, start, open, close) };
        }
        skip_baseline(bytes, start, open, close)
    }

    fn skip_baseline(bytes: &[u8], start: usize, open: u8, close: u8) -> Result<usize> {
        skip_loop!(bytes, start, open, close, classify)
    }

    /// The block loop, written once for each way of classifying a block (a macro
    /// rather than a function taking the classifier, so that the AVX2 one is
    /// inlined into code compiled for AVX2).
    macro_rules! skip_loop {
        ($bytes:ident, $start:ident, $open:ident, $close:ident, $classify:ident) => {{
            let mut depth = 0u32;
            let mut i = $start;
            // All ones while the previous block ended inside a string.
            let mut inside = 0u64;
            // The last few bytes are classified as a block padded with spaces
            // (neutral: no bracket, quote or backslash).
            let mut tail = [b' '; BLOCK];
            loop {
                let block: &[u8; BLOCK] = match $bytes.get(i..i + BLOCK) {
                    Some(block) => block.try_into().expect("64 bytes"),
                    None if i < $bytes.len() => {
                        let rest = &$bytes[i..];
                        tail[..rest.len()].copy_from_slice(rest);
                        &tail
                    }
                    None => break Err(Invalid),
                };
                let m = $classify(block, $open, $close);
                if m.backslashes != 0 {
                    break bytewise($bytes, i, $open, $close, depth, inside != 0);
                }
                let in_string = prefix_xor(m.quotes) ^ inside;
                let (opens, closes) = (m.opens & !in_string, m.closes & !in_string);
                let closing = closes.count_ones();
                if closing < depth {
                    // The depth cannot reach zero in this block.
                    depth = depth + opens.count_ones() - closing;
                } else if let Some(bit) = walk(opens, closes, &mut depth) {
                    break Ok(i + bit as usize + 1);
                }
                inside = ((in_string as i64) >> 63) as u64; // the top bit, everywhere
                i += BLOCK;
            }
        }};
    }
    use skip_loop;

    /// std caches what the CPU can do; asking costs an atomic load.
    #[cfg(target_arch = "x86_64")]
    fn has_avx2() -> bool {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("popcnt")
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,popcnt")]
    fn skip_avx2(bytes: &[u8], start: usize, open: u8, close: u8) -> Result<usize> {
        skip_loop!(bytes, start, open, close, classify_avx2)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    fn classify_avx2(block: &[u8; BLOCK], open: u8, close: u8) -> Masks {
        use std::arch::x86_64::{
            __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8,
        };
        // SAFETY: each load reads 32 bytes inside `block` (offsets 0 and 32 of a
        // 64-byte array) and `loadu` allows any alignment.
        let (lo, hi) = unsafe {
            (
                _mm256_loadu_si256(block.as_ptr().cast::<__m256i>()),
                _mm256_loadu_si256(block.as_ptr().add(32).cast::<__m256i>()),
            )
        };
        let mask = |byte: u8| {
            let b = _mm256_set1_epi8(byte as i8);
            let l = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, b)) as u32 as u64;
            let h = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, b)) as u32 as u64;
            l | (h << 32)
        };
        Masks {
            opens: mask(open),
            closes: mask(close),
            quotes: mask(b'"'),
            backslashes: mask(b'\\'),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[inline]
    fn classify(block: &[u8; BLOCK], open: u8, close: u8) -> Masks {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
        };
        // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are
        // always available; each load reads 16 bytes inside `block` (offsets 0,
        // 16, 32 and 48 of a 64-byte array) and `loadu` allows any alignment.
        unsafe {
            let part = |at: usize| _mm_loadu_si128(block.as_ptr().add(at).cast::<__m128i>());
            let parts = [part(0), part(16), part(32), part(48)];
            let mask = |byte: u8| {
                let b = _mm_set1_epi8(byte as i8);
                parts.iter().enumerate().fold(0u64, |m, (n, &p)| {
                    m | ((_mm_movemask_epi8(_mm_cmpeq_epi8(p, b)) as u32 as u64 & 0xFFFF)
                        << (16 * n))
                })
            };
            Masks {
                opens: mask(open),
                closes: mask(close),
                quotes: mask(b'"'),
                backslashes: mask(b'\\'),
            }
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    #[inline]
    fn classify(block: &[u8; BLOCK], open: u8, close: u8) -> Masks {
        let mut m = Masks {
            opens: 0,
            closes: 0,
            quotes: 0,
            backslashes: 0,
        };
        for (n, &b) in block.iter().enumerate() {
            m.opens |= ((b == open) as u64) << n;
            m.closes |= ((b == close) as u64) << n;
            m.quotes |= ((b == b'"') as u64) << n;
            m.backslashes |= ((b == b'\\') as u64) << n;
        }
        m
    }

    /// Bit n is set when byte n is inside a string (from an opening quote up to,
    /// not including, its closing quote), given the quotes of the block.
    #[inline]
    fn prefix_xor(mut x: u64) -> u64 {
        x ^= x << 1;
        x ^= x << 2;
        x ^= x << 4;
        x ^= x << 8;
        x ^= x << 16;
        x ^= x << 32;
        x
    }

    /// Applies the brackets flagged in `opens`/`closes` to `depth`; returns the
    /// bit where the depth returns to zero, if it does. Whether a bracket opens or
    /// closes is arithmetic, not a branch: they alternate unpredictably.
    #[inline]
    fn walk(opens: u64, closes: u64, depth: &mut u32) -> Option<u32> {
        let mut brackets = opens | closes;
        while brackets != 0 {
            let bit = brackets.trailing_zeros();
            let opening = ((opens >> bit) & 1) as u32;
            *depth = (*depth + 2 * opening).wrapping_sub(1);
            if *depth == 0 {
                return Some(bit);
            }
            brackets &= brackets - 1;
        }
        None
    }

    /// The same walk one byte at a time, with escapes: for blocks holding a
    /// backslash and for the last few bytes.
    fn bytewise(
        bytes: &[u8],
        mut i: usize,
        open: u8,
        close: u8,
        mut depth: u32,
        mut in_string: bool,
    ) -> Result<usize> {
        while let Some(&b) = bytes.get(i) {
            if in_string {
                match b {
                    b'\\' => i += 1, // skip the escaped character too
                    b'"' => in_string = false,
                    _ => {}
                }
            } else if b == b'"' {
                in_string = true;
            } else if b == open {
                depth += 1;
            } else if b == close {
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            i += 1;
        }
        Err(Invalid)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn skips_containers_whatever_their_strings_hold() {
            let long = "x".repeat(40);
            for (text, open, close) in [
                (r#"[1, [2, [3]], "]", "[", 4] tail"#.to_string(), b'[', b']'),
                (
                    format!(r#"{{"a": "{long}}}", "b": {{"c": "{{"}}, "d": "\"}}"}} tail"#),
                    b'{',
                    b'}',
                ),
                (
                    format!(r#"["{long}\"]", ["{long}"], "]"] tail"#),
                    b'[',
                    b']',
                ),
                (
                    format!("[{}] tail", "[0.5, -1],".repeat(20) + "[]"),
                    b'[',
                    b']',
                ),
            ] {
                let end = skip_container(text.as_bytes(), 0, open, close).unwrap();
                assert_eq!(&text[end..], " tail", "{text}");
            }
            assert!(skip_container(b"[[1]", 0, b'[', b']').is_err());
        }

        /// Every block path agrees with the byte-by-byte walk on containers that
        /// cross blocks at every offset, with strings and depth across blocks.
        #[test]
        fn block_paths_agree_with_the_bytewise_walk() {
            let mut rng = crate::bench::citylots::Rng::new(7);
            let atoms = [
                "1",
                "[",
                "]",
                "{\"k\": [",
                "]}",
                "\"a]\"",
                "\"[{\"",
                "\"\\\"]\"",
                " ",
                "-0.5",
            ];
            for case in 0..2_000 {
                let mut text = "x".repeat(case % 70);
                let start = text.len();
                let mut depth = 0;
                text.push('[');
                depth += 1;
                for _ in 0..rng.below(200) {
                    let atom = *rng.pick(&atoms);
                    match atom {
                        "]" | "]}" if depth <= 1 => continue,
                        "]" | "]}" => depth -= 1,
                        "[" | "{\"k\": [" => depth += 1,
                        _ => {}
                    }
                    // Keep objects closed with the same kind they opened with.
                    let atom = if atom == "]}" { "]" } else { atom };
                    text.push_str(if atom == "{\"k\": [" { "[" } else { atom });
                    text.push(',');
                }
                text.push_str(&"]".repeat(depth));
                text.push_str(" tail");
                let want = bytewise(text.as_bytes(), start, b'[', b']', 0, false);
                assert_eq!(
                    skip_baseline(text.as_bytes(), start, b'[', b']').ok(),
                    want.as_ref().ok().copied(),
                    "{text}"
                );
                assert_eq!(
                    skip_container(text.as_bytes(), start, b'[', b']').ok(),
                    want.ok(),
                    "{text}"
                );
            }
        }
    }
}

/// Eight bytes at a time ("SIMD within a register") tests for the hot loops.
mod swar {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;

    /// Flags (high bit of the byte) the first quote, backslash, control
    /// character (< 0x20) or non-ASCII byte of `x` in memory order. Bytes after
    /// the first flagged one may be flagged wrongly; callers only look at the
    /// lowest flag (`trailing_zeros` on little-endian) or at zero.
    #[inline]
    pub fn special_in_string(x: u64) -> u64 {
        let quote = x ^ (ONES * b'"' as u64);
        let backslash = x ^ (ONES * b'\\' as u64);
        zero_bytes(quote)
            | zero_bytes(backslash)
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGHS)
            | (x & HIGHS)
    }

    /// Whether `bytes` holds a dot (keys are short: a word or two).
    #[inline]
    pub fn has_dot(bytes: &[u8]) -> bool {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            if zero_bytes(x ^ (ONES * b'.' as u64)) != 0 {
                return true;
            }
        }
        chunks.remainder().contains(&b'.')
    }

    /// Flags each byte whose value is zero (exact up to the first flag).
    #[inline]
    fn zero_bytes(x: u64) -> u64 {
        x.wrapping_sub(ONES) & !x & HIGHS
    }

    /// Flags (high bit) every byte of `x` that is not an ASCII digit. Exact for
    /// every byte: no carries cross byte boundaries.
    #[inline]
    pub fn non_digits(x: u64) -> u64 {
        let t = x ^ (ONES * 0x30); // digits become 0..=9
        (((t & !HIGHS) + ONES * 0x76) | t) & HIGHS
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn swar_tests_agree_with_byte_tests() {
            for b in 0..=255u8 {
                for pos in [0, 3, 7] {
                    let mut chunk = *b"abcdefgh";
                    chunk[pos] = b;
                    let x = u64::from_le_bytes(chunk);
                    let special = b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b);
                    let first = special_in_string(x).trailing_zeros() / 8;
                    assert_eq!(first as usize, if special { pos } else { 8 }, "byte {b:#x}");
                    let mut digits = *b"01234567";
                    digits[pos] = b;
                    let first = non_digits(u64::from_le_bytes(digits)).trailing_zeros() / 8;
                    let want = if b.is_ascii_digit() { 8 } else { pos };
                    assert_eq!(first as usize, want, "byte {b:#x}");
                    assert_eq!(has_dot(&chunk), b == b'.');
                    assert_eq!(has_dot(&chunk[..pos + 1]), b == b'.');
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Reported = (u32, RawValue, Vec<(u32, u32)>);

    #[derive(Default)]
    struct Collect(Vec<Reported>);

    impl Visitor for Collect {
        fn value(&mut self, field: u32, value: RawValue, membership: &[(u32, u32)]) {
            self.0.push((field, value, membership.to_vec()));
        }
    }

    fn trie(paths: &[&str]) -> PathTrie {
        let mut t = PathTrie::default();
        for (i, p) in paths.iter().enumerate() {
            t.insert(p, i as u32);
        }
        t
    }

    fn run(paths: &[&str], event: &str) -> std::result::Result<Vec<String>, Invalid> {
        let mut c = Collect::default();
        scan(
            event.as_bytes(),
            &trie(paths),
            64,
            Skipping::Validate,
            &mut c,
        )?;
        // Trusting the event must report the same values.
        let mut trusted = Collect::default();
        scan(
            event.as_bytes(),
            &trie(paths),
            64,
            Skipping::Trust,
            &mut trusted,
        )?;
        assert_eq!(trusted.0, c.0);
        Ok(c.0
            .into_iter()
            .map(|(field, raw, membership)| {
                format!("{field}={:?}@{membership:?}", raw.view(event.as_bytes()))
            })
            .collect())
    }

    #[test]
    fn trusted_string_ends_are_found_at_any_length_and_past_escapes() {
        for len in 0..40 {
            let body = "x".repeat(len);
            let text = format!("\"{body}\" tail");
            assert_eq!(
                string_end_trusted(text.as_bytes(), 0).unwrap(),
                (len + 2, false),
                "{len}"
            );
            let text = format!("\"{body}\\\"{body}\\\\\" tail");
            assert_eq!(
                string_end_trusted(text.as_bytes(), 0).unwrap(),
                (2 * len + 6, true),
                "{text}"
            );
            assert!(string_end_trusted(format!("\"{body}").as_bytes(), 0).is_err());
        }
    }

    #[test]
    fn reports_named_fields_only_with_array_positions() {
        let got = run(
            &["a.b", "c"],
            r#"{"x": [1, {"y": "z"}], "a": [{"b": "q\"r"}, {"b": 2}], "c": null, "a.b": true}"#,
        )
        .unwrap();
        assert_eq!(
            got,
            [
                r#"0=String("q\"r")@[(0, 0)]"#,
                r#"0=Number("2")@[(0, 1)]"#,
                "1=Null@[]",
                "0=Bool(true)@[]",
            ]
        );
    }

    #[test]
    fn empty_segments_are_reached_by_empty_and_dotted_keys() {
        let got = run(
            &["", "a", ".b", "c.d"],
            r#"{"": 1, ".b": 2, "a": 3, "x.d": 4, "c.d": 5, "b": 6}"#,
        )
        .unwrap();
        assert_eq!(
            got,
            [
                "0=Number(\"1\")@[]",
                "2=Number(\"2\")@[]",
                "1=Number(\"3\")@[]",
                "3=Number(\"5\")@[]"
            ]
        );
    }

    #[test]
    fn rejects_invalid_json_anywhere_even_in_skipped_parts() {
        for bad in [
            r#"{"skip": [1, 2,]}"#,
            r#"{"skip": tru}"#,
            r#"{"skip": 01}"#,
            r#"{"skip": "a\qb"}"#,
            r#"{"skip": "\ud800"}"#,
            "{\"skip\": \"a\tb\"}",
            r#"{"skip": {"a" 1}}"#,
            r#"{"a": 1} x"#,
            r#"[1]"#,
            r#"{"a": 1"#,
        ] {
            assert!(run(&["a"], bad).is_err(), "{bad}");
        }
        let invalid_utf8 = b"{\"skip\": \"\xff\"}";
        assert!(
            scan(
                invalid_utf8,
                &trie(&["a"]),
                64,
                Skipping::Validate,
                &mut Collect::default()
            )
            .is_err()
        );
    }

    #[test]
    fn depth_is_limited_in_skipped_parts_too() {
        let deep = format!("{{\"skip\": {}{}}}", "[".repeat(70), "]".repeat(70));
        assert!(run(&["a"], &deep).is_err());
    }
}
