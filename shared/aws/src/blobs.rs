//! S3: materials (presigned PUT URLs pinned to type and length, expiring) and archives
//! (versioned bucket; objects written once: an existing key with other bytes is refused).

use crate::sdk_err;
use crate::usage::{Op, Usage};
use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use chrono::{DateTime, Utc};
use ports::{BlobStore, PresignedUpload, StoreError, UploadPin};
use std::sync::Arc;

pub struct S3Blobs {
    client: Client,
    materials: String,
    archives: String,
    usage: Arc<Usage>,
}

impl S3Blobs {
    /// The bytes of one ranged GET (`bytes=0-15`, `bytes=-1024`).
    async fn range(&self, key: &str, range: String) -> Result<Vec<u8>, StoreError> {
        let o = self
            .c(Op::S3GetRange)
            .get_object()
            .bucket(self.bucket(key))
            .key(key)
            .range(range)
            .send()
            .await
            .map_err(|e| sdk_err("get a range of an object", e))?;
        let b = o
            .body
            .collect()
            .await
            .map_err(|e| sdk_err("read object", e))?;
        Ok(b.into_bytes().to_vec())
    }

    pub fn new(client: Client, materials: String, archives: String, usage: Arc<Usage>) -> Self {
        S3Blobs {
            client,
            materials,
            archives,
            usage,
        }
    }

    /// The materials and archive buckets named in `r`, addressed path-style (which works
    /// with emulators and custom endpoints alike).
    pub fn from_config(
        config: &aws_types::SdkConfig,
        r: &crate::Resources,
        usage: Arc<Usage>,
    ) -> Self {
        let client = Client::from_conf(
            aws_sdk_s3::config::Builder::from(config)
                .force_path_style(true)
                .build(),
        );
        Self::new(
            client,
            r.materials_bucket.clone(),
            r.archive_bucket.clone(),
            usage,
        )
    }

    fn c(&self, op: Op) -> &Client {
        self.usage.one(op);
        &self.client
    }

    /// Archive keys go to the archive bucket, everything else to the materials bucket.
    fn bucket(&self, key: &str) -> &str {
        if key.starts_with("archives/") {
            &self.archives
        } else {
            &self.materials
        }
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<(), StoreError> {
        self.c(Op::S3Put)
            .put_object()
            .bucket(self.bucket(key))
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .map_err(|e| sdk_err("put object", e))?;
        Ok(())
    }

    async fn put_once(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<(), StoreError> {
        // If-None-Match: an existing key is never overwritten; only then compare bytes
        // (a retry after a crash writes the same bytes and succeeds).
        let r = self
            .c(Op::S3Put)
            .put_object()
            .bucket(self.bucket(key))
            .key(key)
            .content_type(content_type)
            .if_none_match("*")
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e)
                if e.raw_response()
                    .is_some_and(|r| r.status().as_u16() == 412 || r.status().as_u16() == 409) =>
            {
                match self.get(key).await? {
                    Some(existing) if existing == bytes => Ok(()),
                    _ => Err(StoreError::Conflict(format!(
                        "{key} is write-once and holds other bytes"
                    ))),
                }
            }
            Err(e) => Err(sdk_err("put archive object", e)),
        }
    }

    /// A server-side copy (the bytes never pass through the function): S3 computes the
    /// copy's SHA-256; when it does not say, the copy is read back and hashed in chunks.
    async fn copy_once(
        &self,
        from: &str,
        to: &str,
        content_type: &str,
    ) -> Result<Option<String>, StoreError> {
        use aws_sdk_s3::types::{ChecksumAlgorithm, MetadataDirective};
        use base64::Engine;
        let r = self
            .c(Op::S3Copy)
            .copy_object()
            .copy_source(format!("{}/{from}", self.bucket(from)))
            .bucket(self.bucket(to))
            .key(to)
            .content_type(content_type)
            .metadata_directive(MetadataDirective::Replace)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            // Write-once: under Object Lock every write is a version kept for years, so a
            // retry must not copy again (412 when the key exists; its bytes are hashed).
            .if_none_match("*")
            .send()
            .await;
        let out = match r {
            Ok(o) => Some(o),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                return Ok(None)
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 412) => None,
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 409) => {
                return Err(StoreError::Unavailable(format!(
                    "{to}: a concurrent copy; retried"
                )))
            }
            Err(e) => return Err(sdk_err("copy object", e)),
        };
        let given = out
            .as_ref()
            .and_then(|o| o.copy_object_result())
            .and_then(|c| c.checksum_sha256())
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|d| d.len() == 32);
        if let Some(d) = given {
            return Ok(Some(d.iter().map(|b| format!("{b:02x}")).collect()));
        }
        // Hash the copy as it streams (bounded memory).
        use sha2::Digest;
        let mut o = self
            .c(Op::S3Get)
            .get_object()
            .bucket(self.bucket(to))
            .key(to)
            .send()
            .await
            .map_err(|e| sdk_err("read copied object", e))?;
        let mut h = sha2::Sha256::new();
        while let Some(chunk) = o
            .body
            .try_next()
            .await
            .map_err(|e| sdk_err("read copied object", e))?
        {
            h.update(&chunk);
        }
        Ok(Some(
            h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        ))
    }

    /// `HeadObject` with the checksum S3 verified at upload (a presigned PUT pinned to a
    /// SHA-256 carries it), then a ranged `GetObject` of the first bytes: the object is
    /// not read whole. An object stored without a full-object SHA-256 is read whole.
    async fn inspect(
        &self,
        key: &str,
        head: usize,
    ) -> Result<Option<ports::Inspected>, StoreError> {
        use aws_sdk_s3::types::ChecksumMode;
        use base64::Engine;
        let h = match self
            .c(Op::S3Head)
            .head_object()
            .bucket(self.bucket(key))
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
        {
            Ok(h) => h,
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                return Ok(None)
            }
            Err(e) => return Err(sdk_err("head object", e)),
        };
        // A composite checksum (of parts) ends in `-N`: not the object's SHA-256.
        let sha256 = h
            .checksum_sha256()
            .filter(|c| !c.contains('-'))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|d| d.len() == 32)
            .map(|d| d.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let Some(sha256) = sha256 else {
            return Ok(self.get(key).await?.map(|b| ports::Inspected::of(&b, head)));
        };
        let size = h.content_length().unwrap_or(0).max(0) as u64;
        let first = if size == 0 || head == 0 {
            vec![]
        } else {
            self.range(key, format!("bytes=0-{}", head - 1)).await?
        };
        // The end of the file, where its format puts its end marker (a second ranged
        // read; a small file's first read holds it all).
        let tail = if size as usize <= head {
            first.clone()
        } else {
            self.range(key, format!("bytes=-{}", ports::TAIL_BYTES))
                .await?
        };
        Ok(Some(ports::Inspected {
            size,
            sha256,
            head: first[..head.min(first.len())].to_vec(),
            tail,
        }))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self
            .c(Op::S3Get)
            .get_object()
            .bucket(self.bucket(key))
            .key(key)
            .send()
            .await
        {
            Ok(o) => {
                let b = o
                    .body
                    .collect()
                    .await
                    .map_err(|e| sdk_err("read object", e))?;
                Ok(Some(b.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(sdk_err("get object", e)),
        }
    }

    async fn upload_url(
        &self,
        key: &str,
        pin: &UploadPin,
        expires: DateTime<Utc>,
        _base_url: &str,
    ) -> Result<PresignedUpload, StoreError> {
        let ttl = (expires - Utc::now())
            .to_std()
            .unwrap_or_default()
            .max(std::time::Duration::from_secs(1));
        self.usage.one(Op::S3Presign);
        let cfg = PresigningConfig::expires_in(ttl).map_err(|e| sdk_err("presign", e))?;
        // Write-once: `If-None-Match: *` is signed into the URL, so S3 refuses (412) a
        // second PUT once the object exists; a declared SHA-256 is signed in too, so S3
        // refuses other bytes.
        let checksum = match &pin.sha256 {
            Some(hex) => Some(hex_to_base64(hex).ok_or_else(|| {
                StoreError::Corrupt("the declared SHA-256 is not 64 hex digits".into())
            })?),
            None => None,
        };
        let p = self
            .c(Op::S3Put)
            .put_object()
            .bucket(self.bucket(key))
            .key(key)
            .content_type(&pin.content_type)
            .content_length(pin.size as i64)
            .if_none_match("*")
            .set_checksum_sha256(checksum.clone())
            .presigned(cfg)
            .await
            .map_err(|e| sdk_err("presign", e))?;
        // The signed headers, lower-cased (the client sets Content-Length from the body).
        let mut headers: std::collections::BTreeMap<String, String> = p
            .headers()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .filter(|(k, _)| k != "content-length" && k != "host")
            .collect();
        headers.insert("content-type".into(), pin.content_type.clone());
        headers.insert("if-none-match".into(), "*".into());
        if let Some(c) = checksum {
            headers.insert("x-amz-checksum-sha256".into(), c);
        }
        Ok(PresignedUpload {
            url: p.uri().to_string(),
            headers,
        })
    }

    async fn download_url(
        &self,
        key: &str,
        content_type: &str,
        filename: &str,
        expires: DateTime<Utc>,
        _base_url: &str,
    ) -> Result<String, StoreError> {
        let ttl = (expires - Utc::now())
            .to_std()
            .unwrap_or_default()
            .max(std::time::Duration::from_secs(1));
        self.usage.one(Op::S3Presign);
        let cfg = PresigningConfig::expires_in(ttl).map_err(|e| sdk_err("presign", e))?;
        // S3 answers with the content type and disposition signed into the URL. S3 cannot
        // add `X-Content-Type-Options: nosniff` to a presigned GET; the type is forced to
        // the registered one and the disposition is an attachment, so browsers download
        // rather than render (see docs/decisions.md).
        let p = self
            .c(Op::S3Get)
            .get_object()
            .bucket(self.bucket(key))
            .key(key)
            .response_content_type(content_type)
            .response_content_disposition(format!("attachment; filename=\"{filename}\""))
            .presigned(cfg)
            .await
            .map_err(|e| sdk_err("presign", e))?;
        Ok(p.uri().to_string())
    }

    fn location(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket(key))
    }
}

/// A SHA-256 in hex as S3 wants it (base64 of the 32 bytes).
fn hex_to_base64(hex: &str) -> Option<String> {
    use base64::Engine;
    if hex.len() != 64 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..32)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    Some(base64::engine::general_purpose::STANDARD.encode(bytes?))
}
