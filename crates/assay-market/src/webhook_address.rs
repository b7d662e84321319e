//! Where a webhook may be delivered: only to public addresses, unless the
//! operator allows private ones (`serve --allow-private-webhooks`, for
//! tests and local relays). Otherwise a publisher could have the server
//! POST to its own loopback, the private network behind it, or a cloud's
//! metadata service (169.254.169.254). The host is resolved when the
//! webhook is registered and again at each delivery, and the delivery goes
//! to the address that was checked, so a name that resolves elsewhere later
//! (DNS rebinding) reaches nothing private.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

/// The host and port of an `http://` URL, as written.
pub(crate) fn host_and_port(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("http://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (host, port) = match authority.rsplit_once(':') {
        // `[::1]:8080`, `host:8080`; a bare IPv6 literal is bracketed.
        Some((host, port)) if !port.contains(']') => (host, port.parse().ok()?),
        _ => (authority, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

/// The addresses `url`'s host resolves to, each checked; an error naming
/// the first that is not public (unless `allow_private`), or why the host
/// does not resolve.
pub(crate) fn resolve(url: &str, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let (host, port) =
        host_and_port(url).ok_or_else(|| "not http://HOST[:PORT]/PATH".to_owned())?;
    let addresses: Vec<SocketAddr> = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("{host} does not resolve: {e}"))?
        .collect();
    if addresses.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    if !allow_private {
        if let Some(private) = addresses.iter().find(|a| !is_public(a.ip())) {
            return Err(format!(
                "{host} resolves to {}, which is not a public address (loopback, private, link-local or a cloud's metadata service)",
                private.ip()
            ));
        }
    }
    Ok(addresses)
}

/// Whether `ip` is on the public internet.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local, fd00:ec2::254 among them
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds.
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0]
                    && !is_public_v4(Ipv4Addr::new(
                        (s[6] >> 8) as u8,
                        s[6] as u8,
                        (s[7] >> 8) as u8,
                        s[7] as u8,
                    ))))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local() // 169.254/16: the cloud metadata service
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// `url` with its host replaced by `address`, so the request goes where
/// the check said; the original host goes in the `Host` header.
pub(crate) fn pinned(url: &str, address: SocketAddr) -> Option<(String, String)> {
    let rest = url.strip_prefix("http://")?;
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let path = if path.is_empty() { "/" } else { path };
    Some((format!("http://{address}{path}"), authority.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
            "240.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn hosts_ports_and_pinned_urls() {
        assert_eq!(
            host_and_port("http://example.com:8080/hook?x=1"),
            Some(("example.com".into(), 8080))
        );
        assert_eq!(host_and_port("http://[::1]:9/h"), Some(("::1".into(), 9)));
        assert_eq!(host_and_port("http://[::1]/h"), Some(("::1".into(), 80)));
        assert_eq!(host_and_port("http://h"), Some(("h".into(), 80)));
        let to: SocketAddr = "93.184.216.34:8080".parse().unwrap();
        assert_eq!(
            pinned("http://example.com:8080/hook?x=1", to),
            Some((
                "http://93.184.216.34:8080/hook?x=1".into(),
                "example.com:8080".into()
            ))
        );
        assert!(resolve("http://127.0.0.1:9/h", false)
            .unwrap_err()
            .contains("not a public"));
        assert!(resolve("http://localhost:9/h", false).is_err());
        assert_eq!(resolve("http://127.0.0.1:9/h", true).unwrap().len(), 1);
    }
}
