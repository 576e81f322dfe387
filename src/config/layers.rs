//! Reading one setting from the layers: the environment variable when set and non-empty,
//! else the TOML file's key (the variable's name in lower case without `EDGEPUB_`), else the
//! default. Every bad value is collected so all of them are reported at once, and a file key
//! no setting asked for is an error (a typo must not be silently ignored).

use super::{ConfigError, Secret};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

pub struct Layers<'a> {
    env: &'a [(String, String)],
    file: toml::Table,
    asked: RefCell<BTreeSet<String>>,
    errors: RefCell<Vec<String>>,
}

fn file_key(var: &str) -> String {
    var.strip_prefix("EDGEPUB_")
        .unwrap_or(var)
        .to_ascii_lowercase()
}

impl<'a> Layers<'a> {
    pub fn new(env: &'a [(String, String)], file: toml::Table) -> Self {
        Layers {
            env,
            file,
            asked: RefCell::default(),
            errors: RefCell::default(),
        }
    }

    pub fn error(&self, message: String) {
        self.errors.borrow_mut().push(message);
    }

    fn env(&self, var: &str) -> Option<String> {
        self.env
            .iter()
            .find(|(n, v)| n == var && !v.is_empty())
            .map(|(_, v)| v.clone())
    }

    /// The raw text of a setting; TOML arrays become comma-separated lists.
    fn raw(&self, var: &str) -> Option<String> {
        let key = file_key(var);
        self.asked.borrow_mut().insert(key.clone());
        self.env(var).or_else(|| match self.file.get(&key)? {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Array(items) => Some(
                items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), String::from))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            other => Some(other.to_string()),
        })
    }

    pub fn string(&self, var: &str) -> Option<String> {
        self.raw(var)
    }

    pub fn secret(&self, var: &str) -> Option<Secret> {
        self.raw(var).map(Secret)
    }

    pub fn path(&self, var: &str) -> Option<PathBuf> {
        self.raw(var).map(PathBuf::from)
    }

    pub fn list(&self, var: &str) -> Vec<String> {
        self.raw(var)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn addr(&self, var: &str) -> Option<SocketAddr> {
        let raw = self.raw(var)?;
        raw.parse().map_or_else(
            |_| {
                self.error(format!(
                    "{var}: `{raw}` is not an address like 127.0.0.1:8080"
                ));
                None
            },
            Some,
        )
    }

    /// A whole number `>= min`, or `None` when unset.
    pub fn optional_num<T: TryFrom<u64> + FromStr>(&self, var: &str, min: u64) -> Option<T> {
        let raw = self.raw(var)?;
        match raw.parse::<u64>() {
            Ok(n) if n >= min => T::try_from(n).ok().or_else(|| {
                self.error(format!("{var}: `{raw}` is too large"));
                None
            }),
            _ => {
                self.error(format!("{var}: `{raw}` is not a whole number >= {min}"));
                None
            }
        }
    }

    pub fn num<T: TryFrom<u64> + FromStr>(&self, var: &str, default: T, min: u64) -> T {
        self.optional_num(var, min).unwrap_or(default)
    }

    pub fn flag(&self, var: &str, default: bool) -> bool {
        self.choice(
            var,
            &[
                ("true", true),
                ("1", true),
                ("yes", true),
                ("false", false),
                ("0", false),
                ("no", false),
            ],
            default,
        )
    }

    pub fn choice<T: Copy>(&self, var: &str, options: &[(&str, T)], default: T) -> T {
        let Some(raw) = self.raw(var) else {
            return default;
        };
        match options.iter().find(|(name, _)| *name == raw) {
            Some((_, v)) => *v,
            None => {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                self.error(format!("{var}: `{raw}` is not one of {}", names.join(", ")));
                default
            }
        }
    }

    /// Fails with every problem seen, unknown file keys included.
    pub fn finish(self) -> Result<(), ConfigError> {
        let asked = self.asked.into_inner();
        let mut errors = self.errors.into_inner();
        for key in self.file.keys().filter(|k| !asked.contains(*k)) {
            errors.push(format!("config file: unknown key `{key}`"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(errors))
        }
    }
}
