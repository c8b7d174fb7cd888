//! Outbound HTTP that cannot be turned against the network Plugboard runs in.
//!
//! End users type subdomains and instance URLs that end up in request URLs, and operators
//! configure webhook URLs: both could name internal services (`localhost`, `10.0.0.5`, the
//! cloud metadata address). The guarded client resolves names itself and keeps only public
//! addresses, and reqwest then connects to exactly those addresses, so a name that resolves
//! differently a second later (DNS rebinding) gains nothing. Literal IP hosts skip DNS, so
//! they are checked before the request. Redirects are never followed, and no client ever uses
//! a proxy from the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`): a proxy resolves
//! the target itself, out of the guard's sight. Plugboard has no egress-proxy setting.
//!
//! "Public" follows the IANA IPv4 and IPv6 special-purpose address registries in full (plus
//! multicast and, for IPv6, everything outside global unicast `2000::/3`), and an IPv4
//! address embedded in an IPv6 one (IPv4-mapped, IPv4-compatible, 6to4, Teredo, NAT64) is
//! judged as well.
//!
//! Why an outbound request failed is decided in one place, [`classify`], for the webhook
//! worker and the credential verification alike.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    time::Duration,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The outbound request named an address Plugboard refuses to reach.
#[derive(Debug, thiserror::Error)]
#[error("refusing to connect to a non-public address ({0})")]
pub struct Blocked(pub String);

/// The outbound request named a host that does not resolve (or resolves to nothing).
#[derive(Debug, thiserror::Error)]
#[error("{0} does not resolve")]
pub struct Unresolved(pub String);

/// The IANA IPv4 Special-Purpose Address Registry, every entry (also those marked globally
/// reachable: no webhook or vendor API lives in them), plus multicast from the IPv4 address
/// space registry. Checked on 2026-12-01 against
/// <https://www.iana.org/assignments/iana-ipv4-special-registry/>.
pub const IPV4_SPECIAL: &[(&str, Ipv4Addr, u8)] = &[
    ("this network", Ipv4Addr::new(0, 0, 0, 0), 8),
    ("private use", Ipv4Addr::new(10, 0, 0, 0), 8),
    (
        "shared address space (carrier-grade NAT)",
        Ipv4Addr::new(100, 64, 0, 0),
        10,
    ),
    ("loopback", Ipv4Addr::new(127, 0, 0, 0), 8),
    (
        "link local (cloud metadata)",
        Ipv4Addr::new(169, 254, 0, 0),
        16,
    ),
    ("private use", Ipv4Addr::new(172, 16, 0, 0), 12),
    (
        "IETF protocol assignments (DS-Lite, NAT64 discovery, TURN, ...)",
        Ipv4Addr::new(192, 0, 0, 0),
        24,
    ),
    (
        "documentation (TEST-NET-1)",
        Ipv4Addr::new(192, 0, 2, 0),
        24,
    ),
    ("AS112-v4", Ipv4Addr::new(192, 31, 196, 0), 24),
    ("AMT", Ipv4Addr::new(192, 52, 193, 0), 24),
    (
        "6to4 relay anycast (deprecated)",
        Ipv4Addr::new(192, 88, 99, 0),
        24,
    ),
    ("private use", Ipv4Addr::new(192, 168, 0, 0), 16),
    (
        "direct delegation AS112 service",
        Ipv4Addr::new(192, 175, 48, 0),
        24,
    ),
    ("benchmarking", Ipv4Addr::new(198, 18, 0, 0), 15),
    (
        "documentation (TEST-NET-2)",
        Ipv4Addr::new(198, 51, 100, 0),
        24,
    ),
    (
        "documentation (TEST-NET-3)",
        Ipv4Addr::new(203, 0, 113, 0),
        24,
    ),
    ("multicast", Ipv4Addr::new(224, 0, 0, 0), 4),
    (
        "reserved, limited broadcast",
        Ipv4Addr::new(240, 0, 0, 0),
        4,
    ),
];

/// The IANA IPv6 Special-Purpose Address Registry, every entry, plus multicast and the
/// deprecated site-local and IPv4-compatible ranges. IPv4-mapped (`::ffff:0:0/96`) and the
/// well-known NAT64 prefix (`64:ff9b::/96`) are not listed: the IPv4 address they carry
/// decides. Besides these, anything outside global unicast `2000::/3` is refused. Checked on
/// 2026-12-01 against <https://www.iana.org/assignments/iana-ipv6-special-registry/>.
pub const IPV6_SPECIAL: &[(&str, Ipv6Addr, u8)] = &[
    ("unspecified", Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 128),
    ("loopback", Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1), 128),
    (
        "IPv4-compatible (deprecated)",
        Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0),
        96,
    ),
    (
        "NAT64 local use",
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
    ),
    (
        "discard only",
        Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
        64,
    ),
    (
        "dummy IPv6 prefix",
        Ipv6Addr::new(0x100, 0, 0, 1, 0, 0, 0, 0),
        64,
    ),
    (
        "IETF protocol assignments (Teredo, benchmarking, AMT, ORCHID, ...)",
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
    ),
    ("Teredo", Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32),
    (
        "documentation",
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
    ),
    ("6to4", Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16),
    (
        "AS112-v6",
        Ipv6Addr::new(0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0),
        48,
    ),
    (
        "documentation",
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
    ),
    (
        "segment routing SIDs",
        Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0),
        16,
    ),
    (
        "unique local",
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
    ),
    ("link local", Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
    (
        "site local (deprecated)",
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
    ),
    ("multicast", Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),
];

fn in_v4(ip: Ipv4Addr, network: Ipv4Addr, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(network) & mask
}

fn in_v6(ip: Ipv6Addr, network: Ipv6Addr, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(network) & mask
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    !IPV4_SPECIAL
        .iter()
        .any(|(_, network, len)| in_v4(ip, *network, *len))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // These two are IPv4 addresses in IPv6 notation: the IPv4 address decides.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if in_v6(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        return is_public_v4(low_v4(ip));
    }
    // Tunnels carrying an IPv4 address: a non-public one refuses them (their prefixes are
    // refused below anyway).
    if embedded_ipv4(ip).iter().any(|v4| !is_public_v4(*v4)) {
        return false;
    }
    let global_unicast = ip.segments()[0] & 0xe000 == 0x2000;
    global_unicast
        && !IPV6_SPECIAL
            .iter()
            .any(|(_, network, len)| in_v6(ip, *network, *len))
}

fn low_v4(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from((u128::from(ip) & 0xffff_ffff) as u32)
}

/// The IPv4 addresses an IPv6 address carries: IPv4-mapped, IPv4-compatible, NAT64
/// (`64:ff9b::/96`), 6to4 (`2002:AABB:CCDD::/48`) and Teredo (server and the obfuscated
/// client address).
pub fn embedded_ipv4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    if let Some(mapped) = ip.to_ipv4_mapped() {
        vec![mapped]
    } else if in_v6(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96)
        || (s[..6] == [0; 6] && u128::from(ip) > 1)
    {
        vec![low_v4(ip)]
    } else if s[0] == 0x2002 {
        vec![v4(s[1], s[2])]
    } else if s[0] == 0x2001 && s[1] == 0 {
        vec![v4(s[2], s[3]), v4(!s[6], !s[7])]
    } else {
        Vec::new()
    }
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

/// The resolver of every client: names that do not resolve become [`Unresolved`], and, when it
/// has an [`Allowed`], answers keep only the addresses it permits ([`Blocked`] if none).
#[derive(Debug, Clone, Default)]
pub struct GuardedResolver {
    allowed: Option<std::sync::Arc<Allowed>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.allowed.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            // RFC 6761 §6.4: `.invalid` never resolves; answer at once, without asking DNS.
            let special = host.trim_end_matches('.').to_ascii_lowercase();
            if special == "invalid" || special.ends_with(".invalid") {
                return Err(Box::new(Unresolved(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            let resolved: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), 0)).await
            {
                Ok(addresses) => addresses.collect(),
                Err(_) => Vec::new(),
            };
            if resolved.is_empty() {
                return Err(Box::new(Unresolved(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            let permitted: Vec<SocketAddr> = match &allowed {
                Some(allowed) => resolved
                    .into_iter()
                    .filter(|addr| allowed.permits(addr.ip()))
                    .collect(),
                None => resolved,
            };
            if permitted.is_empty() {
                return Err(Box::new(Blocked(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// An HTTP client for outbound requests: no redirects, no proxy, a timeout, Plugboard's user
/// agent, and, when `guarded`, public addresses only.
pub fn client(timeout: Duration, guarded: bool) -> reqwest::Client {
    build(timeout, guarded.then(Allowed::public_only))
}

/// An HTTP client like [`client`] that reaches only the addresses `allowed` permits. Callers
/// also check literal IP hosts with [`Allowed::check_literal_host`]: those skip resolution.
pub fn guarded_client(timeout: Duration, allowed: Allowed) -> reqwest::Client {
    build(timeout, Some(allowed))
}

fn build(timeout: Duration, allowed: Option<Allowed>) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would resolve and reach the target itself, past the resolver's checks.
        .no_proxy()
        .user_agent(concat!("Plugboard/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(std::sync::Arc::new(GuardedResolver {
            allowed: allowed.map(std::sync::Arc::new),
        }))
        .build()
        // Building only fails if the TLS backend cannot initialise, which is a broken build.
        .unwrap_or_else(|e| panic!("HTTP client: {e}"))
}

/// Why an outbound request got no HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The host name does not resolve.
    Dns,
    /// The guard refused the address (a non-public one, or not allowed for this client).
    Blocked,
    /// Nothing listens there: the connection was refused.
    Refused,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// No answer in time (connecting or waiting for the response).
    Timeout,
    /// Another connection failure (unreachable network, reset, ...).
    Connect,
    /// The request failed after connecting (a broken answer, ...).
    Other,
}

impl Cause {
    /// A short name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Blocked => "blocked",
            Self::Refused => "refused",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::Other => "other",
        }
    }
}

/// An outbound request's failure: its [`Cause`] and the innermost error's words (never the
/// URL, which may carry a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong.
    pub cause: Cause,
    /// The detail, for logs.
    pub detail: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.cause.as_str(), self.detail)
    }
}

/// Classifies a failed request: the one place that tells a name that does not resolve from a
/// refusal by the guard, a refused connection, a TLS failure or a timeout.
pub fn classify(error: &reqwest::Error) -> Failure {
    let mut innermost = error.without_url_string();
    let mut cause = None;
    let mut source = std::error::Error::source(error);
    while let Some(current) = source {
        if let Some(blocked) = current.downcast_ref::<Blocked>() {
            return Failure {
                cause: Cause::Blocked,
                detail: blocked.to_string(),
            };
        }
        if let Some(unresolved) = current.downcast_ref::<Unresolved>() {
            return Failure {
                cause: Cause::Dns,
                detail: unresolved.to_string(),
            };
        }
        // An I/O error may wrap another (hyper-rustls wraps tokio-rustls's), and its
        // `source` skips the wrapped one: look inside with `get_ref`.
        let mut io = current.downcast_ref::<std::io::Error>();
        while let Some(inner) = io {
            cause = cause.or(match inner.kind() {
                std::io::ErrorKind::ConnectionRefused => Some(Cause::Refused),
                std::io::ErrorKind::TimedOut => Some(Cause::Timeout),
                // tokio-rustls reports every TLS failure as invalid data.
                std::io::ErrorKind::InvalidData if error.is_connect() => Some(Cause::Tls),
                _ => None,
            });
            io = inner
                .get_ref()
                .and_then(|wrapped| wrapped.downcast_ref::<std::io::Error>());
        }
        innermost = current.to_string();
        source = current.source();
    }
    let cause = if error.is_timeout() {
        Cause::Timeout
    } else if let Some(cause) = cause {
        cause
    } else if error.is_connect() {
        Cause::Connect
    } else {
        Cause::Other
    };
    Failure {
        cause,
        detail: innermost,
    }
}

/// `to_string` of a reqwest error without its URL.
trait WithoutUrl {
    fn without_url_string(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_string(&self) -> String {
        let mut text = self.to_string();
        if let Some(url) = self.url() {
            text = text.replace(url.as_str(), "<url>");
        }
        text
    }
}

/// A `Retry-After` value: seconds, or an HTTP date (a date in the past is no wait).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (date.to_utc() - chrono::Utc::now())
            .to_std()
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(90)).to_rfc2822();
        let parsed = parse_retry_after(&later).expect("a date");
        assert!(parsed > Duration::from_secs(80) && parsed <= Duration::from_secs(90));
        assert_eq!(parse_retry_after("soon"), None);
    }

    /// Each registry entry: its first and last address and one inside are refused, whatever
    /// the prefix length.
    #[test]
    fn every_entry_of_the_special_purpose_registries_is_refused() {
        for (name, network, len) in IPV4_SPECIAL {
            let first = u32::from(*network);
            let last = first | u32::MAX.checked_shr(u32::from(*len)).unwrap_or(0);
            for ip in [first, last, first + (last - first) / 2] {
                let ip = Ipv4Addr::from(ip);
                assert!(!is_public(ip.into()), "{ip} ({name})");
                let mapped = ip.to_ipv6_mapped();
                assert!(!is_public(mapped.into()), "{mapped} ({name})");
                let nat64 = Ipv6Addr::from((0x64_ff9b_u128 << 96) | u128::from(u32::from(ip)));
                assert!(!is_public(nat64.into()), "{nat64} ({name})");
            }
        }
        for (name, network, len) in IPV6_SPECIAL {
            let first = u128::from(*network);
            let last = first | u128::MAX.checked_shr(u32::from(*len)).unwrap_or(0);
            for ip in [first, last, first + (last - first) / 2] {
                let ip = Ipv6Addr::from(ip);
                assert!(!is_public(ip.into()), "{ip} ({name})");
            }
        }
    }

    #[test]
    fn the_listed_ranges_and_embedded_addresses_are_refused() {
        for blocked in [
            // IPv4, including the gaps the old list had.
            "127.8.9.10",
            "10.1.2.3",
            "172.31.255.255",
            "169.254.169.254",
            "0.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "192.0.0.1",
            "192.0.0.170",
            "192.88.99.1",
            "192.31.196.1",
            "192.52.193.1",
            "192.175.48.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.7",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            // IPv6 ranges.
            "::",
            "::1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:2::1",
            "2001:20::1",
            "2001:db8::1",
            "2002::1",
            "2620:4f:8000::1",
            "3fff::1",
            "5f00::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "4000::1",
            "1000::1",
            // Embedded IPv4: mapped, compatible, NAT64, 6to4, Teredo (server and the
            // obfuscated client 127.0.0.1 = !0x7f000001 = 80ff:fffe).
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:192.88.99.1",
            "::127.0.0.1",
            "::8.8.8.8",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "64:ff9b::c0a8:1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            "2002:808:808::1",
            "2001:0:a00:1::1",
            "2001:0:808:808:0:0:80ff:fffe",
            "2001:0:808:808:0:0:f7f7:f7f7",
        ] {
            let ip: IpAddr = blocked.parse().expect(blocked);
            assert!(!is_public(ip), "{blocked} must be refused");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "192.0.1.1",
            "192.88.100.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700::1111",
            "2001:200::1",
            "2003::1",
            "2620:4f:8001::1",
            "3ffe::1",
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
    fn embedded_addresses_are_found_in_every_form() {
        let v4 = |text: &str| text.parse::<Ipv4Addr>().expect(text);
        let v6 = |text: &str| text.parse::<Ipv6Addr>().expect(text);
        assert_eq!(embedded_ipv4(v6("::ffff:10.1.2.3")), [v4("10.1.2.3")]);
        assert_eq!(embedded_ipv4(v6("::10.1.2.3")), [v4("10.1.2.3")]);
        assert_eq!(embedded_ipv4(v6("64:ff9b::10.1.2.3")), [v4("10.1.2.3")]);
        assert_eq!(embedded_ipv4(v6("2002:a01:203::1")), [v4("10.1.2.3")]);
        assert_eq!(
            embedded_ipv4(v6("2001:0:4136:e378:8000:63bf:3fff:fdd2")),
            [v4("65.54.227.120"), v4("192.0.2.45")],
            "RFC 4380's example: server, then the client with its bits flipped"
        );
        assert!(embedded_ipv4(v6("2606:4700::1111")).is_empty());
        assert!(embedded_ipv4(v6("::1")).is_empty());
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

    async fn failure(client: &reqwest::Client, url: &str) -> Failure {
        classify(&client.get(url).send().await.expect_err(url))
    }

    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused() {
        let client = client(Duration::from_secs(2), true);
        let failure = failure(&client, "http://localhost:9/").await;
        assert_eq!(failure.cause, Cause::Blocked, "{failure}");
        assert!(failure.detail.contains("localhost"), "{failure}");
    }

    #[tokio::test]
    async fn failures_are_classified_by_cause() {
        let open = client(Duration::from_secs(30), false);
        let unresolved = failure(&open, "https://plugboard-test.invalid/").await;
        assert_eq!(unresolved.cause, Cause::Dns, "{unresolved}");

        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = closed.local_addr().expect("address").port();
        drop(closed);
        let refused = failure(&open, &format!("http://127.0.0.1:{port}/")).await;
        assert_eq!(refused.cause, Cause::Refused, "{refused}");

        // A server that answers plain HTTP to a TLS handshake.
        let plain = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let plain_port = plain.local_addr().expect("address").port();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            while let Ok((mut socket, _)) = plain.accept().await {
                let _ = socket
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await;
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    drop(socket);
                });
            }
        });
        let tls = failure(&open, &format!("https://127.0.0.1:{plain_port}/")).await;
        assert_eq!(tls.cause, Cause::Tls, "{tls}");

        // A server that accepts and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let silent_port = silent.local_addr().expect("address").port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                held.push(socket);
            }
        });
        let impatient = client(Duration::from_millis(300), false);
        let timeout = failure(&impatient, &format!("http://127.0.0.1:{silent_port}/")).await;
        assert_eq!(timeout.cause, Cause::Timeout, "{timeout}");
    }
}
