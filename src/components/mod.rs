//! One module per component, and the registry that ties them together.
//!
//! Each module holds what stackctl knows about one component: its settings
//! under `components:` and its catalog entry (image, pinned release, ports,
//! data directory, metrics and readiness endpoints, user). The `registry!`
//! list below generates `Kind`, `ALL`, `Kind::info` and the `components:`
//! spec struct, so adding a component is one module plus one line here; the
//! matches on `Kind` elsewhere are exhaustive (no `_ =>` arm), so the compiler
//! names every place that must say what the new component does.

pub mod alertmanager;
pub mod alloy;
pub mod blackbox_exporter;
pub mod cadvisor;
pub mod elasticsearch;
pub mod grafana;
pub mod jaeger;
pub mod kibana;
pub mod logstash;
pub mod loki;
pub mod nginx_exporter;
pub mod node_exporter;
pub mod postgres_exporter;
pub mod prometheus;
pub mod promtail;
pub mod pushgateway;
pub mod redis_exporter;
pub mod tempo;

use crate::model::catalog::Info;
use crate::model::components::Common;

/// Generates the registry from one line per component:
/// `Variant => spec_key: module::Settings`. The module's `INFO` is its
/// catalog entry. The order of the lines is the order of `ALL`, which is the
/// order services are planned and rendered in.
macro_rules! registry {
    ($( $(#[$doc:meta])* $variant:ident => $key:ident : $module:ident :: $settings:ident ),* $(,)?) => {
        /// A component stackctl can deploy.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Kind {
            $( $(#[$doc])* $variant, )*
        }

        /// Every component, in registry order.
        pub const ALL: [Kind; [$( stringify!($variant) ),*].len()] = [$( Kind::$variant ),*];

        impl Kind {
            /// The component's catalog entry.
            pub fn info(self) -> &'static Info {
                match self {
                    $( Kind::$variant => &$module::INFO, )*
                }
            }
        }

        /// The components of the stack, keyed by kind. A component is deployed
        /// when its key is present and `enabled` is not false.
        #[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        pub struct Components {
            $(
                #[serde(
                    default,
                    deserialize_with = "crate::model::components::enable",
                    skip_serializing_if = "Option::is_none"
                )]
                pub $key: Option<$module::$settings>,
            )*
        }

        impl Components {
            /// The settings of one component, if it is present in the spec.
            pub fn common(&self, kind: Kind) -> Option<Common<'_>> {
                match kind {
                    $( Kind::$variant => self.$key.as_ref().map(|c| c.common()), )*
                }
            }
        }
    };
}

registry! {
    Prometheus => prometheus: prometheus::Prometheus,
    Alertmanager => alertmanager: alertmanager::Alertmanager,
    Grafana => grafana: grafana::Grafana,
    Loki => loki: loki::Loki,
    Promtail => promtail: promtail::Promtail,
    Alloy => alloy: alloy::Alloy,
    Jaeger => jaeger: jaeger::Jaeger,
    Tempo => tempo: tempo::Tempo,
    NodeExporter => node_exporter: node_exporter::NodeExporter,
    Cadvisor => cadvisor: cadvisor::Cadvisor,
    BlackboxExporter => blackbox_exporter: blackbox_exporter::BlackboxExporter,
    PostgresExporter => postgres_exporter: postgres_exporter::PostgresExporter,
    RedisExporter => redis_exporter: redis_exporter::RedisExporter,
    NginxExporter => nginx_exporter: nginx_exporter::NginxExporter,
    Pushgateway => pushgateway: pushgateway::Pushgateway,
    Elasticsearch => elasticsearch: elasticsearch::Elasticsearch,
    Logstash => logstash: logstash::Logstash,
    Kibana => kibana: kibana::Kibana,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_entry_belongs_to_its_registry_line() {
        for kind in ALL {
            assert_eq!(kind.info().kind, kind);
        }
    }

    /// The spec key of each component is its catalog key: what `validate`
    /// points at (`components.KEY`) is what the user wrote.
    #[test]
    fn spec_keys_are_catalog_keys() {
        let spec: serde_json::Map<String, serde_json::Value> = ALL
            .iter()
            .map(|k| (k.key().to_string(), serde_json::json!({})))
            .collect();
        let components: Components =
            serde_json::from_value(serde_json::Value::Object(spec)).unwrap();
        for kind in ALL {
            assert!(components.common(kind).is_some(), "{kind:?}");
        }
        let back = serde_json::to_value(&components).unwrap();
        let keys: Vec<&str> = back
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let expected: Vec<&str> = ALL.iter().map(|k| k.key()).collect();
        assert_eq!(keys, expected);
    }
}
