//! Addresses from outside: the client's, read from `X-Forwarded-For` (which the client can
//! write too), and the ones a tenant's URL makes us call (which must not reach inside).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net};
use orderflow::infra::client_ip::resolve;
use orderflow::infra::outbound::address::refusal;
use proptest::prelude::*;

use crate::config;

/// Any IPv4 address, often one in or next to a special-purpose block.
fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    let special = prop::sample::select(vec![
        0u8, 10, 100, 127, 169, 172, 192, 198, 203, 224, 240, 255,
    ]);
    prop_oneof![
        any::<u32>().prop_map(Ipv4Addr::from),
        (special, any::<[u8; 3]>()).prop_map(|(a, [b, c, d])| Ipv4Addr::new(a, b, c, d)),
    ]
}

/// Any IPv6 address, often in a block that is refused or that carries an IPv4 address.
fn ipv6() -> impl Strategy<Value = Ipv6Addr> {
    let first = prop::sample::select(vec![
        0u16, 0x64, 0x100, 0x2001, 0x2002, 0x2606, 0x3fff, 0x5f00, 0xfc00, 0xfd12, 0xfe80, 0xfec0,
        0xff02,
    ]);
    prop_oneof![
        any::<u128>().prop_map(Ipv6Addr::from),
        (first, any::<[u16; 7]>()).prop_map(|(s0, [s1, s2, s3, s4, s5, s6, s7])| {
            Ipv6Addr::new(s0, s1, s2, s3, s4, s5, s6, s7)
        }),
        (ipv4(), any::<[u16; 5]>())
            .prop_flat_map(|(v4, tail)| { prop::sample::select(embeddings(v4, tail).to_vec()) }),
    ]
}

fn any_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![ipv4().prop_map(IpAddr::V4), ipv6().prop_map(IpAddr::V6)]
}

/// `v4` inside each IPv6 form that carries an IPv4 address: mapped, NAT64 and 6to4 (whose
/// last five groups are the site's own).
fn embeddings(v4: Ipv4Addr, tail: [u16; 5]) -> [Ipv6Addr; 3] {
    let [a, b, c, d] = v4.octets();
    let (hi, lo) = (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
    [
        v4.to_ipv6_mapped(),
        Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, hi, lo),
        Ipv6Addr::new(0x2002, hi, lo, tail[0], tail[1], tail[2], tail[3], tail[4]),
    ]
}

/// An `X-Forwarded-For` entry as proxies write it, with the address it names; or garbage.
fn hop() -> impl Strategy<Value = (String, Option<IpAddr>)> {
    prop_oneof![
        4 => (any_ip(), 0..4, any::<u16>()).prop_map(|(ip, form, port)| {
            let text = match (form, ip) {
                (0, _) => ip.to_string(),
                (1, IpAddr::V4(v4)) => format!("{v4}:{port}"),
                (1, IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
                (2, IpAddr::V6(v6)) => format!("[{v6}]"),
                _ => format!(" {ip} "),
            };
            (text, Some(ip))
        }),
        1 => prop_oneof![Just("unknown".to_owned()), Just("_hidden".to_owned()), "[^,]{0,12}"]
            .prop_filter_map("garbage, not an address", |g| garbage(&g).then_some((g, None))),
    ]
}

/// Whether an entry names no address in any form a proxy writes, and is not blank.
fn garbage(entry: &str) -> bool {
    let e = entry.trim();
    !e.is_empty()
        && e.parse::<IpAddr>().is_err()
        && e.parse::<std::net::SocketAddr>().is_err()
        && e.trim_matches(['[', ']']).parse::<IpAddr>().is_err()
}

fn trusted() -> impl Strategy<Value = Vec<IpNet>> {
    let net = prop_oneof![
        prop::sample::select(vec![
            "10.0.0.0/8",
            "192.168.0.0/16",
            "fd00::/8",
            "2001:db8::/32"
        ])
        .prop_map(|n| n.parse::<IpNet>().unwrap()),
        (ipv4(), 8u8..=32).prop_map(|(ip, len)| IpNet::V4(Ipv4Net::new(ip, len).unwrap().trunc())),
    ];
    prop::collection::vec(net, 0..3)
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn an_ipv6_address_carrying_an_ipv4_address_is_judged_as_that_address(
        v4 in ipv4(),
        tail in any::<[u16; 5]>(),
        loopback_allowed in any::<bool>(),
    ) {
        let direct = refusal(IpAddr::V4(v4), loopback_allowed).is_some();
        for v6 in embeddings(v4, tail) {
            prop_assert!(refusal(IpAddr::V6(v6), loopback_allowed).is_some() == direct, "{v6} carries {v4}");
        }
    }

    #[test]
    fn allowing_loopback_opens_loopback_and_nothing_else(ip in any_ip()) {
        let strict = refusal(ip, false);
        let lenient = refusal(ip, true);
        if strict.is_none() {
            prop_assert_eq!(lenient, None);
        }
        if lenient != strict {
            prop_assert!(strict == Some("loopback"), "{ip} opened by the loopback flag");
        }
        if ip.is_loopback() {
            prop_assert_eq!(strict, Some("loopback"));
        }
    }

    #[test]
    fn ipv6_outside_global_unicast_is_refused_unless_it_carries_ipv4(ip in ipv6()) {
        let s = ip.segments();
        let carries_v4 = ip.to_ipv4_mapped().is_some() || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
        if s[0] & 0xe000 != 0x2000 && !carries_v4 {
            prop_assert!(refusal(IpAddr::V6(ip), false).is_some(), "{ip}");
        }
    }

    #[test]
    fn without_a_proxy_the_peer_is_the_client(
        peer in prop::option::of(any_ip()),
        hops in prop::collection::vec(hop(), 0..5),
        nets in trusted(),
    ) {
        let header: Vec<&str> = hops.iter().map(|(h, _)| h.as_str()).collect();
        // Canonical: an IPv4 peer seen through an IPv6 socket is that IPv4 address.
        prop_assert_eq!(resolve(peer, &header, false, &nets), peer.map(|ip| ip.to_canonical()));
    }

    #[test]
    fn the_client_is_the_peer_or_an_address_in_the_header(
        peer in prop::option::of(any_ip()),
        hops in prop::collection::vec(hop(), 0..6),
        commas in any::<bool>(),
        nets in trusted(),
    ) {
        let texts: Vec<String> = hops.iter().map(|(h, _)| h.clone()).collect();
        let joined = texts.join(",");
        let header: Vec<&str> = if commas { vec![joined.as_str()] } else { texts.iter().map(String::as_str).collect() };
        let got = resolve(peer, &header, true, &nets);
        let canonical = |ip: Option<std::net::IpAddr>| ip.map(|ip| ip.to_canonical());
        prop_assert!(
            got == canonical(peer) || hops.iter().any(|(_, ip)| canonical(*ip) == got),
            "{got:?}"
        );
    }

    #[test]
    fn entries_left_of_an_untrusted_hop_cannot_change_the_client(
        peer in prop::option::of(any_ip()),
        untrusted in any_ip(),
        tail in prop::collection::vec(hop(), 0..4),
        forged in prop::collection::vec(prop_oneof![hop().prop_map(|(h, _)| h), any::<String>()], 1..4),
        nets in trusted(),
    ) {
        prop_assume!(!nets.iter().any(|n| n.contains(&untrusted)));
        let honest: Vec<String> = std::iter::once(untrusted.to_string()).chain(tail.into_iter().map(|(h, _)| h)).collect();
        let all: Vec<&str> = forged.iter().chain(&honest).map(String::as_str).collect();
        let honest: Vec<&str> = honest.iter().map(String::as_str).collect();
        prop_assert_eq!(resolve(peer, &all, true, &nets), resolve(peer, &honest, true, &nets));
    }
}
