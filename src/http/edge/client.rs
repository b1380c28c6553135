//! Who a request comes from: the peer's address, or behind trusted proxies the nearest untrusted
//! hop of `X-Forwarded-For`; and the key every per-address limit counts it by.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The address of the client, as far as it can be trusted: the peer's, or, when the peer is a
/// trusted proxy, the nearest untrusted address in `X-Forwarded-For`.
/// The connection puts the peer's address on every request; the edge replaces it when the peer
/// is a trusted proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    pub fn peer(peer: SocketAddr) -> Self {
        Self(canonical(peer.ip()))
    }
}

/// Peers whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDRs.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| item.to_owned())
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub(crate) fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client behind `peer`: walks `X-Forwarded-For` from the nearest hop while hops are
    /// trusted proxies; a hop that is not an address stops the walk at the last trusted one.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if self.0.is_empty() || !self.trusts(peer) {
            return canonical(peer);
        }
        let mut client = peer;
        let hops = headers.get_all("x-forwarded-for").iter().collect::<Vec<_>>();
        for value in hops.iter().rev() {
            let Ok(value) = value.to_str() else { return canonical(client) };
            for hop in value.rsplit(',') {
                match hop.trim().parse::<IpAddr>() {
                    Ok(address) => {
                        client = address;
                        if !self.trusts(address) {
                            return canonical(address);
                        }
                    }
                    Err(_) => return canonical(client),
                }
            }
        }
        canonical(client)
    }
}

/// IPv4 peers on a dual-stack socket arrive as `::ffff:a.b.c.d`; compare and log them as IPv4.
pub(crate) fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// What every per-address limit counts a client as: IPv4 as it is (IPv4-mapped IPv6 included),
/// IPv6 by its /64, which one host usually holds whole (so one host cannot spread itself over
/// 2^64 addresses to escape a limit).
pub fn address_key(address: IpAddr) -> IpAddr {
    match canonical(address) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1").unwrap();
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        let headers = forwarded(&["198.51.100.7"]);
        assert_eq!(proxies.client(peer, &headers), "198.51.100.7".parse::<IpAddr>().unwrap());
        assert_eq!(proxies.client(stranger, &headers), stranger, "untrusted peer: header ignored");
        assert_eq!(TrustedProxies::default().client(peer, &headers), peer);
    }

    #[test]
    fn a_forged_leftmost_hop_does_not_win() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        // The client claims 1.1.1.1; the proxy appended the real address.
        let headers = forwarded(&["1.1.1.1, 198.51.100.7", "10.0.0.2"]);
        assert_eq!(proxies.client(peer, &headers), "198.51.100.7".parse::<IpAddr>().unwrap());
        let garbage = forwarded(&["nonsense, 10.0.0.5"]);
        assert_eq!(proxies.client(peer, &garbage), "10.0.0.5".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn proxy_lists_are_parsed_strictly() {
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
        assert_eq!(TrustedProxies::parse("::1, 127.0.0.1/32").unwrap().0.len(), 2);
        assert_eq!(TrustedProxies::parse("10.0.0.0/8, proxy.local").unwrap_err(), "proxy.local");
    }
}
