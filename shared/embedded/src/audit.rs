//! The audit trail as a JSON Lines file (`audit.jsonl` in the data directory, owner-only),
//! apart from the database and the application log: one line per event, appended.

use async_trait::async_trait;
use domain::audit::AuditEvent;
use ports::{AuditLog, StoreError};
use std::io::{BufRead, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct JsonlAudit {
    path: PathBuf,
    /// One writer at a time, so lines never interleave.
    file: Mutex<std::fs::File>,
}

impl JsonlAudit {
    pub fn open(path: &Path) -> Result<JsonlAudit, StoreError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| StoreError::Unavailable(format!("audit log: {e}")))?;
        Ok(JsonlAudit {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    /// Every event in the file (for `onething audit`).
    pub fn read_all(path: &Path) -> Result<Vec<AuditEvent>, StoreError> {
        let f = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(StoreError::Unavailable(format!("audit log: {e}"))),
        };
        let mut out = vec![];
        for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line = line.map_err(|e| StoreError::Unavailable(format!("audit log: {e}")))?;
            if line.trim().is_empty() {
                continue;
            }
            // A line cut short by a crash is the only one that may not parse; it is the
            // last one and is skipped.
            match serde_json::from_str(&line) {
                Ok(e) => out.push(e),
                Err(e) => tracing::warn!(line = i + 1, error = %e, "unreadable audit line"),
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl AuditLog for JsonlAudit {
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let mut line = serde_json::to_vec(event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        line.push(b'\n');
        let mut f = self.file.lock().expect("audit file");
        // One write of the whole line to a file opened for appending.
        f.write_all(&line)
            .and_then(|_| f.flush())
            .map_err(|e| StoreError::Unavailable(format!("audit log: {e}")))
    }

    async fn for_case(&self, case_id: &str) -> Result<Vec<AuditEvent>, StoreError> {
        Ok(Self::read_all(&self.path)?
            .into_iter()
            .filter(|e| e.concerns(case_id))
            .collect())
    }
}
