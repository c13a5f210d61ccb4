//! Your own TLS certificate (`security.tls.cert_file`, `key_file`,
//! `ca_file`), read from the stack directory before anything is rendered:
//! each file exists inside the stack directory and holds PEM of the right
//! kind, the key belongs to the certificate, and the certificate chains to
//! the CA, is valid now and names every host the stack's clients connect to
//! (each protected service and the auth proxy on the project network,
//! `localhost` and `127.0.0.1` where `verify` reaches them). The checks are
//! rustls' and webpki's, the ones every stack client written in Rust uses.

use crate::diag::Diagnostic;
use crate::model::Stack;
use crate::path;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, Error};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

fn at(key: &str, message: String, hint: &str) -> Diagnostic {
    Diagnostic::error(message)
        .with_hint(hint)
        .with_code("tls-file")
        .at(path!["security", "tls", key])
}

/// The findings about the user's certificate files (none for `generate`).
pub fn check(stack: &Stack, dir: &Path) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(security) = crate::plan::web_auth::settings(stack) else {
        return out;
    };
    let Some(tls) = &security.tls else {
        return out;
    };
    if tls.generate == Some(true) {
        return out;
    }
    let (Some(cert), Some(key), Some(ca)) = (&tls.cert_file, &tls.key_file, &tls.ca_file) else {
        // Incomplete: `check::security` already says what is missing.
        return out;
    };
    let mut read = |field: &str, rel: &str| -> Option<Vec<u8>> {
        let p = Path::new(rel);
        if p.is_absolute()
            || p.components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            out.push(at(
                field,
                format!("`{rel}` is outside the stack directory"),
                "copy the file into the stack directory (e.g. `secrets/tls/`) and give its relative path",
            ));
            return None;
        }
        match crate::fsutil::read_regular(&dir.join(rel), crate::fsutil::MAX_SECRET_BYTES) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                out.push(at(
                    field,
                    format!("cannot read `{rel}`: {}", e.reason()),
                    "give the path of a PEM file relative to the stack directory",
                ));
                None
            }
        }
    };
    let (cert_pem, key_pem, ca_pem) = (
        read("cert_file", cert),
        read("key_file", key),
        read("ca_file", ca),
    );
    let certs: Option<Vec<CertificateDer<'static>>> = cert_pem.and_then(|pem| {
        let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        if certs.is_empty() {
            out.push(at(
                "cert_file",
                format!("`{cert}` holds no PEM certificate"),
                "it must contain `-----BEGIN CERTIFICATE-----` blocks: the server certificate first, then any intermediates",
            ));
            return None;
        }
        Some(certs)
    });
    let signing_key = key_pem.and_then(|pem| {
        let parsed = PrivateKeyDer::from_pem_slice(&pem)
            .ok()
            .and_then(|k| rustls::crypto::ring::sign::any_supported_type(&k).ok());
        if parsed.is_none() {
            out.push(at(
                "key_file",
                format!("`{key}` holds no usable PEM private key"),
                "it must contain an unencrypted RSA, ECDSA (P-256/P-384) or Ed25519 key (`-----BEGIN PRIVATE KEY-----`)",
            ));
        }
        parsed
    });
    let roots = ca_pem.and_then(|pem| {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(&pem).flatten() {
            let _ = roots.add(c);
        }
        if roots.is_empty() {
            out.push(at(
                "ca_file",
                format!("`{ca}` holds no usable PEM CA certificate"),
                "give the certificate of the CA that signed `cert_file` (`-----BEGIN CERTIFICATE-----`)",
            ));
            return None;
        }
        Some(roots)
    });
    let Some(certs) = certs else { return out };
    if let Some(signing_key) = signing_key {
        let pair = rustls::sign::CertifiedKey::new(certs.clone(), signing_key);
        if let Err(e) = pair.keys_match() {
            if !matches!(
                e,
                Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)
            ) {
                out.push(at(
                    "key_file",
                    format!("`{key}` is not the key of the certificate in `{cert}`"),
                    "give the private key the certificate was issued for",
                ));
            }
        }
    }
    let Some(roots) = roots else { return out };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = match rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider,
    )
    .build()
    {
        Ok(v) => v,
        Err(e) => {
            out.push(at(
                "ca_file",
                format!("`{ca}` cannot be used as a CA: {e}"),
                "give the CA's certificate",
            ));
            return out;
        }
    };
    let mut names = BTreeSet::new();
    for service in crate::plan::web_auth::tls_services(stack) {
        names.extend(crate::plan::web_auth::certificate_names(stack, &service));
    }
    let now = UnixTime::now();
    let mut uncovered = Vec::new();
    for name in &names {
        let Ok(server) = ServerName::try_from(name.clone()) else {
            continue;
        };
        match verifier.verify_server_cert(&certs[0], &certs[1..], &server, &[], now) {
            Ok(_) => {}
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => uncovered.push(name.clone()),
            Err(Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. },
            )) => {
                out.push(at(
                    "cert_file",
                    format!("the certificate in `{cert}` has expired"),
                    "renew it (and keep the same names)",
                ));
                return out;
            }
            Err(Error::InvalidCertificate(
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. },
            )) => {
                out.push(at(
                    "cert_file",
                    format!("the certificate in `{cert}` is not valid yet"),
                    "check the clock of the machine that issued it, or wait until its start date",
                ));
                return out;
            }
            Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)) => {
                out.push(at(
                    "cert_file",
                    format!("the certificate in `{cert}` is not signed by the CA in `{ca}`"),
                    "give the CA that issued it as `ca_file` (put intermediates after the certificate in `cert_file`)",
                ));
                return out;
            }
            Err(e) => {
                out.push(at(
                    "cert_file",
                    format!("the certificate in `{cert}` is not accepted by TLS clients: {e}"),
                    "issue a server certificate (extended key usage `serverAuth`) signed by `ca_file`",
                ));
                return out;
            }
        }
    }
    if !uncovered.is_empty() {
        out.push(at(
            "cert_file",
            format!(
                "the certificate in `{cert}` is not valid for {}",
                uncovered
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            &format!(
                "the stack's clients connect to these names; issue it with all of them as subject alternative names: {}",
                names.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

    fn files(dir: &Path, names: &[&str], other_key: bool) {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
        p.distinguished_name.push(DnType::CommonName, "leaf");
        let cert = p.signed_by(&key, &issuer).unwrap();
        let key = if other_key {
            KeyPair::generate().unwrap()
        } else {
            key
        };
        std::fs::write(dir.join("ca.crt"), ca_cert.pem()).unwrap();
        std::fs::write(dir.join("s.crt"), cert.pem()).unwrap();
        std::fs::write(dir.join("s.key"), key.serialize_pem()).unwrap();
    }

    fn findings(dir: &Path) -> Vec<String> {
        let loaded = crate::load::load_text(
            "stack.yaml",
            "stackctl: 1\nname: t\nsecrets:\n  a: {generate: true}\ncomponents:\n  node_exporter: {}\nsecurity:\n  users:\n    admin: {password_secret: a}\n  tls: {cert_file: s.crt, key_file: s.key, ca_file: ca.crt}\n".to_string(),
        );
        check(loaded.stack.as_ref().unwrap(), dir)
            .into_iter()
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn a_good_certificate_passes_and_bad_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        files(
            dir.path(),
            &["node-exporter", "localhost", "127.0.0.1"],
            false,
        );
        assert_eq!(findings(dir.path()), Vec::<String>::new());
        files(dir.path(), &["node-exporter"], false);
        assert_eq!(
            findings(dir.path()),
            ["the certificate in `s.crt` is not valid for `127.0.0.1`, `localhost`"]
        );
        files(
            dir.path(),
            &["node-exporter", "localhost", "127.0.0.1"],
            true,
        );
        assert_eq!(
            findings(dir.path()),
            ["`s.key` is not the key of the certificate in `s.crt`"]
        );
    }
}
