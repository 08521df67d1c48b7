//! Who the client is, for the login limiter and the logs: the TCP peer, or
//! — when the peer is a configured trusted proxy (the region's ingress) —
//! the nearest address in `X-Forwarded-For` that is not itself a trusted
//! proxy. Without the setting the header is ignored, since any client can
//! write it; with it, a region behind one ingress is not limited as one
//! client.

use std::net::IpAddr;

/// Addresses and CIDR ranges of `gateway.trusted_proxies`.
#[derive(Debug, Default, Clone)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    pub fn parse(list: &[String]) -> anyhow::Result<Self> {
        let mut nets = Vec::with_capacity(list.len());
        for entry in list.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let (addr, len) = entry.split_once('/').unwrap_or((entry, ""));
            let ip: IpAddr = addr.parse().map_err(|e| {
                anyhow::anyhow!("gateway.trusted_proxies: {entry:?} is not an address: {e}")
            })?;
            let ip = ip.to_canonical();
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let len = if len.is_empty() {
                max
            } else {
                len.parse::<u8>()
                    .ok()
                    .filter(|l| *l <= max)
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "gateway.trusted_proxies: {entry:?} has a bad prefix length"
                        )
                    })?
            };
            nets.push((ip, len));
        }
        Ok(TrustedProxies(nets))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|(net, len)| in_range(ip, *net, *len))
    }

    /// The client behind `peer`, reading `X-Forwarded-For` only from a
    /// trusted proxy, right to left (each proxy appends the address it
    /// received from).
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded_for.unwrap_or("").rsplit(',') {
            // A malformed entry ends the chain: what is left of it is unknown.
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = ip.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

fn in_range(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}
