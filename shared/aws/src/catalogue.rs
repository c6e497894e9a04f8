//! The catalogue's versions on the table: one item per applied version under one
//! partition (`CATALOGUE`, sk `V#{version:06}`, `doc` the JSON), so the latest is one
//! query and a version is written once (`attribute_not_exists`). Only the operator's
//! `onething catalogue apply` writes them; the API reads the latest for new cases.
//!
//! The latest version is kept in memory for [`CACHE_TTL`] (`ONETHING_CATALOGUE_TTL_MS`),
//! so a busy API does not add a request to every application: on AWS an applied version
//! is in force for new cases within that time (an apply through this adapter is in force
//! for it at once).

use crate::dynamo::{bill_read, n, s, Item};
use crate::usage::{Op, Usage};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::Client;
use domain::catalogue::{Version, BUILTIN_VERSION};
use ports::{CatalogueStore, StoreError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the latest version read is used before it is read again (default 30 s: at
/// most one read per API instance and half minute, whatever the traffic).
pub const CACHE_TTL: Duration = Duration::from_secs(30);

type Cached = Option<(Instant, Option<Version>)>;

pub struct DynamoCatalogue {
    client: Client,
    table: String,
    usage: Arc<Usage>,
    ttl: Duration,
    latest: Mutex<Cached>,
}

const PK: &str = "CATALOGUE";

fn parse(i: &Item) -> Result<Version, StoreError> {
    let doc = i
        .get("doc")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StoreError::Corrupt("catalogue item without doc".into()))?;
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("catalogue: {e}")))
}

impl DynamoCatalogue {
    pub fn new(client: Client, table: String, usage: Arc<Usage>) -> Self {
        let ttl = std::env::var("ONETHING_CATALOGUE_TTL_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(CACHE_TTL, Duration::from_millis);
        DynamoCatalogue {
            client,
            table,
            usage,
            ttl,
            latest: Mutex::new(None),
        }
    }

    /// The latest version, read from the table (and remembered).
    async fn read_latest(&self) -> Result<Option<Version>, StoreError> {
        let v = self.versions(true, Some(1)).await?.into_iter().next();
        *self.latest.lock().expect("not poisoned") = Some((Instant::now(), v.clone()));
        Ok(v)
    }

    /// The versions, newest first when `newest` (at most `limit`), consistently read.
    async fn versions(&self, newest: bool, limit: Option<i32>) -> Result<Vec<Version>, StoreError> {
        let mut out = vec![];
        let mut start = None;
        loop {
            self.usage.one(Op::DdbQuery);
            let r = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :p AND begins_with(sk, :v)")
                .expression_attribute_values(":p", s(PK))
                .expression_attribute_values(":v", s("V#"))
                .scan_index_forward(!newest)
                .consistent_read(true)
                .set_limit(limit)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| crate::sdk_err("read the catalogue", e))?;
            bill_read(&self.usage, r.items(), true);
            for i in r.items() {
                out.push(parse(i)?);
            }
            start = r.last_evaluated_key().cloned();
            if start.is_none() || limit.is_some() {
                return Ok(out);
            }
        }
    }
}

#[async_trait]
impl CatalogueStore for DynamoCatalogue {
    async fn current_catalogue(&self) -> Result<Option<Version>, StoreError> {
        let kept = self.latest.lock().expect("not poisoned").clone();
        match kept {
            Some((at, v)) if at.elapsed() < self.ttl => Ok(v),
            _ => self.read_latest().await,
        }
    }

    async fn apply_catalogue(&self, version: &Version) -> Result<(), StoreError> {
        let latest = self
            .read_latest()
            .await?
            .map_or(BUILTIN_VERSION, |v| v.version);
        if version.version != latest + 1 {
            return Err(StoreError::Conflict(format!(
                "catalogue version {} is not the next one",
                version.version
            )));
        }
        self.usage.one(Op::DdbPutItem);
        let r = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(PK))
            .item("sk", s(format!("V#{:06}", version.version)))
            .item("version", n(version.version))
            .item(
                "doc",
                s(serde_json::to_string(version).expect("serialises")),
            )
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match r {
            Ok(_) => {
                *self.latest.lock().expect("not poisoned") =
                    Some((Instant::now(), Some(version.clone())));
                Ok(())
            }
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Err(
                StoreError::Conflict("another catalogue version was applied first".into()),
            ),
            Err(e) => Err(crate::sdk_err("apply the catalogue", e)),
        }
    }

    async fn catalogue_history(&self) -> Result<Vec<Version>, StoreError> {
        self.versions(false, None).await
    }
}
