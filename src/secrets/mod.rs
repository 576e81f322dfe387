//! Secrets at rest: XChaCha20-Poly1305 with a 256-bit key.
//!
//! The key comes from `EDGEPUB_SECRET_KEY` (base64 or hex of 32 bytes) or, for the embedded
//! default, from `<data dir>/secret.key`, generated once with mode 0600. A sealed value is
//! `v1.<key id>.<base64(nonce ‖ ciphertext)>`; the key id lets a keyring hold the previous key
//! during rotation so nothing becomes unreadable if a rotation is interrupted.

mod keyfile;

pub use keyfile::{
    create_key_file, existing_keyring, forget_previous, load_keyring, parse_keys, rotate_file_key,
    KEY_FILE,
};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("EDGEPUB_SECRET_KEY must be 32 bytes, base64 or hex encoded")]
    BadKey,
    #[error("secret key file {0}: {1}")]
    KeyFile(String, std::io::Error),
    #[error("a stored secret was sealed with key {0}, which is not loaded")]
    UnknownKey(String),
    #[error("a stored secret is corrupt or was sealed with another key")]
    Corrupt,
    #[error(
        "this database's secrets are sealed with key {0}, which this process does not have: give \
         every replica the same EDGEPUB_SECRET_KEY (several comma-separated keys may be given \
         while rolling onto a new one: the first seals, all open)"
    )]
    MissingKey(String),
}

/// A 256-bit key; `Debug` shows only its id.
#[derive(Clone)]
pub struct Key {
    bytes: [u8; 32],
    id: String,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", self.id)
    }
}

impl Key {
    pub fn generate() -> Key {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Key::from_bytes(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Key {
        let id = hex::encode(&Sha256::digest(bytes)[..4]);
        Key { bytes, id }
    }

    /// Parses base64 (standard or URL-safe) or hex.
    pub fn parse(text: &str) -> Result<Key, SecretError> {
        let text = text.trim();
        let decoded = hex::decode(text)
            .ok()
            .or_else(|| B64.decode(text).ok())
            .or_else(|| base64::engine::general_purpose::URL_SAFE.decode(text).ok());
        let bytes: [u8; 32] = decoded
            .and_then(|d| d.try_into().ok())
            .ok_or(SecretError::BadKey)?;
        Ok(Key::from_bytes(bytes))
    }

    pub fn encode(&self) -> String {
        B64.encode(self.bytes)
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The current key (seals) and any previous keys (still open what they sealed).
#[derive(Clone, Debug)]
pub struct Keyring {
    current: Key,
    previous: Vec<Key>,
}

impl Keyring {
    pub fn new(current: Key, previous: Vec<Key>) -> Keyring {
        Keyring { current, previous }
    }

    pub fn current(&self) -> &Key {
        &self.current
    }

    /// Every key, the sealing one first.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    /// Whether a key with this id is loaded.
    pub fn has(&self, id: &str) -> bool {
        self.keys().any(|k| k.id == id)
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new((&self.current.bytes).into());
        // Encryption with a valid key and nonce cannot fail for in-memory buffers.
        let ct = cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
            .unwrap_or_default();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        format!("v1.{}.{}", self.current.id, B64.encode(blob))
    }

    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some("v1"), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SecretError::Corrupt);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| SecretError::UnknownKey(id.to_string()))?;
        let blob = B64.decode(body).map_err(|_| SecretError::Corrupt)?;
        if blob.len() < 24 {
            return Err(SecretError::Corrupt);
        }
        let (nonce, ct) = blob.split_at(24);
        let cipher = XChaCha20Poly1305::new((&key.bytes).into());
        let pt = cipher
            .decrypt(XNonce::from_slice(nonce), ct)
            .map_err(|_| SecretError::Corrupt)?;
        String::from_utf8(pt).map_err(|_| SecretError::Corrupt)
    }

    /// True when `sealed` is already under the current key.
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed.split('.').nth(1) == Some(self.current.id.as_str())
    }
}

/// What a GET shows of a secret: whether one is set and its last four characters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SecretHint {
    pub set: bool,
    pub last4: Option<String>,
}

impl SecretHint {
    pub fn of(secret: Option<&str>) -> SecretHint {
        match secret {
            Some(s) if !s.is_empty() => {
                let chars: Vec<char> = s.chars().collect();
                // Short secrets would be given away by their last four characters.
                let last4 = (chars.len() >= 12).then(|| chars[chars.len() - 4..].iter().collect());
                SecretHint { set: true, last4 }
            }
            _ => SecretHint {
                set: false,
                last4: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_rotation() {
        let old = Key::generate();
        let ring = Keyring::new(old.clone(), vec![]);
        let sealed = ring.seal("s3cret-token");
        assert!(!sealed.contains("s3cret"));
        assert_ne!(sealed, ring.seal("s3cret-token"), "fresh nonce each time");
        assert_eq!(ring.open(&sealed).unwrap(), "s3cret-token");

        let rotated = Keyring::new(Key::generate(), vec![old]);
        assert_eq!(rotated.open(&sealed).unwrap(), "s3cret-token");
        assert!(!rotated.is_current(&sealed));
        let other = Keyring::new(Key::generate(), vec![]);
        assert!(matches!(
            other.open(&sealed),
            Err(SecretError::UnknownKey(_))
        ));
        let mut tampered = sealed.clone();
        tampered.replace_range(sealed.len() - 3.., "AAA");
        assert!(ring.open(&tampered).is_err());
    }

    #[test]
    fn keys_parse_and_hints() {
        let k = Key::generate();
        assert_eq!(Key::parse(&k.encode()).unwrap().id(), k.id());
        assert_eq!(
            Key::parse(&hex::encode([7u8; 32])).unwrap().id(),
            Key::from_bytes([7; 32]).id()
        );
        assert!(Key::parse("short").is_err());
        assert!(!format!("{k:?}").contains(&k.encode()));
        assert_eq!(
            SecretHint::of(Some("abcdefghijkl-wxyz")).last4.as_deref(),
            Some("wxyz")
        );
        assert_eq!(
            SecretHint::of(Some("tiny")),
            SecretHint {
                set: true,
                last4: None
            }
        );
        assert!(!SecretHint::of(None).set);
    }
}
