//! The `Kafka` destination: `Topic`, the record key (`KeyPath` into the event
//! or a constant `Key`), `Headers` added to every record, and `Ordered`.

use crate::json::{Json, JsonValue};
use crate::rules::model::Destination;

use super::{Reader, join};

const FIELDS: &[&str] = &["Topic", "KeyPath", "Key", "Headers", "Ordered"];
/// Kafka's own limit on topic names.
const MAX_TOPIC: usize = 249;

impl Reader<'_> {
    /// `dead_letter`: only `Topic` is meaningful there (records carry the
    /// dead-letter attributes as headers).
    pub(super) fn kafka(&mut self, json: &Json, location: &str) -> Option<Destination> {
        let o = self.object(json, location, FIELDS)?;
        let topic = match o.get("Topic") {
            Some(v) => self.name(
                v,
                &join(location, "Topic"),
                "Kafka topic name",
                MAX_TOPIC,
                |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'),
                "letters, digits, '.', '_' or '-'",
            ),
            None => {
                self.missing(&o, location, "Topic");
                None
            }
        };
        let mut ok = true;
        let key_path = match o.get("KeyPath") {
            Some(v) => {
                let path = self.json_path(v, &join(location, "KeyPath"));
                ok &= path.is_some();
                path
            }
            None => None,
        };
        let key = match o.get("Key") {
            Some(v) => {
                let here = join(location, "Key");
                if o.get("KeyPath").is_some() {
                    self.problem(v, &here, "give KeyPath or Key, not both".into());
                    ok = false;
                }
                let key = self.string(v, &here).map(str::to_string);
                ok &= key.is_some();
                key
            }
            None => None,
        };
        let headers = match o.get("Headers") {
            Some(v) => self.headers(
                v,
                &join(location, "Headers"),
                |name| {
                    name.is_empty()
                        .then(|| "a header name cannot be empty".to_string())
                },
                |_| None,
            ),
            None => Some(Vec::new()),
        };
        ok &= headers.is_some();
        let headers = headers.unwrap_or_default();
        let ordered = match o.get("Ordered") {
            None => false,
            Some(Json {
                value: JsonValue::Bool(b),
                ..
            }) => *b,
            Some(v) => {
                self.type_problem(v, &join(location, "Ordered"), "true or false");
                ok = false;
                false
            }
        };
        let topic = topic?.to_string();
        ok.then_some(Destination::Kafka {
            topic,
            key_path,
            key,
            headers,
            ordered,
        })
    }
}
