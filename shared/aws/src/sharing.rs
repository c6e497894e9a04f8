//! The provincial data-sharing platform over HTTPS: `GET {base}/people/{id}`,
//! `/households/{number}`, `/marriages?husband={id}&wife={id}`, `/institutions/{code}`;
//! 200 with the record (the fixture's field names), 404 when there is none. The API key
//! comes from Secrets Manager (`{"api_key": "..."}`), fetched on first use, not at init;
//! the HTTPS client (and with it the system's trusted roots) is also built on first use.

use async_trait::async_trait;
use bytes::Bytes;
use domain::sharing::{HouseholdRecord, Institution, MarriageRecord, Person};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ports::{DataSharing, StoreError};
use serde::de::DeserializeOwned;
use std::time::Duration;
use tokio::sync::OnceCell;

type Https = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// Where the API key comes from: given, or the `api_key` of a Secrets Manager secret's
/// JSON (read on first use).
pub enum ApiKey {
    Static(String),
    Secret(SecretValue),
}

pub struct HttpSharing {
    base: String,
    key_source: ApiKey,
    key: OnceCell<String>,
    client: std::sync::OnceLock<Client<Https, Empty<Bytes>>>,
}

impl HttpSharing {
    pub fn new(base: &str, key_source: ApiKey) -> Result<Self, String> {
        // Personal data travels over TLS only; plain http is for a fixture on this host.
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|p| {
                base.strip_prefix(p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
            });
        if !(base.starts_with("https://") || loopback) {
            return Err(
                "the data-sharing URL must start with https:// (http:// only to this host)".into(),
            );
        }
        Ok(HttpSharing {
            base: base.trim_end_matches('/').to_string(),
            key_source,
            key: OnceCell::new(),
            client: std::sync::OnceLock::new(),
        })
    }

    /// The HTTPS client, built on first use: loading the system's trusted roots reads
    /// ~150 files, which would otherwise lengthen every cold start.
    fn client(&self) -> Result<&Client<Https, Empty<Bytes>>, StoreError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        // ring, named explicitly: the workspace may enable more than one rustls provider.
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| StoreError::Unavailable(format!("TLS roots: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(self
            .client
            .get_or_init(|| Client::builder(TokioExecutor::new()).build(https)))
    }

    async fn api_key(&self) -> Result<&str, StoreError> {
        self.key
            .get_or_try_init(|| async {
                match &self.key_source {
                    ApiKey::Static(k) => Ok(k.clone()),
                    ApiKey::Secret(secret) => {
                        use ports::SecretSource;
                        let text = secret.secret().await?;
                        let v: serde_json::Value = serde_json::from_str(&text).map_err(|_| {
                            StoreError::Corrupt("the data-sharing secret is not JSON".into())
                        })?;
                        v.get("api_key")
                            .and_then(|k| k.as_str())
                            .map(str::to_string)
                            .ok_or_else(|| {
                                StoreError::Corrupt("the data-sharing secret has no api_key".into())
                            })
                    }
                }
            })
            .await
            .map(String::as_str)
    }

    async fn fetch<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, StoreError> {
        let key = self.api_key().await?.to_string();
        let req = http::Request::get(format!("{}{path}", self.base))
            .header("x-api-key", key)
            .header("accept", "application/json")
            .body(Empty::new())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let resp = tokio::time::timeout(Duration::from_secs(5), self.client()?.request(req))
            .await
            .map_err(|_| StoreError::Unavailable("data sharing timed out".into()))?
            .map_err(|e| StoreError::Unavailable(format!("data sharing: {e}")))?;
        let status = resp.status();
        if status == http::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(StoreError::Unavailable(format!(
                "data sharing answered {status}"
            )));
        }
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?
            .to_bytes();
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("data sharing record: {e}")))
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        .map(|b| b as char)
        .collect()
}

#[async_trait]
impl DataSharing for HttpSharing {
    async fn person(&self, id: &str) -> Result<Option<Person>, StoreError> {
        self.fetch(&format!("/people/{}", enc(id))).await
    }
    async fn household(&self, n: &str) -> Result<Option<HouseholdRecord>, StoreError> {
        self.fetch(&format!("/households/{}", enc(n))).await
    }
    async fn marriage(
        &self,
        husband: &str,
        wife: &str,
    ) -> Result<Option<MarriageRecord>, StoreError> {
        self.fetch(&format!(
            "/marriages?husband={}&wife={}",
            enc(husband),
            enc(wife)
        ))
        .await
    }
    async fn institution(&self, code: &str) -> Result<Option<Institution>, StoreError> {
        self.fetch(&format!("/institutions/{}", enc(code))).await
    }
}

/// A Secrets Manager secret's string, read once on first use (the data-sharing key, the
/// edge's origin secret).
pub struct SecretValue {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    value: OnceCell<String>,
}

impl SecretValue {
    pub fn new(config: &aws_types::SdkConfig, secret_id: &str) -> SecretValue {
        SecretValue {
            client: aws_sdk_secretsmanager::Client::new(config),
            secret_id: secret_id.to_string(),
            value: OnceCell::new(),
        }
    }
}

#[async_trait::async_trait]
impl ports::SecretSource for SecretValue {
    async fn secret(&self) -> Result<String, StoreError> {
        self.value
            .get_or_try_init(|| async {
                let r = self
                    .client
                    .get_secret_value()
                    .secret_id(&self.secret_id)
                    .send()
                    .await
                    .map_err(|e| crate::sdk_err("get secret", e))?;
                Ok(r.secret_string().unwrap_or_default().to_string())
            })
            .await
            .cloned()
    }
}
