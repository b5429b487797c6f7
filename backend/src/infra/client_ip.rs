//! The client's address, for rate limits and the audit log. Behind a reverse proxy
//! (ORDERFLOW_TRUST_PROXY) it comes from `X-Forwarded-For`, read from the right: each proxy
//! appends the address it was reached from, so the right-most entry that is not one of our
//! own proxies is the client; anything further left was written by the client and is not
//! believed.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

use crate::config::Config;

/// The address `req` came from, as a string (`unknown` when there is none).
pub fn of(req: &HttpRequest, config: &Config) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    resolve(
        peer,
        &forwarded,
        config.trust_proxy,
        &config.trusted_proxies,
    )
    .map(|ip| ip.to_string())
    .unwrap_or_else(|| "unknown".to_owned())
}

/// Pure: the client among the peer and the `X-Forwarded-For` headers (in order received).
pub fn resolve(
    peer: Option<IpAddr>,
    forwarded_for: &[&str],
    trust_proxy: bool,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer.map(|ip| ip.to_canonical());
    if !trust_proxy {
        return peer;
    }
    // With proxies named, a peer that is not one of them connected directly: its header is
    // its own writing.
    if !trusted.is_empty() && !peer.is_some_and(|ip| trusted.iter().any(|net| net.contains(&ip))) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    // The proxy that connected is trusted; walk left past the further proxies we run.
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop).map(|ip| ip.to_canonical()) else {
            // Garbage in the header: the last address a trusted hop vouched for stands.
            return client;
        };
        client = Some(ip);
        if !trusted.iter().any(|net| net.contains(&ip)) {
            return client;
        }
    }
    client
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:567`, `2001:db8::1`, `[2001:db8::1]:80`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sock) = hop.parse::<std::net::SocketAddr>() {
        return Some(sock.ip());
    }
    hop.trim_matches(['[', ']']).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn without_a_proxy_the_header_is_ignored() {
        assert_eq!(
            resolve(ip("198.51.100.1"), &["203.0.113.9"], false, &[]),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client forged the left-most entries; our proxies appended the rest.
        let header = ["1.1.1.1, 2.2.2.2", "198.51.100.20, 10.0.0.7"];
        assert_eq!(
            resolve(ip("10.0.0.8"), &header, true, &trusted),
            ip("198.51.100.20")
        );
        // One proxy, nothing configured: the last entry is what it saw.
        assert_eq!(
            resolve(ip("10.0.0.8"), &["1.1.1.1, 198.51.100.20"], true, &[]),
            ip("198.51.100.20")
        );
        // Ports and brackets as proxies write them.
        assert_eq!(
            resolve(ip("10.0.0.8"), &["[2001:db8::5]:4711"], true, &[]),
            ip("2001:db8::5")
        );
        assert_eq!(
            resolve(ip("10.0.0.8"), &["198.51.100.3:80"], true, &[]),
            ip("198.51.100.3")
        );
        // No header: the peer.
        assert_eq!(resolve(ip("10.0.0.8"), &[], true, &trusted), ip("10.0.0.8"));
        // Garbage stops the walk at the last good hop.
        assert_eq!(
            resolve(ip("10.0.0.8"), &["198.51.100.4, nonsense"], true, &[]),
            ip("10.0.0.8")
        );
        // Every hop trusted: the left-most.
        assert_eq!(
            resolve(ip("10.0.0.8"), &["10.1.1.1, 10.2.2.2"], true, &trusted),
            ip("10.1.1.1")
        );
        // A peer outside the named proxies connected directly: its header is not read.
        assert_eq!(
            resolve(ip("203.0.113.50"), &["198.51.100.20"], true, &trusted),
            ip("203.0.113.50")
        );
        // An IPv4 proxy seen as a mapped IPv6 peer is still that proxy.
        assert_eq!(
            resolve(ip("::ffff:10.0.0.8"), &["198.51.100.20"], true, &trusted),
            ip("198.51.100.20")
        );
    }
}
