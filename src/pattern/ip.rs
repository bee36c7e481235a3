//! IP addresses and CIDR blocks for the `cidr` operator and for exact string
//! patterns that are IP addresses (which EventBridge compares as addresses, so
//! `"::1"` matches `"0:0:0:0:0:0:0:1"`).
//!
//! Which strings count as addresses follows event-ruler: four dot-separated runs of
//! digits (IPv4), or hex digits and colons with at least one colon (IPv6, so no
//! embedded dotted IPv4 and no zone). An IPv4-mapped IPv6 address is its IPv4
//! address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses an IPv4 or IPv6 address in the forms EventBridge recognises.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let bytes = text.as_bytes();
    if bytes.iter().all(|&b| b == b'.' || b.is_ascii_digit()) {
        return parse_ipv4(bytes).map(IpAddr::V4);
    }
    let ipv6_shape =
        bytes.contains(&b':') && bytes.iter().all(|&b| b == b':' || b.is_ascii_hexdigit());
    if ipv6_shape {
        let v6 = text.parse::<Ipv6Addr>().ok()?;
        return Some(match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        });
    }
    None
}

/// Four dot-separated decimal octets, each 0 to 255 without leading zeros (which
/// would be ambiguous), as the standard library reads them; done by hand because
/// events carry many addresses and this runs for each.
fn parse_ipv4(bytes: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = bytes.split(|&b| b == b'.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part[0] == b'0') {
            return None;
        }
        let value = part.iter().fold(0u32, |v, &d| v * 10 + u32::from(d - b'0'));
        *octet = u8::try_from(value).ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// A CIDR block such as `10.0.0.0/8` or `2001:db8::/32`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cidr {
    pub source: String,
    network: u128,
    mask: u128,
    v6: bool,
}

impl Cidr {
    /// Parses `address/prefix-length`. Like EventBridge, a block must have a mask
    /// that leaves room for more than one address (`/32` and `/128` are rejected).
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let Some((addr, len)) = text.split_once('/') else {
            return Err(format!(
                "\"{text}\" is not a CIDR block: expected ADDRESS/PREFIX-LENGTH, e.g. \"10.0.0.0/8\""
            ));
        };
        let Some(ip) = parse_ip(addr) else {
            return Err(format!("\"{addr}\" is not an IPv4 or IPv6 address"));
        };
        let (bits, max) = match ip {
            IpAddr::V4(_) => (32u32, 31),
            IpAddr::V6(_) => (128, 127),
        };
        // Java's Integer.parseInt: an optional sign, then digits ("+24", "024").
        let len: u32 = match len.parse::<i64>() {
            Ok(n) if (0..=max as i64).contains(&n) => n as u32,
            Ok(n) if n == bits as i64 => {
                return Err(format!(
                    "\"{text}\" is a single address, which EventBridge does not accept as a CIDR block; match it exactly instead: [\"{addr}\"]"
                ));
            }
            _ => {
                return Err(format!(
                    "\"{len}\" is not a valid prefix length for this address: use 0 to {max}"
                ));
            }
        };
        let (value, v6) = widen(ip);
        let mask = if len == 0 {
            0
        } else {
            (!0u128 << (bits - len)) & (u128::MAX >> (128 - bits))
        };
        Ok(Cidr {
            source: text.to_string(),
            network: value & mask,
            mask,
            v6,
        })
    }

    /// Whether an event string is an address inside this block.
    pub fn contains(&self, text: &str) -> bool {
        parse_ip(text).is_some_and(|ip| self.contains_address(ip))
    }

    /// Whether an address is inside this block.
    pub fn contains_address(&self, ip: IpAddr) -> bool {
        let (value, v6) = widen(ip);
        v6 == self.v6 && value & self.mask == self.network
    }
}

fn widen(ip: IpAddr) -> (u128, bool) {
    match ip {
        IpAddr::V4(v4) => (u32::from(v4) as u128, false),
        IpAddr::V6(v6) => (u128::from(v6), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_reading_matches_the_standard_library() {
        for text in [
            "10.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.0.0.1",
            "010.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            "1.2.3.",
            ".1.2.3",
            "00.1.2.3",
            "1.2.3.0004",
            "999.1.1.1",
        ] {
            assert_eq!(
                parse_ipv4(text.as_bytes()),
                text.parse::<Ipv4Addr>().ok(),
                "{text}"
            );
        }
    }

    #[test]
    fn cidr_contains() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.255.1.2"));
        assert!(!c.contains("11.0.0.1"));
        assert!(!c.contains("not an ip"));
        assert!(c.contains("::ffff:a00:1"), "IPv4-mapped addresses are IPv4");
        assert!(
            !c.contains("::ffff:10.0.0.1"),
            "dotted IPv4 inside IPv6 is not an address"
        );
        assert!(!c.contains("010.0.0.1"), "leading zeros are ambiguous");
        let c = Cidr::parse("2001:db8::/32").unwrap();
        assert!(c.contains("2001:DB8:0:0:0:0:0:1"));
        assert!(!c.contains("2001:db9::1"));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("1.2.3.4"));
        assert!(Cidr::parse("10.1.2.3/31").unwrap().contains("10.1.2.2"));
    }

    #[test]
    fn cidr_errors() {
        assert_eq!(
            Cidr::parse("10.0.0.0").unwrap_err(),
            "\"10.0.0.0\" is not a CIDR block: expected ADDRESS/PREFIX-LENGTH, e.g. \"10.0.0.0/8\""
        );
        assert_eq!(
            Cidr::parse("10.0.0.1/32").unwrap_err(),
            "\"10.0.0.1/32\" is a single address, which EventBridge does not accept as a CIDR block; match it exactly instead: [\"10.0.0.1\"]"
        );
        assert_eq!(
            Cidr::parse("10.0.0.1/33").unwrap_err(),
            "\"33\" is not a valid prefix length for this address: use 0 to 31"
        );
        assert!(Cidr::parse("2001:db8::1/128").is_err());
        assert!(Cidr::parse("10.0.0.0/-1").is_err());
        assert!(
            Cidr::parse("10.0.0.0/+8").is_ok(),
            "Java's parseInt accepts a sign"
        );
        assert!(Cidr::parse("10.0.0.0/8/1").is_err());
        assert_eq!(
            Cidr::parse(" 10.0.0.0/8").unwrap_err(),
            "\" 10.0.0.0\" is not an IPv4 or IPv6 address"
        );
    }
}
