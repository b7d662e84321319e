//! Where a webhook may be delivered: only to public addresses, unless the
//! operator allows private ones (`serve --allow-private-webhooks`, for
//! tests and local relays). Otherwise a publisher could have the server
//! POST to its own loopback, the private network behind it, or a cloud's
//! metadata service (169.254.169.254). The host is resolved when the
//! webhook is registered and again at each delivery, by the delivering
//! client's own resolver ([`Checked`]), so the connection goes only to an
//! address that was checked: a name that resolves elsewhere later (DNS
//! rebinding) reaches nothing private, and TLS still verifies the name.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The host and port of an `http://` or `https://` URL, as written.
pub(crate) fn host_and_port(url: &str) -> Option<(String, u16)> {
    let (rest, default_port) = match url.strip_prefix("https://") {
        Some(rest) => (rest, 443),
        None => (url.strip_prefix("http://")?, 80),
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let (host, port) = match authority.rsplit_once(':') {
        // `[::1]:8080`, `host:8080`; a bare IPv6 literal is bracketed.
        Some((host, port)) if !port.contains(']') => (host, port.parse().ok()?),
        _ => (authority, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

/// The addresses `url`'s host resolves to, each checked; an error naming
/// the first that is not public (unless `allow_private`), or why the host
/// does not resolve.
pub(crate) fn resolve(url: &str, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let (host, port) =
        host_and_port(url).ok_or_else(|| "not http(s)://HOST[:PORT]/PATH".to_owned())?;
    checked(&host, port, allow_private)
}

/// The addresses `host` resolves to, each checked as [`resolve`] does.
pub(crate) fn checked(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, String> {
    let addresses: Vec<SocketAddr> = (host, port)
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

/// The delivering client's resolver: every name it connects to is
/// resolved and checked here, at connection time. (A URL whose host is an
/// address literal is not resolved; [`resolve`] checks it before sending.)
pub(crate) struct Checked {
    pub allow_private: bool,
}

impl Resolve for Checked {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            // Resolving blocks on the system's resolver.
            let host = name.as_str().to_owned();
            let found = tokio::task::spawn_blocking(move || checked(&host, 0, allow_private))
                .await
                .map_err(|e| e.to_string())
                .and_then(|checked| checked);
            match found {
                Ok(addresses) => Ok(Box::new(addresses.into_iter()) as Addrs),
                Err(why) => Err(why.into()),
            }
        })
    }
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
    fn hosts_ports_and_checked_addresses() {
        assert_eq!(
            host_and_port("http://example.com:8080/hook?x=1"),
            Some(("example.com".into(), 8080))
        );
        assert_eq!(host_and_port("http://[::1]:9/h"), Some(("::1".into(), 9)));
        assert_eq!(host_and_port("http://[::1]/h"), Some(("::1".into(), 80)));
        assert_eq!(host_and_port("http://h"), Some(("h".into(), 80)));
        assert_eq!(host_and_port("https://h/x"), Some(("h".into(), 443)));
        assert_eq!(host_and_port("ftp://h/x"), None);
        assert!(resolve("http://127.0.0.1:9/h", false)
            .unwrap_err()
            .contains("not a public"));
        assert!(resolve("http://localhost:9/h", false).is_err());
        assert_eq!(resolve("http://127.0.0.1:9/h", true).unwrap().len(), 1);
        assert!(resolve("https://localhost/h", false).is_err());
    }

    #[test]
    fn the_delivering_clients_resolver_refuses_what_is_not_public() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let name = || "localhost".parse::<Name>().unwrap();
        let refused = runtime.block_on(
            Checked {
                allow_private: false,
            }
            .resolve(name()),
        );
        let why = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(why.contains("not a public address"), "{why}");
        let allowed = runtime
            .block_on(
                Checked {
                    allow_private: true,
                }
                .resolve(name()),
            )
            .unwrap();
        assert!(allowed.into_iter().all(|a| a.ip().is_loopback()));
    }
}
