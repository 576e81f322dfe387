//! Redis over TCP: one server (auto-reconnecting connection manager), Sentinel (the master is
//! looked up again after a failure) or Cluster.

mod cluster;
mod convert;

pub(crate) use convert::redis_error;
use convert::{to_cmd, to_reply, with_password};

use super::{protocol, Bulk, Cache, Cmd, Reply};
use crate::domain::redis_url::{self, Topology};
use crate::domain::settings::CacheSettings;
use crate::net::NetPolicy;
use crate::net::{classify, ConnError, ErrorKind, ServerInfo};
use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{AsyncConnectionConfig, RedisConnectionInfo, Value};
use std::time::Duration;
use tokio::sync::Mutex;

// The Sentinel variant is larger, but there is one of these per cache client.
#[allow(clippy::large_enum_variant)]
enum Conn {
    Single {
        manager: ConnectionManager,
        /// Kept for bulk connections (see [`Cache::bulk`]).
        client: redis::Client,
    },
    Sentinel {
        client: Mutex<SentinelClient>,
        conn: Mutex<Option<MultiplexedConnection>>,
        config: AsyncConnectionConfig,
    },
    Cluster(ClusterConnection),
}

pub struct RedisCache {
    conn: Conn,
    topology: Topology,
    timeout: Duration,
}

impl RedisCache {
    pub async fn connect(
        s: &CacheSettings,
        policy: NetPolicy,
        timeout: Duration,
    ) -> Result<RedisCache, ConnError> {
        let raw = s
            .redis_url
            .as_deref()
            .ok_or_else(|| ConnError::new(ErrorKind::Invalid, "no Redis URL is set"))?;
        let topology = redis_url::parse(raw, s.redis_master_name.as_deref())
            .map_err(|m| ConnError::new(ErrorKind::Invalid, m))?;
        for (host, port) in topology.hosts() {
            policy.resolve(&host, port).await?;
        }
        let pw = s.redis_password.as_deref();
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let conn = match &topology {
            Topology::Single { url } => {
                let client =
                    redis::Client::open(with_password(url, pw)?).map_err(|e| redis_error(&e))?;
                let mc = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(Some(timeout))
                    .set_number_of_retries(1);
                Conn::Single {
                    manager: ConnectionManager::new_with_config(client.clone(), mc)
                        .await
                        .map_err(|e| redis_error(&e))?,
                    client,
                }
            }
            Topology::Sentinel {
                sentinels,
                master,
                tls,
            } => {
                let scheme = if *tls { "rediss" } else { "redis" };
                let urls: Vec<String> = sentinels
                    .iter()
                    .map(|h| format!("{scheme}://{h}"))
                    .collect();
                let mut node = SentinelNodeConnectionInfo::default();
                if let Some(pw) = pw {
                    node = node
                        .set_redis_connection_info(RedisConnectionInfo::default().set_password(pw));
                }
                let mut client = SentinelClient::build(
                    urls,
                    master.clone(),
                    Some(node),
                    SentinelServerType::Master,
                )
                .map_err(|e| redis_error(&e))?;
                let first = client
                    .get_async_connection_with_config(&config)
                    .await
                    .map_err(|e| redis_error(&e))?;
                Conn::Sentinel {
                    client: Mutex::new(client),
                    conn: Mutex::new(Some(first)),
                    config,
                }
            }
            Topology::Cluster { nodes } => {
                let mut b = redis::cluster::ClusterClient::builder(nodes.clone())
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .retries(1);
                if let Some(pw) = pw {
                    b = b.password(pw);
                }
                let client = b.build().map_err(|e| redis_error(&e))?;
                Conn::Cluster(
                    client
                        .get_async_connection()
                        .await
                        .map_err(|e| redis_error(&e))?,
                )
            }
        };
        Ok(RedisCache {
            conn,
            topology,
            timeout,
        })
    }

    async fn run(&self, pipe: &redis::Pipeline) -> Result<Vec<Value>, ConnError> {
        match &self.conn {
            Conn::Single { manager: m, .. } => pipe
                .query_async(&mut m.clone())
                .await
                .map_err(|e| redis_error(&e)),
            Conn::Cluster(c) => pipe
                .query_async(&mut c.clone())
                .await
                .map_err(|e| redis_error(&e)),
            Conn::Sentinel {
                client,
                conn,
                config,
            } => {
                let mut guard = conn.lock().await;
                if guard.is_none() {
                    let fresh = client
                        .lock()
                        .await
                        .get_async_connection_with_config(config)
                        .await
                        .map_err(|e| redis_error(&e))?;
                    *guard = Some(fresh);
                }
                let Some(c) = guard.as_mut() else {
                    return Err(protocol("connect"));
                };
                let result = pipe.query_async(c).await;
                if result
                    .as_ref()
                    .is_err_and(|e| e.is_io_error() || e.is_connection_dropped() || e.is_timeout())
                {
                    // The master may have moved: ask the sentinels again next time.
                    *guard = None;
                }
                result.map_err(|e| redis_error(&e))
            }
        }
    }

    /// Masters of a cluster as (host, port), from CLUSTER SHARDS-independent `CLUSTER NODES`.
    async fn masters(&self, c: &ClusterConnection) -> Result<Vec<(String, u16)>, ConnError> {
        let text: String = redis::cmd("CLUSTER")
            .arg("NODES")
            .query_async(&mut c.clone())
            .await
            .map_err(|e| redis_error(&e))?;
        Ok(text
            .lines()
            .filter(|l| {
                l.split(' ')
                    .nth(2)
                    .is_some_and(|f| f.contains("master") && !f.contains("fail"))
            })
            .filter_map(|l| {
                let addr = l.split(' ').nth(1)?.split('@').next()?;
                let (h, p) = addr.rsplit_once(':')?;
                Some((h.to_string(), p.parse().ok()?))
            })
            .collect())
    }
}

fn info_field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

#[async_trait]
impl Cache for RedisCache {
    async fn exec(&self, cmds: &[Cmd]) -> Result<Vec<Reply>, ConnError> {
        if let Conn::Cluster(conn) = &self.conn {
            return cluster::exec_by_slot(conn, cmds).await;
        }
        let mut pipe = redis::pipe();
        for c in cmds {
            pipe.add_command(to_cmd(c));
        }
        // Per-command errors come back as values instead of failing the whole pipeline.
        pipe.ignore_errors();
        Ok(self.run(&pipe).await?.into_iter().map(to_reply).collect())
    }

    async fn server_info(&self) -> Result<ServerInfo, ConnError> {
        let replies = self
            .exec(&[Cmd::new(["PING"]), Cmd::new(["INFO", "server"])])
            .await?;
        // A cluster routes INFO to every node and answers node -> text pairs; any node will do.
        let info = match replies.get(1) {
            Some(Reply::Array(pairs)) => pairs
                .iter()
                .find(|r| r.as_text().is_some_and(|t| t.contains("redis_version"))),
            other => other,
        };
        match (replies.first(), info) {
            (Some(Reply::Error(e)), _) | (_, Some(Reply::Error(e))) => Err(classify(e, None)),
            (_, Some(Reply::Text(info))) => {
                let mode = match self.topology {
                    Topology::Sentinel { .. } => Some("sentinel".to_string()),
                    _ => info_field(info, "redis_mode").map(String::from),
                };
                Ok(ServerInfo {
                    kind: "redis".into(),
                    version: info_field(info, "redis_version").map(String::from),
                    mode,
                })
            }
            _ => Err(protocol("INFO")),
        }
    }

    /// A blocking connection to the one server (or Sentinel's current master) that commands
    /// go to; a cluster spreads keys over several, so it has none.
    async fn bulk(&self) -> Result<Option<Box<dyn Bulk>>, ConnError> {
        let client = match &self.conn {
            Conn::Single { client, .. } => client.clone(),
            Conn::Sentinel { client, .. } => client
                .lock()
                .await
                .async_get_client()
                .await
                .map_err(|e| redis_error(&e))?,
            Conn::Cluster(_) => return Ok(None),
        };
        let timeout = self.timeout;
        let conn = tokio::task::spawn_blocking(move || {
            let conn = client.get_connection_with_timeout(timeout)?;
            conn.set_read_timeout(Some(timeout))?;
            conn.set_write_timeout(Some(timeout))?;
            Ok::<_, redis::RedisError>(conn)
        })
        .await
        .map_err(|_| protocol("connect"))?
        .map_err(|e| redis_error(&e))?;
        Ok(Some(Box::new(SyncConn(conn))))
    }

    async fn scan(&self, pattern: &str) -> Result<Vec<String>, ConnError> {
        let Conn::Cluster(c) = &self.conn else {
            return super::scan_keys(self, pattern).await;
        };
        use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
        let mut keys = Vec::new();
        for (host, port) in self.masters(c).await? {
            let mut cursor = 0u64;
            loop {
                let mut cmd = redis::cmd("SCAN");
                cmd.arg(cursor)
                    .arg("MATCH")
                    .arg(pattern)
                    .arg("COUNT")
                    .arg(500);
                let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                    host: host.clone(),
                    port,
                });
                let v = c
                    .clone()
                    .route_command(cmd, route)
                    .await
                    .map_err(|e| redis_error(&e))?;
                let (next, batch): (u64, Vec<String>) =
                    redis::from_redis_value(v).map_err(|_| protocol("SCAN"))?;
                keys.extend(batch);
                cursor = next;
                if cursor == 0 {
                    break;
                }
            }
        }
        Ok(keys)
    }
}

struct SyncConn(redis::Connection);

impl Bulk for SyncConn {
    fn send(&mut self, packed: &[u8], count: usize) -> Result<Vec<Reply>, ConnError> {
        use redis::ConnectionLike;
        let values = self
            .0
            .req_packed_commands(packed, 0, count)
            .map_err(|e| redis_error(&e))?;
        Ok(values.into_iter().map(to_reply).collect())
    }
}
