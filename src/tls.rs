//! The server certificate: PEM files when given, otherwise a self-signed one
//! generated at start-up with rcgen for `localhost`, `127.0.0.1` and the
//! configured host name. Every TLS listener and STARTTLS share one acceptor.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// A certificate or key that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the certificate chain {path}: {source}")]
    Cert {
        path: String,
        source: rustls_pki_types::pem::Error,
    },
    #[error("{path} holds no certificate")]
    NoCert { path: String },
    #[error("cannot read the private key {path}: {source}")]
    Key {
        path: String,
        source: rustls_pki_types::pem::Error,
    },
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Builds the acceptor from `--tls-cert`/`--tls-key`, or a fresh self-signed certificate.
pub fn acceptor(
    cert: Option<&Path>,
    key: Option<&Path>,
    hostname: &str,
) -> Result<TlsAcceptor, Error> {
    let (chain, key) = match (cert, key) {
        (Some(cert), Some(key)) => load(cert, key)?,
        _ => self_signed(hostname)?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn load(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Error> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|source| Error::Cert {
            path: cert.display().to_string(),
            source,
        })?;
    if chain.is_empty() {
        return Err(Error::NoCert {
            path: cert.display().to_string(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|source| Error::Key {
        path: key.display().to_string(),
        source,
    })?;
    Ok((chain, key))
}

fn self_signed(
    hostname: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Error> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !names.iter().any(|n| n == hostname) {
        names.push(hostname.to_owned());
    }
    let certified = rcgen::generate_simple_self_signed(names)?;
    let key = PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    Ok((vec![certified.cert.der().clone()], key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_usable_certificate() {
        assert!(acceptor(None, None, "mail.test").is_ok());
    }

    #[test]
    fn missing_files_name_the_path() {
        let err = acceptor(
            Some(Path::new("/nonexistent/cert.pem")),
            Some(Path::new("/nonexistent/key.pem")),
            "h",
        )
        .err()
        .expect("a missing file is an error");
        assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
    }
}
