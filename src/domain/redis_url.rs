//! Redis addresses as users type them: `redis://` / `rediss://` (one server),
//! `redis+sentinel://[:pw@]h1:p1,h2:p2/master` (Sentinel), or several `redis://` URLs separated
//! by commas (Cluster). A password inside the URL is split out so it can be stored sealed.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// One server: a full `redis://` or `rediss://` URL (without password).
    Single { url: String },
    /// Sentinels as `host:port`, the master's name, and whether the nodes speak TLS.
    Sentinel {
        sentinels: Vec<String>,
        master: String,
        tls: bool,
    },
    /// Cluster seed nodes as `redis://host:port` URLs (without password).
    Cluster { nodes: Vec<String> },
}

/// Splits `scheme://user:password@rest` into the URL without the password and the password.
/// Works per comma-separated URL; the first password found wins.
pub fn split_password(raw: &str) -> (String, Option<String>) {
    let mut password = None;
    let parts: Vec<String> = raw
        .split(',')
        .map(|part| {
            let part = part.trim();
            let Some((scheme, rest)) = part.split_once("://") else {
                return part.to_string();
            };
            // Credentials end at the authority's last `@`; an `@` in the path is the path's.
            let authority = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let Some((userinfo, host)) = rest[..authority]
                .rsplit_once('@')
                .map(|(u, h)| (u, format!("{h}{}", &rest[authority..])))
            else {
                return part.to_string();
            };
            match userinfo.split_once(':') {
                Some((user, pw)) => {
                    if password.is_none() && !pw.is_empty() {
                        password = Some(percent_decode(pw));
                    }
                    if user.is_empty() {
                        format!("{scheme}://{host}")
                    } else {
                        format!("{scheme}://{user}@{host}")
                    }
                }
                None => part.to_string(),
            }
        })
        .collect();
    (parts.join(","), password)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// Parses a password-free address; `master` names the Sentinel master when the URL has none.
pub fn parse(raw: &str, master: Option<&str>) -> Result<Topology, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("must not be empty".into());
    }
    if let Some(rest) = raw
        .strip_prefix("redis+sentinel://")
        .or_else(|| raw.strip_prefix("rediss+sentinel://"))
    {
        let tls = raw.starts_with("rediss+");
        let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
        let (hosts, path) = rest.split_once('/').unwrap_or((rest, ""));
        let master = Some(path.trim_matches('/'))
            .filter(|m| !m.is_empty())
            .or(master)
            .ok_or("a Sentinel URL needs the master name as its path, e.g. redis+sentinel://host:26379/mymaster")?;
        let sentinels: Vec<String> = hosts
            .split(',')
            .map(|h| with_port(h.trim(), 26379))
            .collect::<Result<_, _>>()?;
        return Ok(Topology::Sentinel {
            sentinels,
            master: master.to_string(),
            tls,
        });
    }
    let urls: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    for u in &urls {
        let parsed = url::Url::parse(u).map_err(|e| format!("`{u}` is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "redis" | "rediss") {
            return Err("must start with redis://, rediss:// or redis+sentinel://".into());
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(format!("`{u}` has no host"));
        }
    }
    match urls.as_slice() {
        [one] => Ok(Topology::Single {
            url: one.to_string(),
        }),
        many => Ok(Topology::Cluster {
            nodes: many.iter().map(|s| s.to_string()).collect(),
        }),
    }
}

fn with_port(host: &str, default: u16) -> Result<String, String> {
    if host.is_empty() {
        return Err("a Sentinel host is empty".into());
    }
    match host.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok() => Ok(host.to_string()),
        Some(_) => Err(format!("`{host}` is not host:port")),
        None => Ok(format!("{host}:{default}")),
    }
}

impl Topology {
    /// Every `host:port` this address will connect to first (for the address policy).
    pub fn hosts(&self) -> Vec<(String, u16)> {
        let from_url = |u: &str| {
            url::Url::parse(u).ok().and_then(|p| {
                Some((
                    p.host_str()?.trim_matches(['[', ']']).to_string(),
                    p.port().unwrap_or(6379),
                ))
            })
        };
        match self {
            Topology::Single { url } => from_url(url).into_iter().collect(),
            Topology::Cluster { nodes } => nodes.iter().filter_map(|u| from_url(u)).collect(),
            Topology::Sentinel { sentinels, .. } => sentinels
                .iter()
                .filter_map(|s| {
                    s.rsplit_once(':').and_then(|(h, p)| {
                        Some((h.trim_matches(['[', ']']).to_string(), p.parse().ok()?))
                    })
                })
                .collect(),
        }
    }
}

/// Names of the Redis keyspaces an address writes to, normalised so two spellings of one
/// database compare equal: `host:port/db` for a server or each Cluster node (loopback names
/// folded together), `sentinel host:port/master` for each Sentinel, `rest host:port` for a REST
/// URL. Two addresses whose names intersect share their keys.
pub fn keyspaces(rest: bool, raw: &str, master: Option<&str>) -> Vec<String> {
    let host = |h: &str| {
        let h = h.trim_matches(['[', ']']).to_ascii_lowercase();
        match h.as_str() {
            "localhost" | "127.0.0.1" | "::1" | "0.0.0.0" => "loopback".to_string(),
            _ => h,
        }
    };
    if rest {
        return url::Url::parse(raw.trim())
            .ok()
            .and_then(|u| {
                let port = u.port_or_known_default()?;
                Some(format!("rest {}:{port}", host(u.host_str()?)))
            })
            .into_iter()
            .collect();
    }
    let server = |u: &str| {
        let p = url::Url::parse(u).ok()?;
        let db = p.path().trim_matches('/');
        let db = if db.is_empty() { "0" } else { db };
        Some(format!(
            "{}:{}/{db}",
            host(p.host_str()?),
            p.port().unwrap_or(6379)
        ))
    };
    match parse(raw, master) {
        Ok(Topology::Single { url }) => server(&url).into_iter().collect(),
        Ok(Topology::Cluster { nodes }) => nodes.iter().filter_map(|n| server(n)).collect(),
        Ok(Topology::Sentinel {
            sentinels, master, ..
        }) => sentinels
            .iter()
            .filter_map(|s| {
                let (h, p) = s.rsplit_once(':')?;
                Some(format!("sentinel {}:{p}/{master}", host(h)))
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyspaces_compare_spellings_of_one_database() {
        let k = |raw: &str| keyspaces(false, raw, None);
        assert_eq!(k("redis://localhost"), k("redis://127.0.0.1:6379/0"));
        assert_eq!(k("redis://user@LOCALHOST:6379/"), ["loopback:6379/0"]);
        assert_ne!(k("redis://h:6379/1"), k("redis://h:6379/0"));
        assert_ne!(k("redis://h:6380"), k("redis://h:6379"));
        assert_eq!(
            k("redis://a:1,redis://b:2"),
            ["a:1/0".to_string(), "b:2/0".to_string()]
        );
        assert_eq!(
            k("redis+sentinel://s1:26380,s2/m"),
            ["sentinel s1:26380/m", "sentinel s2:26379/m"]
        );
        assert_eq!(
            keyspaces(true, "https://eu1.upstash.io", None),
            ["rest eu1.upstash.io:443"]
        );
    }

    #[test]
    fn passwords_are_split_out() {
        assert_eq!(
            split_password("redis://:p%40ss@h:6379/0"),
            ("redis://h:6379/0".into(), Some("p@ss".into()))
        );
        assert_eq!(
            split_password("rediss://user:pw@h"),
            ("rediss://user@h".into(), Some("pw".into()))
        );
        assert_eq!(split_password("redis://h"), ("redis://h".into(), None));
        // An `@` after the host is the path's, not the end of credentials.
        assert_eq!(
            split_password("redis://:pw@h/0?x=a@b"),
            ("redis://h/0?x=a@b".into(), Some("pw".into()))
        );
        assert_eq!(
            split_password("redis://h/a:b@c"),
            ("redis://h/a:b@c".into(), None)
        );
        assert_eq!(
            split_password("redis://:a@h1:1,redis://:a@h2:2"),
            ("redis://h1:1,redis://h2:2".into(), Some("a".into()))
        );
        assert_eq!(
            split_password("redis+sentinel://:pw@s1:26379,s2/m")
                .1
                .as_deref(),
            Some("pw")
        );
    }

    #[test]
    fn topologies() {
        assert_eq!(
            parse("redis://h:1", None),
            Ok(Topology::Single {
                url: "redis://h:1".into()
            })
        );
        assert_eq!(
            parse("redis+sentinel://s1:26380,s2/mymaster", None),
            Ok(Topology::Sentinel {
                sentinels: vec!["s1:26380".into(), "s2:26379".into()],
                master: "mymaster".into(),
                tls: false
            })
        );
        assert!(parse("redis+sentinel://s1", None).is_err());
        assert!(matches!(
            parse("redis+sentinel://s1", Some("m")),
            Ok(Topology::Sentinel { .. })
        ));
        assert!(
            matches!(parse("redis://a:1, redis://b:2", None), Ok(Topology::Cluster { nodes }) if nodes.len() == 2)
        );
        assert!(parse("http://x", None).is_err());
        assert!(parse("", None).is_err());
        assert_eq!(
            parse("redis://h", None).unwrap().hosts(),
            [("h".to_string(), 6379)]
        );
    }
}
