//! Outbound HTTP that cannot be turned against the network Plugboard runs in.
//!
//! End users type subdomains and instance URLs that end up in request URLs, and operators
//! configure webhook URLs: both could name internal services (`localhost`, `10.0.0.5`, the
//! cloud metadata address). The guarded client resolves names itself and keeps only public
//! addresses, and reqwest then connects to exactly those addresses, so a name that resolves
//! differently a second later (DNS rebinding) gains nothing. Literal IP hosts skip DNS, so
//! they are checked before the request. Redirects are never followed.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The outbound request named an address Plugboard refuses to reach.
#[derive(Debug, thiserror::Error)]
#[error("refusing to connect to a non-public address ({0})")]
pub struct Blocked(pub String);

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let segments = v6.segments();
            // NAT64 (64:ff9b::/96) embeds an IPv4 address that decides.
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = segments[6].to_be_bytes();
                let [c, d] = segments[7].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (segments[0] & 0xfe00) == 0xfc00 // unique local
                || (segments[0] & 0xffc0) == 0xfe80 // link-local
                || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || segments[0] == 0x2001 && segments[1] == 0x0db8 // documentation
                || segments[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local() // includes 169.254.169.254, the cloud metadata service
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// Which addresses a guarded client may reach: public ones always, and, as the operator
/// allows, loopback and listed networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowed {
    /// Loopback (`127.0.0.0/8`, `::1`): development webhooks and `--demo`.
    pub loopback: bool,
    /// Networks the operator allow-listed (`PLUGBOARD_WEBHOOK_ALLOWED_NETWORKS`).
    pub networks: Vec<ipnet::IpNet>,
}

impl Allowed {
    /// Public addresses only.
    pub fn public_only() -> Self {
        Self::default()
    }

    /// Whether `ip` may be connected to.
    pub fn permits(&self, ip: IpAddr) -> bool {
        // An IPv4-mapped address is judged as the IPv4 address it is.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        is_public(ip)
            || (self.loopback && ip.is_loopback())
            || self.networks.iter().any(|network| network.contains(&ip))
    }

    /// Refuses a URL whose host is a literal IP that may not be reached (names are checked
    /// when they resolve).
    pub fn check_literal_host(&self, url: &reqwest::Url) -> Result<(), Blocked> {
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        if self.permits(ip) {
            Ok(())
        } else {
            Err(Blocked(ip.to_string()))
        }
    }
}

/// Refuses a URL whose host is a literal non-public IP (names are checked at resolution).
pub fn check_literal_host(url: &reqwest::Url) -> Result<(), Blocked> {
    Allowed::public_only().check_literal_host(url)
}

/// A resolver that answers only with addresses its [`Allowed`] permits.
#[derive(Debug, Clone, Default)]
pub struct GuardedResolver {
    allowed: std::sync::Arc<Allowed>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = std::sync::Arc::clone(&self.allowed);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| allowed.permits(addr.ip()))
                .collect();
            if permitted.is_empty() {
                return Err(Box::new(Blocked(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// An HTTP client for outbound requests: no redirects, a timeout, Plugboard's user agent, and,
/// when `guarded`, public addresses only.
pub fn client(timeout: Duration, guarded: bool) -> reqwest::Client {
    build(timeout, guarded.then(Allowed::public_only))
}

/// An HTTP client like [`client`] that reaches only the addresses `allowed` permits. Callers
/// also check literal IP hosts with [`Allowed::check_literal_host`]: those skip resolution.
pub fn guarded_client(timeout: Duration, allowed: Allowed) -> reqwest::Client {
    build(timeout, Some(allowed))
}

fn build(timeout: Duration, allowed: Option<Allowed>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Plugboard/", env!("CARGO_PKG_VERSION")));
    if let Some(allowed) = allowed {
        builder = builder.dns_resolver(std::sync::Arc::new(GuardedResolver {
            allowed: std::sync::Arc::new(allowed),
        }));
    }
    // Building only fails if the TLS backend cannot initialise, which is a broken build.
    builder
        .build()
        .unwrap_or_else(|e| panic!("HTTP client: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses_are_refused() {
        for blocked in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "::127.0.0.1",
            "2001:db8::1",
            "ff02::1",
        ] {
            let ip: IpAddr = blocked.parse().expect(blocked);
            assert!(!is_public(ip), "{blocked} must be refused");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(
                is_public(public.parse().expect(public)),
                "{public} is public"
            );
        }
    }

    #[test]
    fn literal_hosts_in_every_notation_are_checked() {
        // The URL parser normalises decimal, octal and hex IPv4 forms, so they are caught too.
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f.0.0.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://[::1]/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let parsed = reqwest::Url::parse(url).expect(url);
            assert!(
                check_literal_host(&parsed).is_err(),
                "{url} must be refused"
            );
        }
        assert!(
            check_literal_host(&reqwest::Url::parse("https://api.example.com/").expect("url"))
                .is_ok()
        );
    }

    #[test]
    fn loopback_and_listed_networks_are_allowed_only_when_asked() {
        let loopback = Allowed {
            loopback: true,
            networks: vec!["10.1.0.0/16".parse().expect("net")],
        };
        for ip in [
            "127.0.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "10.1.2.3",
            "8.8.8.8",
        ] {
            assert!(loopback.permits(ip.parse().expect(ip)), "{ip}");
        }
        for ip in [
            "10.2.0.1",
            "169.254.169.254",
            "192.168.0.1",
            "::ffff:10.2.0.1",
        ] {
            assert!(!loopback.permits(ip.parse().expect(ip)), "{ip}");
        }
        assert!(!Allowed::public_only().permits("127.0.0.1".parse().expect("ip")));
    }

    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused() {
        let client = client(Duration::from_secs(2), true);
        let error = client
            .get("http://localhost:9/")
            .send()
            .await
            .expect_err("blocked");
        let chain = format!("{error:?}");
        assert!(chain.contains("Blocked(\"localhost\")"), "{chain}");
    }
}
