//! Who the client is, for throttling and the audit log. Behind a reverse proxy every request
//! comes from the proxy, so its `X-Forwarded-For` names the client — but only a proxy listed in
//! `OUTREACH_TRUSTED_PROXIES` is believed: anyone else could write any address there and walk
//! around the per-address limits.

use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::context::config::Settings;

/// The client's address: the peer, or, when the peer is a trusted proxy, the nearest address in
/// `X-Forwarded-For` (read from the right, past every trusted hop) — the one our own proxies saw.
pub fn address(req: &HttpRequest, settings: &Settings) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip())?;
    Some(forwarded_client(peer, forwarded_for(req).as_deref(), &settings.trusted_proxies))
}

fn forwarded_for(req: &HttpRequest) -> Option<String> {
    let values: Vec<&str> = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn forwarded_client(peer: IpAddr, header: Option<&str>, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in header.unwrap_or("").rsplit(',').map(str::trim).filter(|h| !h.is_empty()) {
        // `1.2.3.4:5678` and `[::1]:5678` from some proxies: the address without its port.
        let parsed = hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()));
        let Some(ip) = parsed else {
            // A hop that is not an address: nothing beyond it can be believed.
            return client;
        };
        client = ip;
        if !is_trusted(&ip) {
            return ip;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        assert_eq!(forwarded_client(ip("203.0.113.9"), Some("1.1.1.1"), &nets(&["10.0.0.0/8"])), ip("203.0.113.9"));
        assert_eq!(forwarded_client(ip("10.0.0.2"), Some("1.1.1.1"), &[]), ip("10.0.0.2"));
    }

    #[test]
    fn a_trusted_proxy_names_the_nearest_untrusted_hop() {
        let trusted = nets(&["10.0.0.0/8"]);
        // The client wrote a fake first hop; our proxy appended the address it saw.
        assert_eq!(
            forwarded_client(ip("10.0.0.2"), Some("6.6.6.6, 198.51.100.7, 10.0.0.9"), &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(forwarded_client(ip("10.0.0.2"), Some("198.51.100.7:5555"), &trusted), ip("198.51.100.7"));
        assert_eq!(forwarded_client(ip("10.0.0.2"), None, &trusted), ip("10.0.0.2"));
        assert_eq!(forwarded_client(ip("10.0.0.2"), Some("garbage, 10.0.0.3"), &trusted), ip("10.0.0.3"));
    }
}
