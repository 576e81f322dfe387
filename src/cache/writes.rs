//! A drain's outbox operations as cache writes, their values borrowed from the compiled pages
//! they are sliced from. Each backend encodes them its own way: as [`Cmd`]s (Upstash, Cluster)
//! or straight into a RESP pipeline buffer, where a ~50 KB page value is copied once.

use super::values::{homepage_value, PageValue};
use super::Cmd;
use crate::store::blobs::BlobRef;
use crate::store::outbox::OutboxOp;
use crate::store::StoreError;
use rand::Rng;
use std::collections::HashMap;

/// A page key's time to live: `secs` plus up to `jitter` random seconds.
#[derive(Debug, Clone, Copy)]
pub struct Ttl {
    pub secs: u64,
    pub jitter: u64,
}

pub enum Value<'a> {
    Page(PageValue<'a>),
    Whole(String),
}

pub enum Write<'a> {
    Unlink(&'a str),
    Set {
        key: &'a str,
        value: Value<'a>,
        secs: u64,
    },
}

/// The writes for `ops`, in order; `blobs` holds their compiled pages by content hash.
pub fn writes<'a>(
    ops: &'a [OutboxOp],
    blobs: &HashMap<&str, BlobRef<'a>>,
    ttl: Ttl,
) -> Result<Vec<Write<'a>>, StoreError> {
    let mut rng = rand::thread_rng();
    ops.iter()
        .map(|op| {
            if op.op == "del" {
                return Ok(Write::Unlink(&op.cache_key));
            }
            let hash = op.content_hash.as_deref().unwrap_or_default();
            let blob = blobs
                .get(hash)
                .ok_or_else(|| StoreError::Corrupt(format!("compiled page {hash} is missing")))?;
            let at = op.published_at.as_deref().unwrap_or_default();
            let value = if op.op == "homepage" {
                homepage_value(blob.body, op.version.unwrap_or(1), at).map(Value::Whole)
            } else {
                PageValue::new(blob.body, blob.layout, at).map(Value::Page)
            }
            .map_err(|e| StoreError::Corrupt(format!("compiled page {hash}: {e}")))?;
            let secs = ttl.secs
                + if ttl.jitter > 0 {
                    rng.gen_range(0..=ttl.jitter)
                } else {
                    0
                };
            Ok(Write::Set {
                key: &op.cache_key,
                value,
                secs,
            })
        })
        .collect()
}

impl Write<'_> {
    pub fn to_cmd(&self) -> Cmd {
        match self {
            Write::Unlink(key) => Cmd::new(["UNLINK", key]),
            Write::Set { key, value, secs } => Cmd(vec![
                "SET".into(),
                (*key).into(),
                match value {
                    Value::Page(v) => v.text(),
                    Value::Whole(v) => v.clone(),
                },
                "EX".into(),
                secs.to_string(),
            ]),
        }
    }

    /// Appends the write as a RESP command (an array of bulk strings) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Write::Unlink(key) => {
                out.extend_from_slice(b"*2\r\n$6\r\nUNLINK\r\n");
                bulk(out, key.as_bytes());
            }
            Write::Set { key, value, secs } => {
                out.extend_from_slice(b"*5\r\n$3\r\nSET\r\n");
                bulk(out, key.as_bytes());
                match value {
                    Value::Page(v) => {
                        header(out, v.len());
                        v.write_to(out);
                        out.extend_from_slice(b"\r\n");
                    }
                    Value::Whole(v) => bulk(out, v.as_bytes()),
                }
                out.extend_from_slice(b"$2\r\nEX\r\n");
                bulk(out, itoa::Buffer::new().format(*secs).as_bytes());
            }
        }
    }
}

fn header(out: &mut Vec<u8>, len: usize) {
    out.push(b'$');
    out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn bulk(out: &mut Vec<u8>, bytes: &[u8]) {
    header(out, bytes.len());
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RESP as redis-rs packs the same command: the reference encoding.
    fn packed(cmd: &Cmd) -> Vec<u8> {
        let mut c = redis::cmd(&cmd.0[0]);
        for a in &cmd.0[1..] {
            c.arg(a);
        }
        c.get_packed_command()
    }

    #[test]
    fn resp_encoding_matches_the_command_redis_rs_would_send() {
        let blob = serde_json::json!({"id": "p", "slug": "a", "name": "ü \"q\"\r\n",
            "layoutData": {"content": []}, "isPublic": true, "isHomepage": false})
        .to_string();
        let writes = [
            Write::Unlink("page:gone"),
            Write::Set {
                key: "page:a",
                value: Value::Page(
                    PageValue::new(&blob, None, "2026-01-01T00:00:00.000Z").unwrap(),
                ),
                secs: 600,
            },
            Write::Set {
                key: "t:x:page:__homepage__",
                value: Value::Whole("{\"x\":1}".into()),
                secs: 7,
            },
        ];
        let mut out = Vec::new();
        let mut expected = Vec::new();
        for w in &writes {
            w.encode(&mut out);
            expected.extend(packed(&w.to_cmd()));
        }
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&expected)
        );
    }
}
