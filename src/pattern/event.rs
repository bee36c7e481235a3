//! Events as the reference matcher sees them: every scalar value with its dotted
//! path and the array elements it sits in.
//!
//! EventBridge matches leaf values by dotted path (`{"a": {"b": 1}}` and
//! `{"a.b": 1}` both have `a.b = 1`); arrays are unrolled, and each value records,
//! for every array it is inside, which element it came from, so that fields of one
//! pattern can be required to come from the same element. Only object and array
//! elements count: a scalar directly in an array records nothing for that array,
//! so it is consistent with every element (`{"b": [{"c": "x"}, 1]}` has `b = 1`
//! and `b.c = "x"` together), as in event-ruler. Objects and empty arrays
//! have no values of their own; they are kept as [`Shape`]s only to explain
//! non-matches. Reading bytes and enforcing limits happens here too, so a bad event
//! is an [`EventError`], never a panic.

use std::collections::HashMap;
use std::fmt;

use super::model::Scalar;
use super::number::NumberRef;
use crate::json::{self, Json, JsonValue};

/// Limits on incoming events, with EventBridge's defaults where it has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventLimits {
    /// Largest event in bytes (EventBridge: 256 KiB per entry).
    pub max_bytes: usize,
    /// Deepest nesting of objects and arrays.
    pub max_depth: usize,
    /// Most steps the array-consistency search may take for one event, over all
    /// patterns (a step is one event value tried against the values already
    /// chosen for other fields). The search is exponential in the worst case;
    /// past this budget matching fails with [`EventError::SearchTooLong`]
    /// instead of stalling. Ordinary events take from none to a few thousand.
    pub max_search_steps: u64,
}

impl Default for EventLimits {
    fn default() -> Self {
        EventLimits {
            max_bytes: 256 * 1024,
            max_depth: 128,
            max_search_steps: DEFAULT_SEARCH_STEPS,
        }
    }
}

/// The default [`EventLimits::max_search_steps`]: about 50 ms of search for the
/// compiled matcher on the 2-core development machine.
pub const DEFAULT_SEARCH_STEPS: u64 = 10_000_000;

/// Why an event could not be read or matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    TooLarge {
        bytes: usize,
        limit: usize,
    },
    InvalidJson(json::JsonError),
    NotAnObject(&'static str),
    /// The array-consistency search needed more steps than the limit allows.
    SearchTooLong {
        limit: u64,
    },
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::TooLarge { bytes, limit } => write!(
                f,
                "event is {bytes} bytes, more than the limit of {limit} bytes"
            ),
            EventError::InvalidJson(e) => write!(f, "event is not valid JSON: {e}"),
            EventError::NotAnObject(kind) => {
                write!(f, "an event must be a JSON object, found {kind}")
            }
            EventError::SearchTooLong { limit } => write!(
                f,
                "matching this event needs more than {limit} steps of the array-consistency search (limit {limit}): its arrays hold too many combinations of values for the patterns that name them to be checked"
            ),
        }
    }
}

impl std::error::Error for EventError {}

/// Reads event bytes within the limits.
pub fn read_event(bytes: &[u8], limits: &EventLimits) -> Result<Json, EventError> {
    if bytes.len() > limits.max_bytes {
        return Err(EventError::TooLarge {
            bytes: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let doc = json::parse_bytes(bytes, limits.max_depth).map_err(EventError::InvalidJson)?;
    match doc.value {
        JsonValue::Object(_) => Ok(doc),
        ref other => Err(EventError::NotAnObject(other.type_name())),
    }
}

/// Which element of which array a value came from: `(array id, element index)`.
pub type Membership = Vec<(u32, u32)>;

/// One scalar value of an event.
#[derive(Debug, Clone)]
pub struct Leaf<'a> {
    pub path: String,
    pub value: Scalar<'a>,
    pub membership: Membership,
}

impl Leaf<'_> {
    /// Whether two values could come from the same element of every array they
    /// share.
    pub fn consistent_with(&self, other: &Leaf<'_>) -> bool {
        self.membership.iter().all(|(array, index)| {
            other
                .membership
                .iter()
                .all(|(a, i)| a != array || i == index)
        })
    }
}

/// What stands at a path that has no scalar value, for explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Object,
    EmptyArray,
}

/// An event unrolled into leaves.
#[derive(Debug, Default)]
pub struct FlatEvent<'a> {
    pub leaves: Vec<Leaf<'a>>,
    pub shapes: Vec<(String, Shape)>,
    /// Indexes into `leaves`, by path.
    by_path: HashMap<String, Vec<usize>>,
    /// Paths longer than this are not unrolled.
    max_path: usize,
}

impl<'a> FlatEvent<'a> {
    pub fn new(event: &'a Json) -> FlatEvent<'a> {
        Self::within(event, usize::MAX)
    }

    /// Unrolls only paths of at most `max_path` bytes: the longest path the
    /// patterns at hand name. Nothing longer can be tested, and spelling out
    /// every value's path under a deep chain of long keys would cost the square
    /// of the event's size.
    pub fn within(event: &'a Json, max_path: usize) -> FlatEvent<'a> {
        let mut flat = FlatEvent {
            max_path,
            ..FlatEvent::default()
        };
        let mut next_array = 0;
        flat.walk(event, String::new(), &mut Vec::new(), &mut next_array);
        for (i, leaf) in flat.leaves.iter().enumerate() {
            flat.by_path.entry(leaf.path.clone()).or_default().push(i);
        }
        flat
    }

    /// The values at one dotted path.
    pub fn at<'s>(&'s self, path: &str) -> impl Iterator<Item = &'s Leaf<'a>> + 's {
        self.by_path
            .get(path)
            .into_iter()
            .flatten()
            .map(|&i| &self.leaves[i])
    }

    fn walk(&mut self, node: &'a Json, path: String, membership: &mut Membership, next: &mut u32) {
        if path.len() > self.max_path {
            return;
        }
        let value = match &node.value {
            JsonValue::Object(members) => {
                if !path.is_empty() {
                    self.shapes.push((path.clone(), Shape::Object));
                }
                for m in members {
                    let child = if path.is_empty() {
                        m.key.clone()
                    } else {
                        format!("{path}.{}", m.key)
                    };
                    self.walk(&m.value, child, membership, next);
                }
                return;
            }
            JsonValue::Array(items) => {
                if items.is_empty() {
                    self.shapes.push((path, Shape::EmptyArray));
                    return;
                }
                let id = *next;
                *next += 1;
                for (i, item) in items.iter().enumerate() {
                    // As in event-ruler (`Event.traverseArray`), only objects and
                    // arrays are elements with an identity: a scalar element is
                    // consistent with every element of its array.
                    if matches!(item.value, JsonValue::Object(_) | JsonValue::Array(_)) {
                        membership.push((id, i as u32));
                        self.walk(item, path.clone(), membership, next);
                        membership.pop();
                    } else {
                        self.walk(item, path.clone(), membership, next);
                    }
                }
                return;
            }
            JsonValue::String(s) => Scalar::String(s),
            JsonValue::Number(n) => Scalar::Number(NumberRef::new(n)),
            JsonValue::Bool(b) => Scalar::Bool(*b),
            JsonValue::Null => Scalar::Null,
        };
        self.leaves.push(Leaf {
            path,
            value,
            membership: membership.clone(),
        });
    }
}
