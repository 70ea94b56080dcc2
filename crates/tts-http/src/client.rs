//! Who a request comes from: the client address behind trusted proxies, and the key rate limits (and
//! the login throttle) count it under.
//!
//! `X-Forwarded-For` is only believed when the socket peer is a trusted proxy
//! ([`TrustedProxies`], `TTS_TRUSTED_PROXIES`); the client is then the right-most address of the chain
//! that is not itself a trusted proxy (everything left of it was written by the client and may be
//! forged). IPv6 clients are keyed by their /64, the block one subscriber usually holds.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// The proxies whose `X-Forwarded-For` (and `X-Forwarded-Proto` / `X-Forwarded-Host`) headers are
/// believed: single addresses or CIDR blocks. Empty (the default) trusts no one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Trusts no proxy: the socket peer is always the client.
    pub fn none() -> Self {
        TrustedProxies(Vec::new())
    }

    /// Trusts exactly these networks.
    pub fn new(networks: Vec<IpNet>) -> Self {
        TrustedProxies(networks)
    }

    /// Whether `ip` is a trusted proxy (IPv4-mapped IPv6 addresses count as their IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// Parses a comma-separated list of addresses (`10.0.0.1`, `::1`) and CIDR blocks (`10.0.0.0/8`,
    /// `fd00::/8`); blanks are ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut networks = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let net = match part.parse::<IpNet>() {
                Ok(n) => n.trunc(),
                Err(_) => match part.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(canonical(ip)),
                    Err(_) => return Err(format!("{part:?} is neither an IP address nor a CIDR block")),
                },
            };
            networks.push(net);
        }
        Ok(TrustedProxies(networks))
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, as dual-stack sockets report IPv4 peers) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address: the socket peer, or, when the peer is a trusted proxy, the right-most
/// `X-Forwarded-For` hop that is not a trusted proxy (every hop trusted: the left-most one; a hop that
/// is not an address: the last trusted hop before it).
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let mut client = canonical(peer.ip());
    if trusted.is_empty() || !trusted.contains(client) {
        return client;
    }
    // Several X-Forwarded-For headers form one list, in order.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            return client;
        };
        client = canonical(ip);
        if !trusted.contains(client) {
            return client;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The rate-limit key of a client address: an IPv4 address as is, an IPv6 address as its /64
/// (`2001:db8:1:2::/64`), so one subscriber cannot rotate through their block to escape limits.
pub fn ip_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

/// The key a request's client is counted under (rate limits, login throttling): [`client_ip`] as
/// [`ip_key`] gives it.
pub fn client_key(peer: SocketAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> String {
    ip_key(client_ip(peer, headers, trusted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses_and_blocks() {
        let t: TrustedProxies = " 10.0.0.0/8, 192.168.1.7 ,::1,fd00::/8,".parse().unwrap();
        assert!(t.contains("10.1.2.3".parse().unwrap()));
        assert!(t.contains("192.168.1.7".parse().unwrap()));
        assert!(!t.contains("192.168.1.8".parse().unwrap()));
        assert!(t.contains("::1".parse().unwrap()));
        assert!(t.contains("fd12::5".parse().unwrap()));
        assert!(t.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("proxy.local".parse::<TrustedProxies>().is_err());
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
    }
}
