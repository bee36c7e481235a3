//! `enrich`: adds an order total and a tier derived from the event's items.
//!
//! Config (every key optional; defaults shown):
//!
//! ```json
//! {
//!   "items": "detail.items",
//!   "total": "detail.total",
//!   "tier": "detail.tier",
//!   "tiers": [{"min": 1000, "name": "gold"}, {"min": 100, "name": "silver"}],
//!   "default_tier": "standard"
//! }
//! ```
//!
//! - `items`: dot path to a list of objects, each with numeric `price` and
//!   `quantity`. An event without that list, or with an item lacking either
//!   number, is rejected with a reason naming the path.
//! - `total`: where to write the sum of `price * quantity` (an integer when
//!   every price and quantity is one, else a float rounded to 6 decimals).
//! - `tier`: where to write the tier: the name of the tier with the highest
//!   `min` that the total reaches (`tiers` may be in any order; default none),
//!   else `default_tier`.

use switchyard_plugin::path::Path;
use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError, Value, json};

/// One tier: totals of at least `min` get `name`.
struct Tier {
    min: f64,
    name: String,
}

/// The parsed config.
pub struct Enrich {
    items: Path,
    total: Path,
    tier: Path,
    /// Highest `min` first.
    tiers: Vec<Tier>,
    default_tier: String,
}

fn parse_tiers(config: &Config) -> Result<Vec<Tier>, String> {
    const HELP: &str = r#"enrich: "tiers" must be a list such as [{"min": 1000, "name": "gold"}, {"min": 100, "name": "silver"}]"#;
    let Some(list) = config.list("tiers").map_err(|_| HELP.to_owned())? else {
        return Ok(Vec::new());
    };
    let mut tiers = list
        .iter()
        .map(|t| {
            let min = t.get("min").and_then(Value::as_f64);
            let name = t.get("name").and_then(Value::as_str);
            match (min, name) {
                (Some(min), Some(name)) => Ok(Tier {
                    min,
                    name: name.to_owned(),
                }),
                _ => Err(format!("{HELP}; got {t}")),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    tiers.sort_by(|a, b| b.min.total_cmp(&a.min));
    Ok(tiers)
}

/// A sum kept exact while every term is an integer.
enum Sum {
    Int(i128),
    Float(f64),
}

impl Sum {
    fn add(self, price: &Value, quantity: &Value) -> Sum {
        let as_int = |v: &Value| v.as_i64().map(i128::from).or(v.as_u64().map(i128::from));
        match (self, as_int(price), as_int(quantity)) {
            (Sum::Int(s), Some(p), Some(q)) => {
                match p.checked_mul(q).and_then(|t| s.checked_add(t)) {
                    Some(s) => Sum::Int(s),
                    None => Sum::Float(s as f64 + p as f64 * q as f64),
                }
            }
            (sum, _, _) => {
                let term = price.as_f64().unwrap_or(0.0) * quantity.as_f64().unwrap_or(0.0);
                Sum::Float(sum.as_f64() + term)
            }
        }
    }

    fn as_f64(&self) -> f64 {
        match *self {
            Sum::Int(i) => i as f64,
            Sum::Float(f) => f,
        }
    }

    fn to_json(&self) -> Value {
        match *self {
            Sum::Int(i) => i64::try_from(i).map_or_else(|_| json!(i as f64), Value::from),
            Sum::Float(f) => json!((f * 1e6).round() / 1e6),
        }
    }
}

impl Enrich {
    fn total(&self, event: &Value) -> Result<Sum, TransformError> {
        let items = self.items.get(event).ok_or_else(|| {
            TransformError::reject(format!("enrich: the event has no list at {}", self.items))
        })?;
        let items = items.as_array().ok_or_else(|| {
            TransformError::reject(format!(
                "enrich: {} must be a list of items, not {}",
                self.items,
                switchyard_plugin::json_kind(items)
            ))
        })?;
        let mut sum = Sum::Int(0);
        for (i, item) in items.iter().enumerate() {
            let number = |key: &str| {
                item.get(key).filter(|v| v.is_number()).ok_or_else(|| {
                    TransformError::reject(format!(
                        "enrich: {}.{i}.{key} must be a number",
                        self.items
                    ))
                })
            };
            sum = sum.add(number("price")?, number("quantity")?);
        }
        Ok(sum)
    }

    fn tier(&self, total: f64) -> &str {
        self.tiers
            .iter()
            .find(|t| total >= t.min)
            .map_or(self.default_tier.as_str(), |t| t.name.as_str())
    }
}

impl Plugin for Enrich {
    fn init(config: Config) -> Result<Self, String> {
        let path = |key, default| {
            config
                .path_or(key, default)
                .map_err(|e| format!("enrich: {e}"))
        };
        Ok(Enrich {
            items: path("items", "detail.items")?,
            total: path("total", "detail.total")?,
            tier: path("tier", "detail.tier")?,
            tiers: parse_tiers(&config)?,
            default_tier: config
                .str_or("default_tier", "standard")
                .map_err(|e| format!("enrich: {e}"))?
                .to_owned(),
        })
    }

    fn transform(&mut self, event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        let mut json = event.into_json()?;
        let total = self.total(&json)?;
        let tier = self.tier(total.as_f64()).to_owned();
        self.total
            .set(&mut json, total.to_json())
            .map_err(|e| TransformError::reject(format!("enrich: {e}")))?;
        self.tier
            .set(&mut json, Value::String(tier))
            .map_err(|e| TransformError::reject(format!("enrich: {e}")))?;
        Ok(Outputs::one(json))
    }
}

switchyard_plugin::export_plugin!(Enrich);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::testing::Harness;

    const TIERS: &str =
        r#"{"tiers": [{"min": 100, "name": "silver"}, {"min": 1000, "name": "gold"}]}"#;

    fn order(items: &str) -> String {
        format!(
            r#"{{"id": "o-1", "source": "shop", "detail": {{"items": {items}, "customer": "c"}}}}"#
        )
    }

    #[test]
    fn integer_totals_and_tiers() {
        let mut h = Harness::<Enrich>::new(TIERS);
        let cases = [
            (
                r#"[{"price": 10, "quantity": 2}, {"price": 5, "quantity": 1}]"#,
                25,
                "standard",
            ),
            (r#"[{"price": 50, "quantity": 2}]"#, 100, "silver"),
            (
                r#"[{"price": 999, "quantity": 1}, {"price": 1, "quantity": 1}]"#,
                1000,
                "gold",
            ),
            ("[]", 0, "standard"),
        ];
        for (items, total, tier) in cases {
            let out = h.transform(&order(items)).unwrap();
            assert_eq!(out.len(), 1);
            assert_eq!(out[0]["detail"]["total"], json!(total), "{items}");
            assert_eq!(out[0]["detail"]["tier"], json!(tier), "{items}");
            assert_eq!(out[0]["detail"]["customer"], json!("c"));
            assert_eq!(out[0]["id"], json!("o-1"));
        }
    }

    #[test]
    fn float_totals_are_rounded() {
        let mut h = Harness::<Enrich>::new("{}");
        let out = h
            .transform(&order(
                r#"[{"price": 9.99, "quantity": 3}, {"price": 0.1, "quantity": 2}]"#,
            ))
            .unwrap();
        assert_eq!(out[0]["detail"]["total"], json!(30.17));
        assert_eq!(out[0]["detail"]["tier"], json!("standard"));
    }

    #[test]
    fn configurable_paths_and_default_tier() {
        let mut h = Harness::<Enrich>::new(
            r#"{"items": "$.detail.order.lines", "total": "detail.summary.sum", "tier": "tier",
                "tiers": [{"min": 10, "name": "big"}], "default_tier": "small"}"#,
        );
        let out = h
            .transform(r#"{"detail": {"order": {"lines": [{"price": 3, "quantity": 3}]}}}"#)
            .unwrap();
        assert_eq!(out[0]["detail"]["summary"]["sum"], json!(9));
        assert_eq!(out[0]["tier"], json!("small"));
    }

    #[test]
    fn rejects_events_without_items_naming_the_path() {
        let mut h = Harness::<Enrich>::new("{}");
        let err = h.transform(r#"{"detail": {}}"#).unwrap_err();
        assert_eq!(
            err,
            TransformError::reject("enrich: the event has no list at detail.items")
        );
        let err = h.transform(r#"{"detail": {"items": 3}}"#).unwrap_err();
        assert_eq!(
            err,
            TransformError::reject("enrich: detail.items must be a list of items, not a number")
        );
        let err = h
            .transform(&order(
                r#"[{"price": 1, "quantity": 1}, {"price": "x", "quantity": 1}]"#,
            ))
            .unwrap_err();
        assert_eq!(
            err,
            TransformError::reject("enrich: detail.items.1.price must be a number")
        );
    }

    #[test]
    fn rejects_bad_tiers() {
        let err = Harness::<Enrich>::try_new(r#"{"tiers": [{"min": "x", "name": "gold"}]}"#)
            .err()
            .unwrap();
        assert!(
            err.starts_with(r#"enrich: "tiers" must be a list"#),
            "{err}"
        );
        assert!(Harness::<Enrich>::try_new(r#"{"tiers": 5}"#).is_err());
        assert!(Harness::<Enrich>::try_new(r#"{"items": 5}"#).is_err());
    }
}
