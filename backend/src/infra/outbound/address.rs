//! Which addresses a call made on a tenant's behalf may reach: only globally reachable unicast
//! ones, judged against the IANA IPv4 and IPv6 Special-Purpose Address Registries (2025), with
//! the IPv4 address inside a mapped, NAT64 or 6to4 IPv6 address judged as IPv4. Pure.
//!
//! The std methods that would do this (`is_global`) are unstable, and the crates that offer
//! them judge IPv6 by its prefix alone (so `64:ff9b::a00:1` or `2002:a00:1::` pass), hence the
//! table here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use ipnet::{Ipv4Net, Ipv6Net};

/// IPv4 blocks no call may reach, with the registry's name for each. Some are marked globally
/// reachable by IANA (two anycast addresses in 192.0.0.0/24) yet no merchant's endpoint lives
/// there, so the whole block is refused.
const V4_REFUSED: &[(&str, &str)] = &[
    ("0.0.0.0/8", "\"this network\""),
    ("10.0.0.0/8", "private-use"),
    ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local (cloud metadata)"),
    ("172.16.0.0/12", "private-use"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast"),
    ("192.168.0.0/16", "private-use"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "limited broadcast"),
];

/// IPv6 blocks inside global unicast (2000::/3) that no call may reach; everything outside
/// 2000::/3 is refused too (unspecified, loopback, IPv4-compatible, discard-only, unique-local,
/// link-local, site-local, multicast, SRv6, local-use NAT64), apart from the forms that carry
/// an IPv4 address.
const V6_REFUSED: &[(&str, &str)] = &[
    (
        "2001::/23",
        "IETF protocol assignments (Teredo, benchmarking, ORCHID)",
    ),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
];

/// Why `ip` may not be called, or None when it may. Loopback is allowed when the operator
/// allows it (development and tests).
pub fn refusal(ip: IpAddr, allow_loopback: bool) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4, allow_loopback),
        IpAddr::V6(v6) => refusal_v6(v6, allow_loopback),
    }
}

fn refusal_v4(ip: Ipv4Addr, allow_loopback: bool) -> Option<&'static str> {
    if allow_loopback && ip.is_loopback() {
        return None;
    }
    static TABLE: LazyLock<Vec<(Ipv4Net, &str)>> = LazyLock::new(|| parsed(V4_REFUSED));
    TABLE
        .iter()
        .find(|(net, _)| net.contains(&ip))
        .map(|(_, name)| *name)
}

/// The table's blocks, parsed once (each is checked by the tests).
fn parsed<N: std::str::FromStr>(table: &[(&str, &'static str)]) -> Vec<(N, &'static str)> {
    table
        .iter()
        .filter_map(|(net, name)| Some((net.parse().ok()?, *name)))
        .collect()
}

fn refusal_v6(ip: Ipv6Addr, allow_loopback: bool) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return refusal_v4(v4, allow_loopback);
    }
    if allow_loopback && ip.is_loopback() {
        return None;
    }
    if ip.segments()[0] & 0xe000 != 0x2000 {
        return Some(match ip.segments()[0] {
            0 if ip.is_loopback() => "loopback",
            0 => "unspecified or IPv4-compatible (deprecated)",
            s if s & 0xfe00 == 0xfc00 => "unique-local",
            s if s & 0xffc0 == 0xfe80 => "link-local",
            s if s & 0xffc0 == 0xfec0 => "site-local (deprecated)",
            s if s & 0xff00 == 0xff00 => "multicast",
            _ => "outside global unicast (2000::/3)",
        });
    }
    static TABLE: LazyLock<Vec<(Ipv6Net, &str)>> = LazyLock::new(|| parsed(V6_REFUSED));
    TABLE
        .iter()
        .find(|(net, _)| net.contains(&ip))
        .map(|(_, name)| *name)
}

/// The IPv4 address an IPv6 address stands for, where it does: IPv4-mapped (`::ffff:a.b.c.d`),
/// the well-known NAT64 prefix (`64:ff9b::a.b.c.d`) and 6to4 (`2002:AABB:CCDD::`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if let Some(mapped) = ip.to_ipv4_mapped() {
        return Some(mapped);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(v4(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return Some(v4(s[1], s[2]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> bool {
        refusal(ip.parse().unwrap(), false).is_some()
    }

    #[test]
    fn every_block_of_the_tables_parses() {
        assert_eq!(parsed::<Ipv4Net>(V4_REFUSED).len(), V4_REFUSED.len());
        assert_eq!(parsed::<Ipv6Net>(V6_REFUSED).len(), V6_REFUSED.len());
    }

    #[test]
    fn every_non_global_ipv4_special_purpose_block_is_refused_at_both_ends() {
        for (net, _) in V4_REFUSED {
            let net: Ipv4Net = net.parse().unwrap();
            for ip in [net.network(), net.broadcast()] {
                assert!(refused(&ip.to_string()), "{ip} in {net}");
                // The same address inside every IPv6 form that carries an IPv4 address.
                let [a, b, c, d] = ip.octets();
                for v6 in [
                    format!("::ffff:{ip}"),
                    format!("64:ff9b::{ip}"),
                    format!("2002:{:02x}{:02x}:{:02x}{:02x}::1", a, b, c, d),
                ] {
                    assert!(refused(&v6), "{v6} carries {ip}");
                }
            }
        }
    }

    #[test]
    fn the_ranges_the_review_found_open_are_closed() {
        for ip in [
            "64:ff9b::a00:1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::a00:1",
            "2002:a00:1::",
            "2002:7f00:1::1",
            "::10.0.0.1",
            "::127.0.0.1",
            "::ffff:100.64.0.1",
            "::ffff:169.254.169.254",
            "fec0::1",
            "feff::1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "100::1",
            "5f00::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:2::1",
            "2001:10::1",
            "2001:20::1",
            "2001:db8::1",
            "3fff::1",
            "0.1.2.3",
            "192.0.0.8",
            "192.88.99.1",
            "198.19.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "240.0.0.1",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
    }

    #[test]
    fn public_addresses_pass_in_every_form() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.1",
            "192.0.1.1",
            "198.20.0.1",
            "223.255.255.254",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "2620:4f:8000::1",
            "::ffff:93.184.216.34",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
        ] {
            assert!(
                !refused(ip),
                "{ip} should pass: {:?}",
                refusal(ip.parse().unwrap(), false)
            );
        }
    }

    #[test]
    fn loopback_only_when_the_operator_allows_it() {
        for ip in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(refusal(ip, false), Some("loopback"), "{ip}");
            assert_eq!(refusal(ip, true), None, "{ip}");
        }
        // Allowing loopback opens nothing else.
        assert!(refusal("10.0.0.1".parse().unwrap(), true).is_some());
        assert!(refusal("169.254.169.254".parse().unwrap(), true).is_some());
    }
}
