//! Embedded adapters: everything on one machine, durable on disk, no external service.
//!
//! One SQLite database in WAL mode holds cases, the idempotency index, the queues (with
//! visibility timeout, receive counts and dead letters), the number allocations and the
//! notifications; blobs are files. Because cases and queue messages share one database,
//! a case change and the messages it causes commit in one transaction: a `kill -9` at any
//! moment loses nothing that was acknowledged and sends nothing twice that was not meant.

mod appointments;
mod audit;
mod blobs;
mod catalogue;
mod db;
mod hmac;
mod signer;

pub use appointments::SqliteAppointments;
pub use audit::JsonlAudit;
pub use blobs::SqliteBlobs;
pub use catalogue::SqliteCatalogue;
pub use db::{Db, Durability, SqliteAllocator, SqliteNotifier, SqliteQueue, SqliteStore};
pub use hmac::hmac_sha256_hex;
pub use signer::{jwk, LocalSigner};

use std::path::Path;
use std::sync::Arc;

/// The audit trail's file in the data directory.
pub const AUDIT_FILE: &str = "audit.jsonl";

/// Every embedded adapter over one data directory.
pub struct Embedded {
    pub db: Arc<Db>,
    pub store: Arc<SqliteStore>,
    pub queues: Arc<SqliteQueue>,
    pub numbers: Arc<SqliteAllocator>,
    pub notifier: Arc<SqliteNotifier>,
    pub blobs: Arc<SqliteBlobs>,
    pub audit: Arc<JsonlAudit>,
    pub appointments: Arc<SqliteAppointments>,
    pub catalogue: Arc<SqliteCatalogue>,
}

impl Embedded {
    /// Open (or create) the data directory. `max_receive` is the DLQ threshold.
    pub fn open(
        dir: &Path,
        durability: Durability,
        max_receive: u32,
        secret: &[u8],
    ) -> Result<Embedded, ports::StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| ports::StoreError::Unavailable(format!("data dir: {e}")))?;
        let db = Arc::new(Db::open(&dir.join("onething.db"), durability)?);
        Ok(Embedded {
            store: Arc::new(SqliteStore(db.clone())),
            queues: Arc::new(SqliteQueue::new(db.clone(), max_receive)),
            numbers: Arc::new(SqliteAllocator(db.clone())),
            notifier: Arc::new(SqliteNotifier(db.clone())),
            blobs: Arc::new(SqliteBlobs::new(db.clone(), secret.to_vec())),
            audit: Arc::new(JsonlAudit::open(&dir.join(AUDIT_FILE))?),
            appointments: Arc::new(SqliteAppointments(db.clone())),
            catalogue: Arc::new(SqliteCatalogue(db.clone())),
            db,
        })
    }
}
