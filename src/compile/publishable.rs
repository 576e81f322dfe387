//! Keeps secrets out of published datasource configs.
//!
//! The contract allows only what is safe to publish: a URL without credentials, a Supabase
//! anon key, and the *name* of the edge environment variable that holds a secret. What can be
//! repaired is (credentials cut from URLs, anon keys on non-Supabase sources dropped) with a
//! warning; what cannot (a Supabase secret or service-role key given as the anon key, a value
//! where an env var name belongs) is dropped and reported as an error so the publish stops.

use serde_json::Value;

use super::diagnostics::{Code, Diagnostic};
use super::model::{Datasource, DatasourceKind};

/// Query parameter names that carry credentials.
const SECRET_PARAMS: [&str; 8] = [
    "password", "passwd", "pwd", "pass", "secret", "key", "apikey", "api_key",
];

/// The publishable copy of each datasource, with what had to change.
pub fn publishable_datasources(list: &[Datasource]) -> (Vec<Datasource>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut report = |i: usize, field: &str, code: Code, message: String| {
        diags.push(Diagnostic::new(
            None,
            &format!("/datasources/{i}/{field}"),
            code,
            message,
        ));
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, ds) in list.iter().enumerate() {
        let mut ds = ds.clone();
        if let Some(url) = &ds.url {
            let clean = strip_url_credentials(url);
            if &clean != url {
                let message = format!("credentials removed from the url of datasource {:?}", ds.id);
                report(i, "url", Code::DatasourceCredentialsRemoved, message);
                ds.url = Some(clean);
            }
        }
        if ds.anon_key.is_some() && ds.kind != DatasourceKind::Supabase {
            let message = format!(
                "{} datasource {:?} has an anonKey; only Supabase anon keys are public, so it was dropped",
                ds.kind.as_str(),
                ds.id
            );
            report(i, "anonKey", Code::DatasourceCredentialsRemoved, message);
            ds.anon_key = None;
        }
        if ds.anon_key.as_deref().is_some_and(is_secret_supabase_key) {
            let message = format!(
                "the anonKey of datasource {:?} is a secret (service-role) key; use the anon key",
                ds.id
            );
            report(i, "anonKey", Code::SecretInDatasource, message);
            ds.anon_key = None;
        }
        if ds
            .secret_env_var
            .as_deref()
            .is_some_and(|v| !is_env_var_name(v))
        {
            let message = format!(
                "secretEnvVar of datasource {:?} must name an environment variable, not hold a value",
                ds.id
            );
            report(i, "secretEnvVar", Code::SecretInDatasource, message);
            ds.secret_env_var = None;
        }
        out.push(ds);
    }
    (out, diags)
}

/// Removes a `user:password@` part and credential query parameters from `url`.
pub fn strip_url_credentials(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let (head, rest) = url.split_at(scheme_end);
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => host,
        _ => authority,
    };
    let (before_fragment, fragment) = match tail.find('#') {
        Some(i) => tail.split_at(i),
        None => (tail, ""),
    };
    let tail = match before_fragment.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|pair| !pair.is_empty() && !is_secret_param(pair))
                .collect();
            if kept.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
        None => before_fragment.to_owned(),
    };
    format!("{head}{authority}{tail}{fragment}")
}

fn is_secret_param(pair: &str) -> bool {
    let name = pair
        .split('=')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    SECRET_PARAMS.contains(&name.as_str())
        || ["token", "secret", "password"]
            .iter()
            .any(|word| name.contains(word))
}

fn is_env_var_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Supabase secret keys: the new `sb_secret_` keys, or a legacy JWT whose role is
/// `service_role`.
pub fn is_secret_supabase_key(key: &str) -> bool {
    let key = key.trim();
    if key.starts_with("sb_secret_") {
        return true;
    }
    let mut parts = key.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    base64url_decode(payload)
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .is_some_and(|claims| claims.get("role").and_then(Value::as_str) == Some("service_role"))
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
