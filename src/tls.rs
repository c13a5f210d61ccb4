//! The local CA of `security.tls.generate`: `render` creates
//! `secrets/tls/ca.{crt,key}` and one certificate per protected service
//! (valid for its name on the project network, `localhost` and `127.0.0.1`),
//! all 0600 in a 0700 directory inside the stack directory. Files that exist
//! are kept, like every secret: a CA made once stays the one clients trust.

use crate::model::Stack;
use crate::plan::web_auth;
use crate::render::write::atomic::{self, StackDir};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(transparent)]
    Write(#[from] atomic::WriteError),
    #[error("cannot create the TLS certificates: {0}")]
    Generate(#[from] rcgen::Error),
    #[error(
        "`{0}` exists but `{1}` does not: the CA's key and certificate belong together\n  = help: restore `{1}`, or remove `{0}` too to generate a new CA (clients then need the new `ca.crt`)"
    )]
    Half(String, String),
    #[error("cannot read `{0}`: {1}")]
    Read(String, String),
}

/// The parameters of the CA: rebuilt identically to sign with an existing key.
fn ca_params(project: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("stackctl local CA ({project})"));
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

/// Creates what is missing; returns the files written (relative paths).
pub fn materialise(stack: &Stack, dir: &Path) -> Result<Vec<String>, TlsError> {
    let Some(security) = web_auth::settings(stack) else {
        return Ok(Vec::new());
    };
    if !security.generates_tls() {
        return Ok(Vec::new());
    }
    let root = StackDir::open(dir)?;
    let exists = |rel: &str| -> Result<bool, TlsError> {
        Ok(std::fs::symlink_metadata(root.check(rel)?).is_ok())
    };
    let read = |rel: &str| -> Result<String, TlsError> {
        crate::fsutil::read_regular_text(&dir.join(rel), crate::fsutil::MAX_SECRET_BYTES)
            .map_err(|e| TlsError::Read(rel.to_string(), e.to_string()))
    };
    let mut written = Vec::new();
    let mut write = |rel: &str, text: &str| -> Result<(), TlsError> {
        let path = root.prepare(rel, crate::secrets::DIR_MODE)?;
        atomic::replace(&path, text.as_bytes(), crate::secrets::FILE_MODE)?;
        written.push(rel.to_string());
        Ok(())
    };
    let ca_crt = format!("{}/ca.crt", web_auth::TLS_DIR);
    let ca_key = format!("{}/ca.key", web_auth::TLS_DIR);
    let key = match (exists(&ca_crt)?, exists(&ca_key)?) {
        (true, true) => KeyPair::from_pem(&read(&ca_key)?)?,
        (false, false) => {
            let key = KeyPair::generate()?;
            let cert = ca_params(&stack.name)?.self_signed(&key)?;
            write(&ca_key, &key.serialize_pem())?;
            write(&ca_crt, &cert.pem())?;
            key
        }
        (true, false) => return Err(TlsError::Half(ca_crt, ca_key)),
        (false, true) => return Err(TlsError::Half(ca_key, ca_crt)),
    };
    let issuer = Issuer::new(ca_params(&stack.name)?, key);
    for service in web_auth::tls_services(stack) {
        let service = service.as_str();
        let crt = format!("{}/{service}.crt", web_auth::TLS_DIR);
        let key_file = format!("{}/{service}.key", web_auth::TLS_DIR);
        if exists(&crt)? && exists(&key_file)? {
            continue;
        }
        let mut params = CertificateParams::new(web_auth::certificate_names(stack, service))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, service);
        params.distinguished_name = dn;
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let leaf_key = KeyPair::generate()?;
        let cert = params.signed_by(&leaf_key, &issuer)?;
        write(&key_file, &leaf_key.serialize_pem())?;
        write(&crt, &cert.pem())?;
    }
    Ok(written)
}
