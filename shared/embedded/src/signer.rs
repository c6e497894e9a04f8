//! The certificate signing key on one machine: ECDSA P-256 keys (PKCS#8) in
//! `{data dir}/cert-keys/`, readable by the owner only. The newest signs; every key there
//! is published, so certificates signed before a rotation still verify.

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ports::{CertSigner, StoreError};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use std::path::{Path, PathBuf};

pub struct LocalSigner {
    /// (kid, key), oldest first; the last signs.
    keys: Vec<(String, EcdsaKeyPair)>,
    rng: SystemRandom,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("certificate key: {e}"))
}

/// The key id: the first 16 hex digits of the public key's SHA-256.
fn kid_of(public: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, public);
    d.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn dir_of(data_dir: &Path) -> PathBuf {
    data_dir.join("cert-keys")
}

fn key_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "p8"))
        .collect();
    v.sort();
    Ok(v)
}

impl LocalSigner {
    /// Open the keys of a data directory, making the first if there is none.
    pub fn open(data_dir: &Path) -> Result<LocalSigner, StoreError> {
        let dir = dir_of(data_dir);
        std::fs::create_dir_all(&dir).map_err(err)?;
        if key_files(&dir)?.is_empty() {
            Self::rotate(data_dir)?;
        }
        let rng = SystemRandom::new();
        let mut keys = vec![];
        for f in key_files(&dir)? {
            let bytes = std::fs::read(&f).map_err(err)?;
            let k = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &bytes, &rng)
                .map_err(|e| err(format!("{}: {e}", f.display())))?;
            keys.push((kid_of(k.public_key().as_ref()), k));
        }
        Ok(LocalSigner { keys, rng })
    }

    /// Make a new key, which signs from now on (the old ones stay published). Returns its
    /// kid.
    pub fn rotate(data_dir: &Path) -> Result<String, StoreError> {
        let dir = dir_of(data_dir);
        std::fs::create_dir_all(&dir).map_err(err)?;
        let rng = SystemRandom::new();
        let doc =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(err)?;
        let n = key_files(&dir)?.len() + 1;
        let path = dir.join(format!("key-{n:04}.p8"));
        let tmp = dir.join(format!(".key-{n:04}.tmp"));
        {
            use std::io::Write;
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            let mut f = o.open(&tmp).map_err(err)?;
            f.write_all(doc.as_ref()).map_err(err)?;
            f.sync_all().map_err(err)?;
        }
        std::fs::rename(&tmp, &path).map_err(err)?;
        let k = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref(), &rng)
            .map_err(err)?;
        Ok(kid_of(k.public_key().as_ref()))
    }
}

/// A P-256 public key (uncompressed point) as a JWK.
pub fn jwk(kid: &str, public: &[u8]) -> serde_json::Value {
    serde_json::json!({
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&public[33..65]),
    })
}

#[async_trait]
impl CertSigner for LocalSigner {
    fn kid(&self) -> String {
        self.keys.last().expect("a key").0.clone()
    }
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, StoreError> {
        let (_, k) = self.keys.last().expect("a key");
        Ok(k.sign(&self.rng, message).map_err(err)?.as_ref().to_vec())
    }
    async fn public_keys(&self) -> Result<serde_json::Value, StoreError> {
        let keys: Vec<serde_json::Value> = self
            .keys
            .iter()
            .rev()
            .map(|(kid, k)| jwk(kid, k.public_key().as_ref()))
            .collect();
        Ok(serde_json::json!({ "keys": keys }))
    }
}
