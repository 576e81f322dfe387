//! Outbound address policy for connections users configure. Loopback and private ranges stay
//! allowed (self-hosting); link-local and cloud metadata addresses are refused unless
//! `EDGEPUB_ALLOW_LINK_LOCAL` is set, so a settings form cannot be used to read instance
//! credentials.

use super::{ConnError, ErrorKind};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, Default)]
pub struct NetPolicy {
    pub allow_link_local: bool,
}

impl NetPolicy {
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow_link_local || !is_link_local(ip)
    }

    /// Resolves `host:port` and checks every address.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, ConnError> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| {
                ConnError::new(
                    ErrorKind::Dns,
                    format!("the host `{host}` does not resolve"),
                )
            })?
            .collect();
        if addrs.is_empty() {
            return Err(ConnError::new(
                ErrorKind::Dns,
                format!("the host `{host}` has no address"),
            ));
        }
        if let Some(bad) = addrs.iter().find(|a| !self.allows(a.ip())) {
            return Err(refused(bad.ip()));
        }
        Ok(addrs)
    }

    /// An HTTP client that applies this policy to every name it resolves. IP literals bypass
    /// resolvers, so callers also run [`NetPolicy::check_url`].
    pub fn http_client(&self, timeout: std::time::Duration) -> reqwest::Client {
        reqwest::Client::builder()
            .dns_resolver(Arc::new(PolicyResolver(*self)))
            .connect_timeout(timeout)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    }

    pub fn check_url(&self, url: &url::Url) -> Result<(), ConnError> {
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err(ConnError::new(ErrorKind::Invalid, "the URL has no host")),
        };
        if self.allows(ip) {
            Ok(())
        } else {
            Err(refused(ip))
        }
    }
}

fn refused(ip: IpAddr) -> ConnError {
    ConnError::new(
        ErrorKind::Permission,
        format!("{ip} is a link-local or cloud metadata address; edgepub does not connect there (EDGEPUB_ALLOW_LINK_LOCAL)"),
    )
}

pub fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets()[..2] == [169, 254],
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_link_local(IpAddr::V4(v4));
            }
            // fe80::/10, and AWS's IPv6 metadata endpoint fd00:ec2::254.
            (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.segments() == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254]
        }
    }
}

struct PolicyResolver(NetPolicy);

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        Box::pin(async move {
            let addrs = policy
                .resolve(name.as_str(), 0)
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })?;
            let iter: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(iter)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_local_ranges() {
        for bad in [
            "169.254.169.254",
            "fe80::1",
            "::ffff:169.254.1.1",
            "fd00:ec2::254",
        ] {
            assert!(is_link_local(bad.parse().unwrap()), "{bad}");
        }
        for ok in ["127.0.0.1", "10.0.0.1", "192.168.1.1", "::1", "fd00::1"] {
            assert!(!is_link_local(ok.parse().unwrap()), "{ok}");
        }
        assert!(NetPolicy {
            allow_link_local: true
        }
        .allows("169.254.169.254".parse().unwrap()));
    }

    #[tokio::test]
    async fn resolution_errors_are_dns_or_permission() {
        let p = NetPolicy::default();
        assert_eq!(
            p.resolve("no-such-host.invalid", 80)
                .await
                .unwrap_err()
                .kind,
            ErrorKind::Dns
        );
        assert_eq!(
            p.resolve("169.254.169.254", 80).await.unwrap_err().kind,
            ErrorKind::Permission
        );
        assert!(p.resolve("127.0.0.1", 80).await.is_ok());
    }
}
