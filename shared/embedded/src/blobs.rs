//! Blobs as files under the data directory, written atomically (temp file, fsync, rename).
//! Upload URLs are signed (HMAC-SHA256) and pin the key, content type, length and expiry.

use crate::hmac::hmac_sha256_hex;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ports::{BlobStore, StoreError};
use std::io::Write;
use std::path::PathBuf;

pub struct FileBlobs {
    root: PathBuf,
    secret: Vec<u8>,
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 512
        && !key.starts_with('/')
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
}

impl FileBlobs {
    pub fn new(root: PathBuf, secret: Vec<u8>) -> Self {
        FileBlobs { root, secret }
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        if !valid_key(key) {
            return Err(StoreError::Conflict("invalid blob key".into()));
        }
        Ok(self.root.join(key))
    }

    fn signature(&self, key: &str, content_type: &str, size: u64, expires: i64) -> String {
        hmac_sha256_hex(
            &self.secret,
            format!("PUT\n{key}\n{content_type}\n{size}\n{expires}").as_bytes(),
        )
    }

    /// Check a signed upload: Ok(()) if the URL is genuine and unexpired and the request
    /// matches what it pins.
    pub fn verify_upload(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires: i64,
        sig: &str,
        now: DateTime<Utc>,
    ) -> Result<(), &'static str> {
        if !valid_key(key) {
            return Err("invalid key");
        }
        let expected = self.signature(key, content_type, size, expires);
        if expected.len() != sig.len()
            || expected
                .bytes()
                .zip(sig.bytes())
                .fold(0u8, |a, (x, y)| a | (x ^ y))
                != 0
        {
            return Err("bad signature");
        }
        if now.timestamp() > expires {
            return Err("expired");
        }
        Ok(())
    }

    fn write_atomic(&self, path: &PathBuf, bytes: &[u8]) -> Result<(), StoreError> {
        let dir = path.parent().expect("has parent");
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
        let mut f =
            std::fs::File::create(&tmp).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        std::fs::rename(&tmp, path).map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

#[async_trait]
impl BlobStore for FileBlobs {
    async fn put(&self, key: &str, bytes: &[u8], _content_type: &str) -> Result<(), StoreError> {
        let p = self.path(key)?;
        self.write_atomic(&p, bytes)
    }

    async fn put_once(
        &self,
        key: &str,
        bytes: &[u8],
        _content_type: &str,
    ) -> Result<(), StoreError> {
        let p = self.path(key)?;
        match std::fs::read(&p) {
            Ok(existing) if existing == bytes => Ok(()),
            Ok(_) => Err(StoreError::Conflict(format!(
                "{key} is write-once and already holds other bytes"
            ))),
            Err(_) => self.write_atomic(&p, bytes),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let p = self.path(key)?;
        match std::fs::read(&p) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Unavailable(e.to_string())),
        }
    }

    async fn upload_url(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires: DateTime<Utc>,
        base_url: &str,
    ) -> Result<String, StoreError> {
        self.path(key)?;
        let exp = expires.timestamp();
        let sig = self.signature(key, content_type, size, exp);
        let ct = content_type.replace('/', "%2F");
        Ok(format!(
            "{base_url}/uploads/{key}?content_type={ct}&size={size}&expires={exp}&signature={sig}"
        ))
    }

    fn location(&self, key: &str) -> String {
        format!("file://{}", self.root.join(key).display())
    }
}
