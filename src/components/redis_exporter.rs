//! redis_exporter: Redis metrics.
//!
//! Its settings under `components.redis_exporter` and its catalog entry.

use super::Kind;
use crate::model::catalog::{Info, tcp};
use crate::model::components::component;

component!(
    /// redis_exporter: Redis metrics.
    RedisExporter {
        /// Redis address, e.g. `redis://redis:6379`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<String>,
        /// Secret whose file is redis_exporter's password file
        /// (`--redis.password-file`): a JSON object from the Redis address to
        /// its password, e.g. `{"redis://redis:6379": "PASSWORD"}`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password_secret: Option<String>,
    }
);

pub static INFO: Info = Info {
    kind: Kind::RedisExporter,
    key: "redis_exporter",
    service: "redis-exporter",
    image: "oliver006/redis_exporter",
    version: "v1.88.0",
    ports: &[tcp("metrics", 9121)],
    metrics: Some(("metrics", "/metrics")),
    ready: Some(("metrics", "/health")),
    data_dir: None,
    uid: 59000,
    datasource_port: None,
    exporter: true,
    reload_metric: None,
    up_gauge: Some("redis_up"),
};
