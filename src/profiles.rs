//! The profiles embedded in the binary. Each is a complete, commented
//! `stack.yaml` kept readable under `profiles/`; `init` writes it out as is.

pub struct Profile {
    pub name: &'static str,
    pub summary: &'static str,
    pub text: &'static str,
}

pub const PROFILES: &[Profile] = &[
    Profile {
        name: "minimal",
        summary: "Prometheus, Alertmanager, Grafana and node-exporter for one host",
        text: include_str!("../profiles/minimal.yaml"),
    },
    Profile {
        name: "pynomaly",
        summary: "Pynomaly production monitoring: API, workers, PostgreSQL, Redis, NGINX; Loki or ELK logs; Jaeger",
        text: include_str!("../profiles/pynomaly.yaml"),
    },
    Profile {
        name: "anomaly-detection",
        summary: "Anomaly detection API with SLOs, escalation, PostgreSQL/Redis, Loki logs and Jaeger traces",
        text: include_str!("../profiles/anomaly-detection.yaml"),
    },
    Profile {
        name: "face-attributes",
        summary: "Face attribute classification API: model, API and system dashboards; email and Slack alerts",
        text: include_str!("../profiles/face-attributes.yaml"),
    },
    Profile {
        name: "mlops-platform",
        summary: "MLOps platform: model server and inference engine, alerts routed by team, business KPIs",
        text: include_str!("../profiles/mlops-platform.yaml"),
    },
];

pub fn find(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.name == name)
}

pub fn names() -> Vec<&'static str> {
    PROFILES.iter().map(|p| p.name).collect()
}
