//! Where the key lives: the environment, or a 0600 file in the data directory.

use super::{Key, Keyring, SecretError};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const KEY_FILE: &str = "secret.key";
const PREVIOUS_FILE: &str = "secret.key.previous";

/// Parses `EDGEPUB_SECRET_KEY`: one key, or several comma-separated (the first seals, all
/// open), so replicas can be rolled onto a new key one by one.
pub fn parse_keys(text: &str) -> Result<Vec<Key>, SecretError> {
    let keys: Vec<Key> = text
        .split(',')
        .filter(|k| !k.trim().is_empty())
        .map(Key::parse)
        .collect::<Result<_, _>>()?;
    if keys.is_empty() {
        return Err(SecretError::BadKey);
    }
    Ok(keys)
}

/// The keyring from `EDGEPUB_SECRET_KEY` or an existing key file, without creating anything.
/// A previous key file left by a rotation stays readable.
pub fn existing_keyring(
    env_key: Option<&str>,
    data_dir: &Path,
) -> Result<Option<Keyring>, SecretError> {
    let mut previous: Vec<Key> = read_key(&data_dir.join(PREVIOUS_FILE))?
        .into_iter()
        .collect();
    if let Some(text) = env_key {
        let mut keys = parse_keys(text)?;
        let current = keys.remove(0);
        keys.append(&mut previous);
        return Ok(Some(Keyring::new(current, keys)));
    }
    Ok(read_key(&data_dir.join(KEY_FILE))?.map(|k| Keyring::new(k, previous)))
}

/// Generates the key file of a new installation.
pub fn create_key_file(data_dir: &Path) -> Result<Keyring, SecretError> {
    let key = Key::generate();
    write_key(&data_dir.join(KEY_FILE), &key, true)?;
    Ok(Keyring::new(key, Vec::new()))
}

/// Loads the keyring: `EDGEPUB_SECRET_KEY` when given, else the key file (created on first
/// use).
pub fn load_keyring(env_key: Option<&str>, data_dir: &Path) -> Result<Keyring, SecretError> {
    match existing_keyring(env_key, data_dir)? {
        Some(k) => Ok(k),
        None => create_key_file(data_dir),
    }
}

fn read_key(path: &Path) -> Result<Option<Key>, SecretError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Key::parse(&text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SecretError::KeyFile(path.display().to_string(), e)),
    }
}

/// Writes a key readable by the owner only; `create_new` refuses to overwrite.
fn write_key(path: &Path, key: &Key, create_new: bool) -> Result<(), SecretError> {
    let err = |e| SecretError::KeyFile(path.display().to_string(), e);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if create_new {
        opts.create_new(true);
    } else {
        opts.create(true).truncate(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(err)?;
    f.write_all(key.encode().as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)
}

/// Starts a file-key rotation: the current key becomes the previous one and a new key the
/// current one. Secrets sealed under either stay readable until they are re-sealed.
pub fn rotate_file_key(data_dir: &Path, old: &Keyring) -> Result<Keyring, SecretError> {
    let new = Key::generate();
    let previous = data_dir.join(PREVIOUS_FILE);
    write_key(&previous, old.current(), false)?;
    let tmp: PathBuf = data_dir.join(format!("{KEY_FILE}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    write_key(&tmp, &new, true)?;
    std::fs::rename(&tmp, data_dir.join(KEY_FILE))
        .map_err(|e| SecretError::KeyFile(tmp.display().to_string(), e))?;
    Ok(Keyring::new(new, vec![old.current().clone()]))
}

/// Removes the previous key once nothing sealed under it remains.
pub fn forget_previous(data_dir: &Path) -> Result<(), SecretError> {
    match std::fs::remove_file(data_dir.join(PREVIOUS_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(SecretError::KeyFile(PREVIOUS_FILE.into(), e))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_once_with_0600() {
        let dir = std::env::temp_dir().join(format!("edgepub-key-{}", uuid::Uuid::new_v4()));
        let ring = load_keyring(None, &dir).unwrap();
        let again = load_keyring(None, &dir).unwrap();
        assert_eq!(ring.current().id(), again.current().id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let sealed = ring.seal("x");
        let rotated = rotate_file_key(&dir, &ring).unwrap();
        let reloaded = load_keyring(None, &dir).unwrap();
        assert_eq!(reloaded.current().id(), rotated.current().id());
        assert_eq!(reloaded.open(&sealed).unwrap(), "x");
        forget_previous(&dir).unwrap();
        assert!(load_keyring(None, &dir).unwrap().open(&sealed).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
