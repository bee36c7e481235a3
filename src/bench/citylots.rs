//! A deterministic generator of citylots-like events and of the pattern families
//! the matcher is measured with.
//!
//! The events imitate the San Francisco "citylots" GeoJSON features that
//! aws/event-ruler and Quamina publish benchmarks on (about 900 bytes each, most of
//! it polygon coordinates that patterns rarely name), with a few extra fields so
//! that every operator has something to bite on: `source_ip` for `cidr`, a
//! `permits` array of objects for array-consistent numeric ranges, and
//! `geometry.firstCoordinates` for numeric comparisons. With `envelope`, each
//! feature is the `detail` of an EventBridge event and patterns name the envelope
//! too. Data is generated, never stored: the same seed gives the same bytes.

use std::fmt::Write as _;

/// A small, fast, deterministic PRNG (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `[lo, hi)`.
    pub fn float(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

pub const STREETS: &[&str] = &[
    "MISSION",
    "MARKET",
    "FULTON",
    "HAYES",
    "GEARY",
    "CALIFORNIA",
    "VALENCIA",
    "GUERRERO",
    "DOLORES",
    "CHURCH",
    "SANCHEZ",
    "NOE",
    "CASTRO",
    "DIAMOND",
    "DOUGLASS",
    "HOFFMAN",
    "FOLSOM",
    "HOWARD",
    "HARRISON",
    "BRYANT",
    "BRANNAN",
    "TOWNSEND",
    "KING",
    "BERRY",
    "CRANLEIGH",
    "JUNIPERO SERRA",
    "SLOAT",
    "OCEAN",
    "JUDAH",
    "IRVING",
    "LINCOLN",
    "FUNSTON",
    "ARGUELLO",
    "PRESIDIO",
    "LYON",
    "BAKER",
    "BRODERICK",
    "DIVISADERO",
    "SCOTT",
    "PIERCE",
    "STEINER",
    "FILLMORE",
    "WEBSTER",
    "BUCHANAN",
    "LAGUNA",
    "OCTAVIA",
    "GOUGH",
    "FRANKLIN",
    "VAN NESS",
    "POLK",
];
pub const STREET_TYPES: &[&str] = &["ST", "AVE", "BLVD", "WAY", "CT", "TER", "PL"];
pub const PERMIT_TYPES: &[&str] = &["BUILD", "ELEC", "PLUMB", "DEMO"];
const DETAIL_TYPES: &[&str] = &["Lot Created", "Lot Updated", "Lot Merged"];

/// The id of lot `n`: 7 digits, as in MAPBLKLOT.
pub fn lot_id(n: u64) -> String {
    format!("{:07}", n % 10_000_000)
}

/// One citylots-like feature (about 900 bytes), optionally in an EventBridge
/// envelope. `n` numbers the lot; the rest comes from `rng`.
pub fn event(rng: &mut Rng, n: u64, envelope: bool) -> String {
    let mut feature = String::with_capacity(1024);
    let lot = lot_id(n * 7 + 1000);
    let street = rng.pick(STREETS);
    let street_type = rng.pick(STREET_TYPES);
    let from = rng.below(3000);
    let ip = if rng.below(4) == 0 {
        format!("192.168.{}.{}", rng.below(256), rng.below(256))
    } else {
        format!("10.{}.{}.{}", rng.below(4), rng.below(256), rng.below(256))
    };
    let _ = write!(
        feature,
        r#"{{"type":"Feature","properties":{{"MAPBLKLOT":"{lot}","BLKLOT":"{lot}","BLOCK_NUM":"{}","LOT_NUM":"{}","FROM_ST":"{from}","TO_ST":"{}","STREET":"{street}","ST_TYPE":"{street_type}","ODD_EVEN":"{}","source_ip":"{ip}","permits":["#,
        &lot[..4],
        &lot[4..],
        from + rng.below(40),
        if from.is_multiple_of(2) { "E" } else { "O" },
    );
    for i in 0..rng.below(4) {
        if i > 0 {
            feature.push(',');
        }
        let _ = write!(
            feature,
            r#"{{"type":"{}","cost":{:.2}}}"#,
            rng.pick(PERMIT_TYPES),
            rng.float(100.0, 100_000.0)
        );
    }
    let x0 = rng.float(-122.52, -122.36);
    let y0 = rng.float(37.70, 37.83);
    let _ = write!(
        feature,
        r#"]}},"geometry":{{"type":"Polygon","firstCoordinates":{{"x":{x0},"y":{y0},"z":0.0}},"coordinates":[["#
    );
    for i in 0..12 {
        if i > 0 {
            feature.push(',');
        }
        let _ = write!(
            feature,
            "[{},{},0.0]",
            x0 + rng.float(-0.0005, 0.0005),
            y0 + rng.float(-0.0005, 0.0005)
        );
    }
    feature.push_str("]]}}");
    if !envelope {
        return feature;
    }
    format!(
        r#"{{"version":"0","id":"{:016x}-{:04x}","detail-type":"{}","source":"city.sf.lots","account":"123456789012","time":"2026-11-23T10:{:02}:{:02}Z","region":"us-west-2","resources":[],"detail":{feature}}}"#,
        rng.next_u64(),
        rng.below(65536),
        rng.pick(DETAIL_TYPES),
        rng.below(60),
        rng.below(60),
    )
}

/// `count` events from `seed`.
pub fn events(count: usize, seed: u64, envelope: bool) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..count as u64)
        .map(|n| event(&mut rng, n, envelope))
        .collect()
}

/// The pattern families of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Exact,
    Prefix,
    Suffix,
    PrefixIgnoreCase,
    SuffixIgnoreCase,
    EqualsIgnoreCase,
    Wildcard,
    Numeric,
    AnythingBut,
    ArrayOfObjects,
    Cidr,
    Exact10k,
    Prefix1k,
    Mixed1kOr,
}

impl Family {
    pub const ALL: [Family; 14] = [
        Family::Exact,
        Family::Prefix,
        Family::Suffix,
        Family::PrefixIgnoreCase,
        Family::SuffixIgnoreCase,
        Family::EqualsIgnoreCase,
        Family::Wildcard,
        Family::Numeric,
        Family::AnythingBut,
        Family::ArrayOfObjects,
        Family::Cidr,
        Family::Exact10k,
        Family::Prefix1k,
        Family::Mixed1kOr,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Exact => "exact",
            Family::Prefix => "prefix",
            Family::Suffix => "suffix",
            Family::PrefixIgnoreCase => "prefix-equals-ignore-case",
            Family::SuffixIgnoreCase => "suffix-equals-ignore-case",
            Family::EqualsIgnoreCase => "equals-ignore-case",
            Family::Wildcard => "wildcard",
            Family::Numeric => "numeric",
            Family::AnythingBut => "anything-but",
            Family::ArrayOfObjects => "array-of-objects-numeric",
            Family::Cidr => "cidr",
            Family::Exact10k => "exact-10000",
            Family::Prefix1k => "prefix-1000",
            Family::Mixed1kOr => "mixed-1000-or",
        }
    }

    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The family's patterns (JSON text), about the feature itself; with
    /// `envelope`, wrapped as rules on the EventBridge envelope.
    pub fn patterns(self, envelope: bool) -> Vec<String> {
        let mut rng = Rng::new(0x5eed ^ self as u64);
        let props = |body: String| format!(r#"{{"properties":{{{body}}}}}"#);
        let street = |i: usize| STREETS[(i * 7) % STREETS.len()];
        let features: Vec<String> = match self {
            Family::Exact => (0..5)
                .map(|i| props(format!(r#""MAPBLKLOT":["{}"]"#, lot_id(i as u64 * 7 * 13 + 1000))))
                .collect(),
            Family::Prefix => (0..5)
                .map(|i| props(format!(r#""STREET":[{{"prefix":"{}"}}]"#, &street(i)[..3])))
                .collect(),
            Family::Suffix => (0..5)
                .map(|i| props(format!(r#""STREET":[{{"suffix":"{}"}}]"#, &street(i)[street(i).len() - 3..])))
                .collect(),
            Family::PrefixIgnoreCase => (0..5)
                .map(|i| {
                    props(format!(
                        r#""STREET":[{{"prefix":{{"equals-ignore-case":"{}"}}}}]"#,
                        street(i)[..3].to_lowercase()
                    ))
                })
                .collect(),
            Family::SuffixIgnoreCase => (0..5)
                .map(|i| {
                    let s = street(i);
                    props(format!(
                        r#""STREET":[{{"suffix":{{"equals-ignore-case":"{}"}}}}]"#,
                        s[s.len() - 3..].to_lowercase()
                    ))
                })
                .collect(),
            Family::EqualsIgnoreCase => (0..5)
                .map(|i| props(format!(r#""STREET":[{{"equals-ignore-case":"{}"}}]"#, street(i).to_lowercase())))
                .collect(),
            Family::Wildcard => (0..5)
                .map(|i| {
                    let s = street(i);
                    props(format!(r#""STREET":[{{"wildcard":"{}*{}"}}]"#, &s[..1], &s[s.len() - 1..]))
                })
                .collect(),
            Family::Numeric => (0..5)
                .map(|i| {
                    let x = -122.50 + 0.03 * i as f64;
                    format!(
                        r#"{{"geometry":{{"type":["Polygon"],"firstCoordinates":{{"x":[{{"numeric":[">",{x:.2},"<=",{:.2}]}}]}}}}}}"#,
                        x + 0.01
                    )
                })
                .collect(),
            Family::AnythingBut => (0..5)
                .map(|i| props(format!(r#""STREET":[{{"anything-but":["{}","{}"]}}]"#, street(i), street(i + 1))))
                .collect(),
            Family::ArrayOfObjects => (0..5)
                .map(|i| {
                    props(format!(
                        r#""permits":{{"type":["{}"],"cost":[{{"numeric":[">",{},"<=",{}]}}]}}"#,
                        PERMIT_TYPES[i % PERMIT_TYPES.len()],
                        i * 15_000,
                        i * 15_000 + 10_000
                    ))
                })
                .collect(),
            Family::Cidr => (0..5)
                .map(|i| props(format!(r#""source_ip":[{{"cidr":"10.{}.{}.0/20"}}]"#, i % 4, i * 48)))
                .collect(),
            Family::Exact10k => (0..10_000)
                .map(|i| props(format!(r#""MAPBLKLOT":["{}"]"#, lot_id(i as u64 * 13 + 1000))))
                .collect(),
            Family::Prefix1k => (0..1000)
                .map(|i| props(format!(r#""BLKLOT":[{{"prefix":"{}"}}]"#, &lot_id(i as u64 * 97 + 1000)[..5])))
                .collect(),
            Family::Mixed1kOr => (0..1000).map(|_| mixed(&mut rng)).collect(),
        };
        if !envelope {
            return features;
        }
        features
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                format!(
                    r#"{{"source":["city.sf.lots"],"detail-type":["{}"],"detail":{f}}}"#,
                    DETAIL_TYPES[i % DETAIL_TYPES.len()]
                )
            })
            .collect()
    }
}

/// One pattern of the mixed family: two fields with random operators, and an
/// `$or` of two more.
fn mixed(rng: &mut Rng) -> String {
    let clause = |rng: &mut Rng| -> String {
        let street = rng.pick(STREETS);
        match rng.below(7) {
            0 => format!(r#""STREET":["{street}"]"#),
            1 => format!(r#""STREET":[{{"prefix":"{}"}}]"#, &street[..2]),
            2 => format!(r#""ST_TYPE":["{}"]"#, rng.pick(STREET_TYPES)),
            3 => format!(r#""FROM_ST":[{{"anything-but":["{}"]}}]"#, rng.below(3000)),
            4 => format!(r#""source_ip":[{{"cidr":"10.{}.0.0/16"}}]"#, rng.below(4)),
            5 => format!(
                r#""ODD_EVEN":["{}"]"#,
                if rng.below(2) == 0 { "E" } else { "O" }
            ),
            _ => format!(
                r#""STREET":[{{"equals-ignore-case":"{}"}}]"#,
                street.to_lowercase()
            ),
        }
    };
    let (a, b, c, d) = (clause(rng), clause(rng), clause(rng), clause(rng));
    let first = if a.split(':').next() == b.split(':').next() {
        a
    } else {
        format!("{a},{b}")
    };
    format!(r#"{{"properties":{{{first},"$or":[{{{c}}},{{{d}}}]}}}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::event::read_event;
    use crate::pattern::{CompiledMatcher, EventLimits, Pattern};

    #[test]
    fn events_are_valid_json_of_the_intended_size() {
        for envelope in [false, true] {
            let evs = events(200, 7, envelope);
            let mean = evs.iter().map(String::len).sum::<usize>() / evs.len();
            assert!((750..1300).contains(&mean), "mean size {mean}");
            for e in &evs {
                read_event(e.as_bytes(), &EventLimits::default()).unwrap();
            }
        }
        assert_eq!(events(3, 9, true), events(3, 9, true), "deterministic");
    }

    #[test]
    fn every_family_is_valid_and_matches_something() {
        for envelope in [false, true] {
            let evs = events(300, 1, envelope);
            for family in Family::ALL {
                let mut matcher = CompiledMatcher::default();
                for (i, text) in family.patterns(envelope).iter().enumerate() {
                    let p = Pattern::parse(text)
                        .unwrap_or_else(|e| panic!("{}: {text}: {e}", family.name()));
                    matcher.add(i, p);
                }
                let hits: usize = evs
                    .iter()
                    .map(|e| matcher.matches(e.as_bytes()).unwrap().len())
                    .sum();
                assert!(
                    hits > 0,
                    "{} (envelope {envelope}) matches nothing",
                    family.name()
                );
            }
        }
    }
}
