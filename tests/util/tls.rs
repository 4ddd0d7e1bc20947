//! Certificates made by the test: a local CA and leaves it signs (rcgen), written as PEM
//! files, and the SPKI hash Chromium's `--ignore-certificate-errors-spki-list` takes.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, PublicKeyData};
use sha2::{Digest, Sha256};

pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate (PEM), what `--cacert` is given.
    pub pem_path: PathBuf,
}

pub struct Leaf {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    /// base64(sha256(SubjectPublicKeyInfo)) of the leaf's key.
    pub spki_hash: String,
}

impl Ca {
    pub fn create(dir: &Path, name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("sandbox test CA {name}"));
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let pem_path = dir.join(format!("{name}-ca.pem"));
        std::fs::write(&pem_path, cert.pem()).unwrap();
        Ca {
            issuer: Issuer::new(params, key),
            pem_path,
        }
    }

    /// A leaf for `names` (DNS names or IP literals), signed by this CA.
    pub fn leaf(&self, dir: &Path, file: &str, names: &[&str]) -> Leaf {
        let params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let cert_path = dir.join(format!("{file}.pem"));
        let key_path = dir.join(format!("{file}.key"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        let spki_hash = base64(&Sha256::digest(key.subject_public_key_info()));
        Leaf {
            cert_path,
            key_path,
            spki_hash,
        }
    }
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_matches_the_standard_alphabet() {
    assert_eq!(base64(b"hello"), "aGVsbG8=");
    assert_eq!(base64(b"hi!"), "aGkh");
    assert_eq!(base64(b"a"), "YQ==");
}
