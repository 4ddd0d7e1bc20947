//! Certificates for HTTPS origins: a local CA created once per user (its key 0600 in the
//! user's data folder, never in a project), leaves it signs for an origin's host names at each
//! start, a user's own `cert`/`key` files (mkcert's), and `sandbox trust`, which puts the CA
//! where local browsers look. I/O only at the edges: [`LocalCa::open`] and [`trust`].

mod trust;

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

pub use trust::{trust, TrustReport};

/// The CA's file names inside the data folder.
const CA_CERT: &str = "ca.pem";
const CA_KEY: &str = "ca.key";

/// Why a certificate could not be made or read; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("cannot use the data folder {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} holds no {what} in PEM form ({hint})")]
    NoPem {
        path: String,
        what: &'static str,
        hint: &'static str,
    },
    #[error("cannot make a certificate: {0}")]
    Generate(String),
    #[error("the certificate and key do not make a TLS server: {0}")]
    Server(String),
}

/// Where the local CA lives: `$SANDBOX_DATA_DIR`, else `$XDG_DATA_HOME/sandbox`, else
/// `~/.local/share/sandbox`.
pub fn data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SANDBOX_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("sandbox");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".local/share/sandbox")
}

/// The user's local CA.
pub struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, the file `sandbox trust` and `probe --cacert` take.
    pub cert_path: PathBuf,
    /// Whether this call created it.
    pub created: bool,
}

impl LocalCa {
    /// The CA in `dir`, created (folder 0700, key 0600) when absent.
    pub fn open(dir: &Path) -> Result<LocalCa, CertError> {
        let dir_err = |e: std::io::Error| CertError::DataDir {
            path: dir.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(dir_err)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(dir_err)?;
        let (cert_path, key_path) = (dir.join(CA_CERT), dir.join(CA_KEY));
        if key_path.exists() && cert_path.exists() {
            let key_pem = read(&key_path)?;
            let cert_pem = read(&cert_path)?;
            let key = KeyPair::from_pem(&String::from_utf8_lossy(&key_pem))
                .map_err(|e| CertError::Generate(format!("{}: {e}", key_path.display())))?;
            let der = CertificateDer::from_pem_slice(&cert_pem).map_err(|_| CertError::NoPem {
                path: cert_path.display().to_string(),
                what: "certificate",
                hint: "delete ca.pem and ca.key to make a new CA, then run `sandbox trust` again",
            })?;
            let issuer = Issuer::from_ca_cert_der(&der, key)
                .map_err(|e| CertError::Generate(e.to_string()))?;
            return Ok(LocalCa {
                issuer,
                cert_path,
                created: false,
            });
        }
        let (issuer, cert_pem, key_pem) = new_ca()?;
        write_private(&key_path, key_pem.as_bytes()).map_err(dir_err)?;
        std::fs::write(&cert_path, cert_pem).map_err(dir_err)?;
        Ok(LocalCa {
            issuer,
            cert_path,
            created: true,
        })
    }

    /// A fresh leaf for `names` (DNS names or IP literals), signed by this CA.
    pub fn leaf(&self, names: &[String]) -> Result<Identity, CertError> {
        let gen = |e: rcgen::Error| CertError::Generate(e.to_string());
        let mut params = CertificateParams::new(names.to_vec()).map_err(gen)?;
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        let key = KeyPair::generate().map_err(gen)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(gen)?;
        Ok(Identity {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        })
    }
}

fn new_ca() -> Result<(Issuer<'static, KeyPair>, String, String), CertError> {
    let gen = |e: rcgen::Error| CertError::Generate(e.to_string());
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(gen)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let user = std::env::var("USER").unwrap_or_else(|_| "you".into());
    params
        .distinguished_name
        .push(DnType::CommonName, format!("sandbox local CA ({user})"));
    params
        .distinguished_name
        .push(DnType::OrganizationName, "sandbox development CA");
    let key = KeyPair::generate().map_err(gen)?;
    let cert = params.self_signed(&key).map_err(gen)?;
    let key_pem = key.serialize_pem();
    Ok((Issuer::new(params, key), cert.pem(), key_pem))
}

/// A new file only its owner can read; never follows a planted symlink.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(bytes)
}

fn read(path: &Path) -> Result<Vec<u8>, CertError> {
    std::fs::read(path).map_err(|e| CertError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// A certificate chain and its key.
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// A user's own PEM files (mkcert writes them).
    pub fn from_files(cert: &Path, key: &Path) -> Result<Identity, CertError> {
        let cert_pem = read(cert)?;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
            .filter_map(Result::ok)
            .collect();
        if chain.is_empty() {
            return Err(CertError::NoPem {
                path: cert.display().to_string(),
                what: "certificate",
                hint: "expected -----BEGIN CERTIFICATE-----",
            });
        }
        let key_pem = read(key)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| CertError::NoPem {
            path: key.display().to_string(),
            what: "private key",
            hint: "expected -----BEGIN PRIVATE KEY----- or an RSA/EC key",
        })?;
        Ok(Identity { chain, key })
    }

    /// A rustls server for this identity; actix-web adds the `h2` and `http/1.1` ALPN names.
    pub fn server_config(self) -> Result<rustls::ServerConfig, CertError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| CertError::Server(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(self.chain, self.key)
            .map_err(|e| CertError::Server(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_made_once_with_a_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let ca_dir = dir.path().join("sandbox");
        let first = LocalCa::open(&ca_dir).unwrap();
        assert!(first.created);
        let mode = std::fs::metadata(ca_dir.join(CA_KEY))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = LocalCa::open(&ca_dir).unwrap();
        assert!(!again.created);
        let leaf = again
            .leaf(&["api.localhost".into(), "127.0.0.1".into()])
            .unwrap();
        assert!(leaf.server_config().is_ok());
    }

    #[test]
    fn files_without_pem_are_refused_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("c.pem");
        std::fs::write(&cert, "not pem").unwrap();
        let e = Identity::from_files(&cert, &cert).err().unwrap();
        assert!(e.to_string().contains("c.pem"), "{e}");
    }
}
