//! A small, strict JSON reader that keeps what serde_json throws away.
//!
//! It owns one thing: turning JSON text into a [`Json`] tree in which every value
//! remembers its byte span in the source and every number keeps its original text.
//! Patterns need the text (`3.018e2`, `1e400` and `-0.0` mean different things to
//! EventBridge), and rule files need the spans so that a semantic error (a bad
//! operator deep inside a pattern) can name a line and column, which serde_json only
//! does for syntax errors.
//!
//! It does not own what the values mean: patterns, events and rule files interpret
//! the tree elsewhere. Object members stay in source order and duplicates are kept,
//! so each caller decides what a repeated key means.

use std::fmt;

/// Byte offsets `start..end` of a value in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// One parsed JSON value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Json {
    pub value: JsonValue,
    pub span: Span,
}

/// An object member: the decoded key, where the key stands, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_span: Span,
    pub value: Json,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonValue {
    Null,
    Bool(bool),
    /// The number exactly as written (already checked against the JSON grammar).
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<Member>),
}

impl JsonValue {
    /// The JSON type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            JsonValue::Null => "null",
            JsonValue::Bool(_) => "boolean",
            JsonValue::Number(_) => "number",
            JsonValue::String(_) => "string",
            JsonValue::Array(_) => "array",
            JsonValue::Object(_) => "object",
        }
    }
}

impl Json {
    /// Length of the value written as compact JSON (no spaces, numbers as written).
    pub fn compact_len(&self) -> usize {
        let quoted = |s: &str| serde_json::to_string(s).map_or(s.len() + 2, |q| q.len());
        match &self.value {
            JsonValue::Null => 4,
            JsonValue::Bool(b) => {
                if *b {
                    4
                } else {
                    5
                }
            }
            JsonValue::Number(n) => n.len(),
            JsonValue::String(s) => quoted(s),
            // Brackets plus separators (one fewer than items) plus the items.
            JsonValue::Array(items) => {
                1 + items.len().max(1) + items.iter().map(Json::compact_len).sum::<usize>()
            }
            JsonValue::Object(members) => {
                1 + members.len().max(1)
                    + members
                        .iter()
                        .map(|m| quoted(&m.key) + 1 + m.value.compact_len())
                        .sum::<usize>()
            }
        }
    }
}

impl fmt::Display for Json {
    /// Compact JSON, numbers as written: used to quote patterns back to users.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            JsonValue::Null => f.write_str("null"),
            JsonValue::Bool(b) => write!(f, "{b}"),
            JsonValue::Number(n) => f.write_str(n),
            JsonValue::String(s) => write_json_string(f, s),
            JsonValue::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            JsonValue::Object(members) => {
                f.write_str("{")?;
                for (i, m) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_json_string(f, &m.key)?;
                    write!(f, ": {}", m.value)?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Writes `s` as a quoted JSON string.
pub fn write_json_string(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_str(&serde_json::to_string(s).map_err(|_| fmt::Error)?)
}

/// Why JSON text could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for JsonError {}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// JSON text without the whitespace between tokens (strings and numbers exactly
/// as written). The input must be valid JSON.
pub fn compact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Parses one JSON document. Nesting deeper than `max_depth` arrays/objects is an
/// error rather than a stack overflow.
pub fn parse(text: &str, max_depth: usize) -> Result<Json, JsonError> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        max_depth,
    };
    parser.skip_ws();
    let value = parser.value(0)?;
    parser.skip_ws();
    if parser.pos < parser.bytes.len() {
        return Err(parser.error_at(parser.pos, "unexpected text after the JSON value"));
    }
    Ok(value)
}

/// Parses JSON given as bytes, rejecting invalid UTF-8 with its position.
pub fn parse_bytes(bytes: &[u8], max_depth: usize) -> Result<Json, JsonError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text, max_depth),
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let (line, column) = line_col(valid, valid.len());
            Err(JsonError {
                offset: e.valid_up_to(),
                line,
                column,
                message: "invalid UTF-8".to_string(),
            })
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    max_depth: usize,
}

impl Parser<'_> {
    fn error_at(&self, offset: usize, message: impl Into<String>) -> JsonError {
        let (line, column) = line_col(self.text, offset);
        JsonError {
            offset,
            line,
            column,
            message: message.into(),
        }
    }

    fn unexpected(&self, wanted: &str) -> JsonError {
        match self.text[self.pos..].chars().next() {
            None => self.error_at(
                self.pos,
                format!("unexpected end of input, expected {wanted}"),
            ),
            Some(c) => self.error_at(self.pos, format!("unexpected {c:?}, expected {wanted}")),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        let start = self.pos;
        let value = match self.bytes.get(self.pos) {
            Some(b'{') => self.object(depth + 1)?,
            Some(b'[') => self.array(depth + 1)?,
            Some(b'"') => JsonValue::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => JsonValue::Number(self.number()?),
            Some(b't') => self.literal("true", JsonValue::Bool(true))?,
            Some(b'f') => self.literal("false", JsonValue::Bool(false))?,
            Some(b'n') => self.literal("null", JsonValue::Null)?,
            _ => return Err(self.unexpected("a JSON value")),
        };
        Ok(Json {
            value,
            span: Span {
                start,
                end: self.pos,
            },
        })
    }

    fn check_depth(&self, depth: usize) -> Result<(), JsonError> {
        if depth > self.max_depth {
            return Err(self.error_at(
                self.pos,
                format!("nesting deeper than {} levels", self.max_depth),
            ));
        }
        Ok(())
    }

    fn literal(&mut self, word: &str, value: JsonValue) -> Result<JsonValue, JsonError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.unexpected("a JSON value"))
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        self.check_depth(depth)?;
        self.pos += 1; // '{'
        let mut members = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(JsonValue::Object(members));
        }
        loop {
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.unexpected("a string key"));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = Span {
                start: key_start,
                end: self.pos,
            };
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.unexpected("':'"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            members.push(Member {
                key,
                key_span,
                value,
            });
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(JsonValue::Object(members));
                }
                _ => return Err(self.unexpected("',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        self.check_depth(depth)?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(JsonValue::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(JsonValue::Array(items));
                }
                _ => return Err(self.unexpected("',' or ']'")),
            }
        }
    }

    fn number(&mut self) -> Result<String, JsonError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.bytes.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos - from
        };
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match self.bytes.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.unexpected("a digit")),
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.unexpected("a digit after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.unexpected("a digit in the exponent"));
            }
        }
        Ok(self.text[start..self.pos].to_string())
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[run_start..self.pos]);
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => {
                    return Err(self.error_at(
                        self.pos,
                        "control character in string (escape it, e.g. \\n)",
                    ));
                }
                None => return Err(self.error_at(self.pos, "unterminated string")),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let c = match self.bytes.get(self.pos) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let escape_start = self.pos - 1;
                self.pos += 1;
                let high = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&high) {
                    if !self.bytes[self.pos..].starts_with(b"\\u") {
                        return Err(self.error_at(escape_start, "unpaired surrogate in \\u escape"));
                    }
                    self.pos += 2;
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(self.error_at(escape_start, "unpaired surrogate in \\u escape"));
                    }
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..0xE000).contains(&high) {
                    return Err(self.error_at(escape_start, "unpaired surrogate in \\u escape"));
                } else {
                    high
                };
                out.push(char::from_u32(code).expect("surrogates handled above"));
                return Ok(());
            }
            _ => return Err(self.error_at(self.pos - 1, "invalid escape in string")),
        };
        self.pos += 1;
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self.bytes.get(self.pos..self.pos + 4);
        let value = digits
            .and_then(|d| std::str::from_utf8(d).ok())
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|d| u32::from_str_radix(d, 16).ok());
        match value {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            None => Err(self.error_at(self.pos, "expected 4 hex digits after \\u")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> JsonValue {
        parse(text, 64).unwrap().value
    }

    fn err(text: &str) -> String {
        parse(text, 64).unwrap_err().to_string()
    }

    #[test]
    fn keeps_number_text_and_member_order() {
        let JsonValue::Object(members) = ok(r#"{"b": 3.018e2, "a": -0.0, "b": 1E400}"#) else {
            panic!("not an object")
        };
        let texts: Vec<_> = members
            .iter()
            .map(|m| match &m.value.value {
                JsonValue::Number(n) => (m.key.as_str(), n.as_str()),
                _ => panic!("not a number"),
            })
            .collect();
        assert_eq!(texts, [("b", "3.018e2"), ("a", "-0.0"), ("b", "1E400")]);
    }

    #[test]
    fn decodes_escapes_and_surrogate_pairs() {
        assert_eq!(
            ok(r#""a\"b\\c\/\n\u00e9\ud83d\ude00""#),
            JsonValue::String("a\"b\\c/\né😀".into())
        );
    }

    #[test]
    fn spans_point_at_values() {
        let text = "{\n  \"k\": [1, true]\n}";
        let doc = parse(text, 64).unwrap();
        let JsonValue::Object(members) = doc.value else {
            panic!()
        };
        assert_eq!(
            &text[members[0].key_span.start..members[0].key_span.end],
            "\"k\""
        );
        let span = members[0].value.span;
        assert_eq!(&text[span.start..span.end], "[1, true]");
        assert_eq!(line_col(text, span.start), (2, 8));
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        assert_eq!(
            err("{\"a\": 1,\n \"b\" 2}"),
            "unexpected '2', expected ':' at line 2 column 6"
        );
        assert_eq!(
            err("[1, 2"),
            "unexpected end of input, expected ',' or ']' at line 1 column 6"
        );
        assert_eq!(
            err("01"),
            "unexpected text after the JSON value at line 1 column 2"
        );
        assert_eq!(
            err("1."),
            "unexpected end of input, expected a digit after '.' at line 1 column 3"
        );
        assert_eq!(err("\"abc"), "unterminated string at line 1 column 5");
        assert_eq!(
            err("\"\\x\""),
            "invalid escape in string at line 1 column 2"
        );
        assert_eq!(
            err("\"\\ud800\""),
            "unpaired surrogate in \\u escape at line 1 column 2"
        );
        assert_eq!(
            err("\"a\tb\""),
            "control character in string (escape it, e.g. \\n) at line 1 column 3"
        );
        assert_eq!(
            err("tru"),
            "unexpected 't', expected a JSON value at line 1 column 1"
        );
        assert_eq!(
            err("NaN"),
            "unexpected 'N', expected a JSON value at line 1 column 1"
        );
        assert_eq!(
            err(""),
            "unexpected end of input, expected a JSON value at line 1 column 1"
        );
    }

    #[test]
    fn depth_limit_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert_eq!(
            parse(&deep, 10).unwrap_err().message,
            "nesting deeper than 10 levels"
        );
        assert!(parse(&format!("{}{}", "[".repeat(10), "]".repeat(10)), 10).is_ok());
    }

    #[test]
    fn compact_text_keeps_strings_and_numbers() {
        assert_eq!(
            compact_text("{ \"a b\" : [ 1e400 , \"x\\\" y\" ] }"),
            "{\"a b\":[1e400,\"x\\\" y\"]}"
        );
    }

    #[test]
    fn compact_len_is_the_length_without_whitespace() {
        for text in [
            r#"{ "a" : [ 1 , "x\"y" , { } , [ ] , null, true, false ] }"#,
            "[]",
            "{}",
            "3.0e2",
        ] {
            let compact: String =
                serde_json::to_string(&serde_json::from_str::<serde_json::Value>(text).unwrap())
                    .unwrap();
            assert_eq!(
                parse(text, 8).unwrap().compact_len(),
                compact.len(),
                "{text}"
            );
        }
    }

    #[test]
    fn invalid_utf8_is_reported() {
        let e = parse_bytes(b"{\"a\": \"\xff\"}", 10).unwrap_err();
        assert_eq!(e.to_string(), "invalid UTF-8 at line 1 column 8");
    }
}
