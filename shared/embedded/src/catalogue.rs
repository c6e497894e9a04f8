//! The catalogue's versions in SQLite: one row per applied version; the next is taken
//! inside the single writer's transaction, so two applies never make the same version.

use crate::db::{unavailable, Db};
use async_trait::async_trait;
use domain::catalogue::{Version, BUILTIN_VERSION};
use ports::{CatalogueStore, StoreError};
use rusqlite::{params, OptionalExtension};
use std::sync::Arc;

pub struct SqliteCatalogue(pub Arc<Db>);

fn parse(doc: &str) -> Result<Version, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("catalogue: {e}")))
}

#[async_trait]
impl CatalogueStore for SqliteCatalogue {
    async fn current_catalogue(&self) -> Result<Option<Version>, StoreError> {
        let doc: Option<String> = self
            .0
            .read(|c| {
                c.query_row(
                    "SELECT doc FROM catalogue_versions ORDER BY version DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(unavailable)
            })
            .await?;
        doc.as_deref().map(parse).transpose()
    }

    async fn apply_catalogue(&self, version: &Version) -> Result<(), StoreError> {
        let doc = serde_json::to_string(version).expect("serialises");
        let n = version.version;
        self.0
            .write(move |c| {
                let latest: Option<u32> = c
                    .query_row("SELECT MAX(version) FROM catalogue_versions", [], |r| {
                        r.get(0)
                    })
                    .map_err(unavailable)?;
                if n != latest.unwrap_or(BUILTIN_VERSION) + 1 {
                    return Err(StoreError::Conflict(format!(
                        "catalogue version {n} is not the next one"
                    )));
                }
                c.execute(
                    "INSERT INTO catalogue_versions (version, doc) VALUES (?1, ?2)",
                    params![n, doc],
                )
                .map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    async fn catalogue_history(&self) -> Result<Vec<Version>, StoreError> {
        let docs = self
            .0
            .read(|c| {
                let mut s = c
                    .prepare_cached("SELECT doc FROM catalogue_versions ORDER BY version")
                    .map_err(unavailable)?;
                let r = s
                    .query_map([], |r| r.get(0))
                    .map_err(unavailable)?
                    .collect::<Result<Vec<String>, _>>()
                    .map_err(unavailable)?;
                Ok(r)
            })
            .await?;
        docs.iter().map(|d| parse(d)).collect()
    }
}
