//! Where a Docker engine listens, and how to connect to it: the local socket
//! (`unix://`), plain TCP (`tcp://`), TCP with TLS client certificates
//! (`tcp://` plus a certificate directory holding `ca.pem`, `cert.pem`,
//! `key.pem`, as `DOCKER_CERT_PATH`), or SSH (`ssh://[user@]host[:port]`,
//! through `ssh … docker system dial-stdio` as the docker CLI does).
//! The central stack's engine comes from `DOCKER_HOST` / `DOCKER_TLS_VERIFY`
//! / `DOCKER_CERT_PATH`; a remote host's from its `docker:` settings.

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The full `unix://PATH` URL.
    Unix(String),
    Tcp {
        /// `host:port`.
        addr: String,
        /// The directory of `ca.pem`, `cert.pem` and `key.pem`: TLS when set.
        tls: Option<PathBuf>,
    },
    Ssh {
        user: Option<String>,
        host: String,
        port: Option<u16>,
    },
}

impl Endpoint {
    /// Parses a `DOCKER_HOST`-style URL; `cert_dir` turns TCP into TLS.
    pub fn parse(url: &str, cert_dir: Option<&Path>) -> Result<Endpoint, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("`{url}` has no scheme (`unix://`, `tcp://` or `ssh://`)"))?;
        let endpoint = match scheme {
            "unix" => {
                if rest.is_empty() {
                    return Err(format!("`{url}` names no socket"));
                }
                Endpoint::Unix(url.to_string())
            }
            "tcp" => {
                let addr = rest.trim_end_matches('/');
                let port_ok = addr
                    .rsplit_once(':')
                    .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
                if !port_ok || addr.contains('/') {
                    return Err(format!(
                        "`{url}` is not `tcp://HOST:PORT` (the engine's TLS port is usually 2376)"
                    ));
                }
                Endpoint::Tcp {
                    addr: addr.to_string(),
                    tls: cert_dir.map(Path::to_path_buf),
                }
            }
            "ssh" => {
                let rest = rest.trim_end_matches('/');
                if rest.contains('/') {
                    return Err(format!(
                        "`{url}` has a path; an ssh endpoint is `ssh://[USER@]HOST[:PORT]`"
                    ));
                }
                let (user, hostport) = match rest.rsplit_once('@') {
                    Some((u, h)) => (Some(u.to_string()), h),
                    None => (None, rest),
                };
                let (host, port) = match hostport.rsplit_once(':') {
                    Some((h, p)) if !h.contains(']') || h.ends_with(']') => {
                        let port = p
                            .parse::<u16>()
                            .map_err(|_| format!("`{url}`: `{p}` is not a port"))?;
                        (h.trim_start_matches('[').trim_end_matches(']'), Some(port))
                    }
                    _ => (hostport, None),
                };
                // ssh would read a leading `-` as an option.
                let bad = |s: &str| s.is_empty() || s.starts_with('-') || s.contains(' ');
                if bad(host) || user.as_deref().is_some_and(bad) {
                    return Err(format!(
                        "`{url}` is not `ssh://[USER@]HOST[:PORT]` with a host name"
                    ));
                }
                Endpoint::Ssh {
                    user,
                    host: host.to_string(),
                    port,
                }
            }
            other => {
                return Err(format!(
                    "`{other}://` is not a Docker endpoint stackctl can reach (use `unix://`, `tcp://` or `ssh://`)"
                ));
            }
        };
        if cert_dir.is_some() && !matches!(endpoint, Endpoint::Tcp { .. }) {
            return Err(format!(
                "TLS certificates are for `tcp://` endpoints, not `{url}`"
            ));
        }
        Ok(endpoint)
    }

    /// The engine of `DOCKER_HOST` (default: the local socket), with TLS when
    /// `DOCKER_TLS_VERIFY` is set, from `DOCKER_CERT_PATH` (default `~/.docker`).
    pub fn from_env() -> Result<(String, Endpoint), String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let url = var("DOCKER_HOST").unwrap_or_else(|| DEFAULT_HOST.to_string());
        let certs = var("DOCKER_TLS_VERIFY").map(|_| match var("DOCKER_CERT_PATH") {
            Some(p) => PathBuf::from(p),
            None => PathBuf::from(var("HOME").unwrap_or_default()).join(".docker"),
        });
        let endpoint =
            Endpoint::parse(&url, certs.as_deref()).map_err(|e| format!("DOCKER_HOST: {e}"))?;
        Ok((url, endpoint))
    }

    /// A bollard client for the endpoint (nothing is sent yet).
    pub fn client(&self) -> Result<bollard::Docker, String> {
        let fail = |e: bollard::errors::Error| e.to_string();
        match self {
            Endpoint::Unix(url) => bollard::Docker::connect_with_host(url).map_err(fail),
            Endpoint::Tcp { addr, tls: None } => {
                bollard::Docker::connect_with_host(&format!("tcp://{addr}")).map_err(fail)
            }
            Endpoint::Tcp {
                addr,
                tls: Some(dir),
            } => {
                let config = tls_config(dir)?;
                let host = addr
                    .rsplit_once(':')
                    .map_or(addr.as_str(), |(h, _)| h)
                    .trim_start_matches('[')
                    .trim_end_matches(']');
                let server_name = rustls::pki_types::ServerName::try_from(host.to_string())
                    .map_err(|e| {
                        format!("`{host}` cannot be checked against a certificate: {e}")
                    })?;
                super::dial::docker(
                    super::dial::Dialer::Tls {
                        addr: addr.clone(),
                        server_name,
                        config: Arc::new(config),
                    },
                    &format!("https://{addr}"),
                )
                .map_err(fail)
            }
            Endpoint::Ssh { .. } => super::dial::docker(
                super::dial::Dialer::Ssh {
                    program: "ssh".into(),
                    args: self.ssh_args(),
                },
                // What the docker CLI puts in the Host header over ssh.
                "http://docker.example.com",
            )
            .map_err(fail),
        }
    }

    /// `ssh`'s arguments, as the docker CLI passes them.
    pub fn ssh_args(&self) -> Vec<String> {
        let Endpoint::Ssh { user, host, port } = self else {
            return Vec::new();
        };
        let mut args: Vec<String> = vec!["-o".into(), "ConnectTimeout=30".into(), "-T".into()];
        if let Some(user) = user {
            args.extend(["-l".into(), user.clone()]);
        }
        if let Some(port) = port {
            args.extend(["-p".into(), port.to_string()]);
        }
        args.extend(
            ["--", host, "docker", "system", "dial-stdio"]
                .iter()
                .map(|s| s.to_string()),
        );
        args
    }
}

/// Trusts only the directory's `ca.pem` (the engine's CA, as the docker
/// CLI with `DOCKER_TLS_VERIFY` does) and presents `cert.pem` / `key.pem`.
fn tls_config(dir: &Path) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let file = |name: &str| {
        let path = dir.join(name);
        crate::fsutil::read_regular_text(&path, 1024 * 1024)
            .map(|text| (path.clone(), text))
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))
    };
    let certs = |(path, text): (PathBuf, String)| {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(text.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("`{}`: not PEM certificates: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("`{}` holds no certificate", path.display()));
        }
        Ok(certs)
    };
    let mut roots = rustls::RootCertStore::empty();
    for ca in certs(file("ca.pem")?)? {
        roots
            .add(ca)
            .map_err(|e| format!("`{}`: {e}", dir.join("ca.pem").display()))?;
    }
    let chain = certs(file("cert.pem")?)?;
    let (key_path, key_text) = file("key.pem")?;
    let key = PrivateKeyDer::from_pem_slice(key_text.as_bytes())
        .map_err(|e| format!("`{}`: not a PEM private key: {e}", key_path.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| {
            format!(
                "`{}` and `{}`: {e}",
                dir.join("cert.pem").display(),
                key_path.display()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_as_the_docker_cli_reads_them() {
        assert_eq!(
            Endpoint::parse("unix:///var/run/docker.sock", None),
            Ok(Endpoint::Unix("unix:///var/run/docker.sock".into()))
        );
        assert_eq!(
            Endpoint::parse("tcp://10.0.0.5:2376", Some(Path::new("certs"))),
            Ok(Endpoint::Tcp {
                addr: "10.0.0.5:2376".into(),
                tls: Some(PathBuf::from("certs"))
            })
        );
        let ssh = Endpoint::parse("ssh://ops@web-1.internal:2222", None).unwrap();
        assert_eq!(
            ssh.ssh_args(),
            [
                "-o",
                "ConnectTimeout=30",
                "-T",
                "-l",
                "ops",
                "-p",
                "2222",
                "--",
                "web-1.internal",
                "docker",
                "system",
                "dial-stdio"
            ]
        );
        assert_eq!(
            Endpoint::parse("ssh://db-1", None).unwrap().ssh_args()[3..],
            ["--", "db-1", "docker", "system", "dial-stdio"]
        );
    }

    #[test]
    fn bad_urls_say_what_is_expected() {
        for (url, wanted) in [
            ("10.0.0.5:2376", "no scheme"),
            ("tcp://10.0.0.5", "tcp://HOST:PORT"),
            ("http://x:1", "is not a Docker endpoint"),
            ("ssh://-oProxyCommand=x", "with a host name"),
            ("ssh://host/path", "has a path"),
            ("ssh://host:ssh", "is not a port"),
        ] {
            let e = Endpoint::parse(url, None).unwrap_err();
            assert!(e.contains(wanted), "{url}: {e}");
        }
        let e = Endpoint::parse("ssh://h", Some(Path::new("c"))).unwrap_err();
        assert!(e.contains("for `tcp://` endpoints"), "{e}");
    }
}
