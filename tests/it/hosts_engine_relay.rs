//! Second Docker endpoints on this machine, standing in for remote hosts'
//! engines: a plain TCP listener and a TLS listener (client certificates
//! required, from a CA made here) that relay every connection to the local
//! engine's unix socket, and a fake `ssh` that runs `docker system
//! dial-stdio` locally. There is no sshd here, so the ssh transport is
//! exercised up to the `ssh` program: stackctl runs it with the arguments
//! the docker CLI passes, and speaks HTTP over its stdio.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const SOCKET: &str = "/var/run/docker.sock";

/// A relay listening on 127.0.0.1; counts the connections it relayed.
pub struct Relay {
    pub port: u16,
    pub connections: Arc<AtomicUsize>,
}

/// `tcp://127.0.0.1:PORT` → the engine socket, one thread pair per connection.
pub fn tcp() -> Relay {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&connections);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            let Ok(engine) = std::os::unix::net::UnixStream::connect(SOCKET) else {
                continue;
            };
            let (mut c_read, mut c_write) = (conn.try_clone().expect("clone"), conn);
            let (mut e_read, mut e_write) = (engine.try_clone().expect("clone"), engine);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut e_write);
                let _ = e_write.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut e_read, &mut c_write);
                let _ = c_write.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    Relay { port, connections }
}

/// The certificates of a TLS engine: `ca.pem`, `cert.pem`, `key.pem` for the
/// client in `client_dir` (as `DOCKER_CERT_PATH`), and the server's config.
pub struct TlsFiles {
    pub server: rustls::ServerConfig,
}

pub fn tls_files(client_dir: &Path) -> TlsFiles {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf = |names: Vec<String>| {
        let key = KeyPair::generate().expect("key");
        let cert = CertificateParams::new(names)
            .expect("params")
            .signed_by(&key, &issuer)
            .expect("sign");
        (cert.pem(), key.serialize_pem())
    };
    let (server_cert, server_key) = leaf(vec!["127.0.0.1".into()]);
    let (client_cert, client_key) = leaf(vec!["client".into()]);
    std::fs::create_dir_all(client_dir).expect("cert dir");
    std::fs::write(client_dir.join("ca.pem"), ca.pem()).expect("write");
    std::fs::write(client_dir.join("cert.pem"), client_cert).expect("write");
    std::fs::write(client_dir.join("key.pem"), client_key).expect("write");

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.pem().as_bytes()).expect("ca der"))
        .expect("root");
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .expect("client verifier");
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(server_cert.as_bytes()).expect("cert")],
            PrivateKeyDer::from_pem_slice(server_key.as_bytes()).expect("key"),
        )
        .expect("server config");
    TlsFiles { server }
}

/// A TLS listener (client certificate required) relaying to the engine.
/// `connections` counts completed handshakes; `refused` the failed ones.
pub fn tls(files: TlsFiles) -> (Relay, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let (count, bad) = (Arc::clone(&connections), Arc::clone(&refused));
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(files.server));
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, count, bad) = (acceptor.clone(), count.clone(), bad.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(conn).await else {
                        bad.fetch_add(1, Ordering::SeqCst);
                        return;
                    };
                    count.fetch_add(1, Ordering::SeqCst);
                    let Ok(mut engine) = tokio::net::UnixStream::connect(SOCKET).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut engine).await;
                });
            }
        });
    });
    (Relay { port, connections }, refused)
}

/// A directory holding an executable `ssh` that logs its arguments to
/// `log` and runs what follows `-- HOST` (`docker system dial-stdio`) here.
pub fn fake_ssh(dir: &Path, log: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("dir");
    let script = dir.join("ssh");
    let mut f = std::fs::File::create(&script).expect("create ssh");
    write!(
        f,
        "#!/bin/sh\necho \"$@\" >> '{}'\nwhile [ \"$#\" -gt 0 ] && [ \"$1\" != \"--\" ]; do shift; done\nshift 2\nexec \"$@\"\n",
        log.display()
    )
    .expect("write ssh");
    drop(f);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir.to_path_buf()
}
