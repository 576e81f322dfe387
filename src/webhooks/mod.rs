//! The Standard Webhooks signing scheme (<https://www.standardwebhooks.com>), used both ways:
//! verifying the publish webhook CI systems send, and signing the events edgepub sends.
//!
//! Secrets are shown as `whsec_<base64 key>`; a message is signed as
//! `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, and a `webhook-signature` header
//! may carry several space-separated signatures (during a secret rotation).

pub mod delivery;
pub mod events;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// How far a message's timestamp may be from now, either way (replay protection).
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// A new random secret in its `whsec_` form.
pub fn generate_secret() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("whsec_{}", B64.encode(key))
}

fn key_of(secret: &str) -> Option<Vec<u8>> {
    B64.decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()
}

fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// The `webhook-signature` value for a message.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let tag = mac(&key_of(secret)?, id, timestamp, body)?
        .finalize()
        .into_bytes();
    Some(format!("v1,{}", B64.encode(tag)))
}

/// Why a message was refused. Callers answer every one of them the same way (401), so a
/// sender learns nothing about which part was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    MissingHeaders,
    Stale,
    BadSignature,
}

/// Checks a message against any of `secrets`: the timestamp within the tolerance of `now`,
/// and one `v1` signature that matches (compared in constant time).
pub fn verify(
    secrets: &[String],
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: i64,
) -> Result<(), Refused> {
    if id.is_empty() || signatures.is_empty() {
        return Err(Refused::MissingHeaders);
    }
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| Refused::MissingHeaders)?;
    if (now - ts).abs() > TOLERANCE_SECS {
        return Err(Refused::Stale);
    }
    let given: Vec<Vec<u8>> = signatures
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|s| B64.decode(s).ok())
        .collect();
    for secret in secrets {
        let Some(key) = key_of(secret) else { continue };
        for sig in &given {
            if mac(&key, id, ts, body).is_some_and(|m| m.verify_slice(sig).is_ok()) {
                return Ok(());
            }
        }
    }
    Err(Refused::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_like_the_reference() {
        // The Standard Webhooks reference test vector.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let ok = verify(
            &[secret.into()],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            &format!("v1,bogus {sig}"),
            body,
            1614265330 + 60,
        );
        assert_eq!(ok, Ok(()));
        let stale = verify(
            &[secret.into()],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            &sig,
            body,
            1614265330 + 301,
        );
        assert_eq!(stale, Err(Refused::Stale));
        let tampered = verify(
            &[secret.into()],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            &sig,
            b"{}",
            1614265330,
        );
        assert_eq!(tampered, Err(Refused::BadSignature));
        let other = generate_secret();
        assert_eq!(
            verify(
                &[other.clone(), secret.into()],
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                "1614265330",
                &sig,
                body,
                1614265330
            ),
            Ok(())
        );
        assert!(other.starts_with("whsec_"));
    }
}
