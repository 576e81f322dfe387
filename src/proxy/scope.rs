//! Tenant tokens: what one project's edge may do through the proxy.
//!
//! The proxy's own token opens everything (it is the operator's). An edge gets a token bound to
//! its project's tenant instead, `tenant.{tenant}.{mac}`, where the MAC is keyed by the proxy's
//! token: the proxy checks it without any state, and an edge that holds it reaches only the
//! keys the edge contract gives its tenant (`page:{slug}` or `page:{tenant}:{slug}`, and the two
//! `seo:` keys), through commands whose keys are known. So two projects whose edges share the
//! proxy cannot read, overwrite or delete each other's pages.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::command::Command;

/// The tenant of a single-tenant project, whose keys carry no tenant part.
const DEFAULT_TENANT: &str = "_default";

/// What a request's token opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Access {
    /// The proxy's own token.
    All,
    /// A tenant token: that tenant's keys only.
    Tenant(String),
}

/// The token an edge of `tenant` uses, derived from the proxy's token.
pub fn tenant_token(proxy_token: &str, tenant: &str) -> String {
    let tag = keyed(proxy_token, tenant).finalize().into_bytes();
    format!("tenant.{tenant}.{}", hex::encode(tag))
}

fn keyed(proxy_token: &str, tenant: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(proxy_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(b"edgepub-proxy-tenant:");
    m.update(tenant.as_bytes());
    m
}

/// The tenant a presented token is valid for, checked in constant time.
pub(crate) fn tenant_of(proxy_token: &str, presented: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(presented).ok()?;
    let (tenant, tag) = text.strip_prefix("tenant.")?.rsplit_once('.')?;
    let tag = hex::decode(tag).ok()?;
    keyed(proxy_token, tenant).verify_slice(&tag).ok()?;
    Some(tenant.to_string())
}

/// Why a tenant token may not run `cmd`; `None` when every key it names is the tenant's.
pub(crate) fn refusal(tenant: &str, cmd: &Command) -> Option<String> {
    let name = cmd.name();
    let args = cmd.args();
    let keys: Vec<&[u8]> = match name.as_str() {
        "PING" | "ECHO" => Vec::new(),
        "GET" | "SET" | "SETEX" | "PSETEX" | "GETEX" | "GETDEL" | "EXPIRE" | "PEXPIRE" | "TTL"
        | "PTTL" | "PERSIST" | "TYPE" | "STRLEN" => {
            args.first().map(Vec::as_slice).into_iter().collect()
        }
        "DEL" | "UNLINK" | "EXISTS" | "MGET" => args.iter().map(Vec::as_slice).collect(),
        "MSET" => args.iter().step_by(2).map(Vec::as_slice).collect(),
        _ => {
            return Some(format!(
                "ERR command '{name}' is not open to a tenant token: it runs only key commands \
                 (GET, SET, DEL, EXPIRE, MGET, …) on its own tenant's keys"
            ))
        }
    };
    let foreign = keys.into_iter().find(|k| !owns(tenant, k))?;
    Some(format!(
        "ERR key '{}' is not tenant '{tenant}''s: a tenant token reaches only its own page and seo keys",
        String::from_utf8_lossy(foreign)
    ))
}

/// Whether `key` is one the edge contract gives `tenant`.
fn owns(tenant: &str, key: &[u8]) -> bool {
    let Ok(key) = std::str::from_utf8(key) else {
        return false;
    };
    let one_segment = |rest: &str| !rest.is_empty() && !rest.contains(':');
    if tenant == DEFAULT_TENANT {
        matches!(key, "seo:sitemap" | "seo:llms")
            || key.strip_prefix("page:").is_some_and(one_segment)
    } else {
        key == format!("seo:sitemap:{tenant}")
            || key == format!("seo:llms:{tenant}")
            || key
                .strip_prefix("page:")
                .and_then(|k| k.strip_prefix(tenant))
                .and_then(|k| k.strip_prefix(':'))
                .is_some_and(one_segment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(parts: &[&str]) -> Command {
        let body = serde_json::to_vec(parts).expect("json");
        super::super::command::parse_single(&body).expect("command")
    }

    #[test]
    fn a_token_names_its_tenant_and_nothing_else_passes() {
        let t = tenant_token("proxy-secret", "acme");
        assert_eq!(
            tenant_of("proxy-secret", t.as_bytes()).as_deref(),
            Some("acme")
        );
        assert_eq!(tenant_of("other-secret", t.as_bytes()), None);
        let forged = t.replace("tenant.acme.", "tenant.beta.");
        assert_eq!(tenant_of("proxy-secret", forged.as_bytes()), None);
        assert_eq!(tenant_of("proxy-secret", b"proxy-secret"), None);
    }

    #[test]
    fn a_tenant_reaches_only_its_keys() {
        for ok in [
            &["GET", "page:acme:home"][..],
            &["SET", "page:acme:__homepage__", "{}", "EX", "60"],
            &["DEL", "page:acme:a", "seo:sitemap:acme", "seo:llms:acme"],
            &["MSET", "page:acme:a", "1", "page:acme:b", "2"],
            &["PING"],
        ] {
            assert_eq!(refusal("acme", &cmd(ok)), None, "{ok:?}");
        }
        for bad in [
            &["GET", "page:home"][..],
            &["GET", "page:acmex:home"],
            &["GET", "page:acme:a:b"],
            &["DEL", "page:acme:a", "page:beta:a"],
            &["MSET", "page:acme:a", "page:beta:a", "page:beta:b", "x"],
            &["GET", "seo:sitemap"],
            &["KEYS", "*"],
            &["SCAN", "0"],
            &["FLUSHDB"],
            &["RENAME", "page:acme:a", "page:beta:a"],
        ] {
            assert!(refusal("acme", &cmd(bad)).is_some(), "{bad:?}");
        }
        assert_eq!(refusal(DEFAULT_TENANT, &cmd(&["GET", "page:home"])), None);
        assert_eq!(refusal(DEFAULT_TENANT, &cmd(&["GET", "seo:llms"])), None);
        assert!(refusal(DEFAULT_TENANT, &cmd(&["GET", "page:acme:home"])).is_some());
        assert!(refusal(DEFAULT_TENANT, &cmd(&["GET", "seo:llms:acme"])).is_some());
    }
}
