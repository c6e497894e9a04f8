//! SQLite (WAL) storage: cases, idempotency keys, queues, allocations, notifications.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::case::Case;
use domain::flow::Dept;
use domain::notice::Notification;
use domain::projection::{CaseRow, EscalationEntry, FeedbackEntry, TallyCell};
use ports::{
    AllocError, Allocator, CaseStore, Created, DailyCaps, DeadLetter, DeadLetterAdmin, Delivered,
    Held, Notifier, OutMessage, QueueConsumer, QueueSender, Received, StoreError,
};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

mod notes;
mod numbers;
mod queue;
mod store;

pub use notes::*;
pub use numbers::*;
pub use queue::*;
pub use store::*;

/// How hard a commit is made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync the WAL on every commit: survives power loss.
    Full,
    /// fsync at checkpoints: survives a process crash (`kill -9`), not a power cut.
    Normal,
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS cases (
  case_id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  owner TEXT NOT NULL,
  status TEXT NOT NULL,
  finished INTEGER NOT NULL,
  submitted_at INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_owner ON cases(owner, submitted_at);
DROP INDEX IF EXISTS cases_task;
CREATE INDEX IF NOT EXISTS cases_unfinished ON cases(finished) WHERE finished = 0;
CREATE INDEX IF NOT EXISTS cases_submitted ON cases(submitted_at);
-- When the SLA monitor should look at a case next (settled cases have no row).
CREATE TABLE IF NOT EXISTS checks (case_id TEXT PRIMARY KEY, due INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS checks_due ON checks(due, case_id);
-- Cases stored before checks existed are due at once (the monitor's look moves them on).
INSERT OR IGNORE INTO checks (case_id, due)
  SELECT case_id, 0 FROM cases WHERE finished = 0
  AND NOT EXISTS (SELECT 1 FROM checks k WHERE k.case_id = cases.case_id)
  AND NOT EXISTS (SELECT 1 FROM checks LIMIT 1);
CREATE TABLE IF NOT EXISTS tallies (
  month TEXT NOT NULL, county TEXT NOT NULL, unit TEXT NOT NULL, field TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (month, county, unit, field)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS case_rows (
  case_id TEXT PRIMARY KEY, region TEXT NOT NULL, submitted_at INTEGER NOT NULL, row TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS case_rows_submitted ON case_rows(submitted_at, case_id);
CREATE TABLE IF NOT EXISTS feedback (
  feedback_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, dept TEXT NOT NULL,
  region TEXT NOT NULL, entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_dept ON feedback(dept, region);
CREATE TABLE IF NOT EXISTS tasks (
  case_id TEXT PRIMARY KEY, dept TEXT NOT NULL, region TEXT NOT NULL, due INTEGER NOT NULL,
  entry TEXT NOT NULL
);
DROP INDEX IF EXISTS tasks_queue;
CREATE INDEX IF NOT EXISTS tasks_by_queue_key ON tasks(dept, region, due, case_id);
CREATE TABLE IF NOT EXISTS escalations (
  case_id TEXT NOT NULL, step TEXT NOT NULL, region TEXT NOT NULL, entry TEXT NOT NULL,
  PRIMARY KEY (case_id, step)
);
CREATE INDEX IF NOT EXISTS escalations_region ON escalations(region);
CREATE TABLE IF NOT EXISTS break_glass (
  entry_id TEXT PRIMARY KEY, supervisor TEXT NOT NULL, day TEXT NOT NULL, region TEXT NOT NULL,
  order_key TEXT NOT NULL, entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS break_glass_by_supervisor ON break_glass(supervisor, day);
CREATE INDEX IF NOT EXISTS break_glass_by_order ON break_glass(order_key);
CREATE TABLE IF NOT EXISTS idempotency (
  scope TEXT NOT NULL, key TEXT NOT NULL, case_id TEXT NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS responses (
  scope TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
  reserved_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, status INTEGER, body TEXT,
  PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  visible_at INTEGER NOT NULL,
  receive_count INTEGER NOT NULL DEFAULT 0,
  receipt TEXT,
  dead INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  dead_at INTEGER
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages(queue, dead, visible_at);
CREATE TABLE IF NOT EXISTS allocations (
  namespace TEXT NOT NULL, owner TEXT NOT NULL, ordinal INTEGER NOT NULL,
  PRIMARY KEY (namespace, owner)
);
CREATE UNIQUE INDEX IF NOT EXISTS allocations_ordinal ON allocations(namespace, ordinal);
CREATE TABLE IF NOT EXISTS counters (namespace TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (
  key TEXT PRIMARY KEY, content_type TEXT NOT NULL, write_once INTEGER NOT NULL, bytes BLOB NOT NULL
);
-- The people a case names (digests of the parents' ID numbers): a parent who did not
-- apply lists the case too.
CREATE TABLE IF NOT EXISTS parties (
  party TEXT NOT NULL, case_id TEXT NOT NULL, PRIMARY KEY (party, case_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS newborns (
  claim TEXT PRIMARY KEY, case_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS births (
  birth_id TEXT PRIMARY KEY, doc TEXT NOT NULL
);
-- One record per birth (mother, birth minute, order), whichever institution files it.
CREATE TABLE IF NOT EXISTS birth_slots (slot TEXT PRIMARY KEY, birth_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notifications (
  case_id TEXT NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL, sent_at INTEGER NOT NULL,
  PRIMARY KEY (case_id, seq)
);
-- The daily caps on a family's messages: sent today per case and per phone (digest).
CREATE TABLE IF NOT EXISTS notice_counts (key TEXT PRIMARY KEY, n INTEGER NOT NULL);
-- Messages the caps held, owed one summary per phone and day.
CREATE TABLE IF NOT EXISTS held_notices (
  case_id TEXT NOT NULL, seq INTEGER NOT NULL, day TEXT NOT NULL, phone TEXT NOT NULL,
  summarised INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (case_id, seq)
);
CREATE INDEX IF NOT EXISTS held_by_day ON held_notices (day, summarised);
-- The catalogue's applied versions (the built-in one is 1 and is not stored).
CREATE TABLE IF NOT EXISTS catalogue_versions (version INTEGER PRIMARY KEY, doc TEXT NOT NULL);
-- Appointments: the guardian by digest; `active` rows count against their slot.
CREATE TABLE IF NOT EXISTS appointments (
  appointment_id TEXT PRIMARY KEY, guardian TEXT NOT NULL, purpose TEXT NOT NULL,
  site_id TEXT NOT NULL, start INTEGER NOT NULL, day TEXT NOT NULL, active INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS appointments_slot ON appointments(site_id, start) WHERE active = 1;
CREATE INDEX IF NOT EXISTS appointments_day ON appointments(site_id, day, start);
CREATE INDEX IF NOT EXISTS appointments_guardian ON appointments(guardian, start);
CREATE UNIQUE INDEX IF NOT EXISTS appointments_one_active
  ON appointments(guardian, purpose) WHERE active = 1;
"#;

pub(crate) fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// A write, run inside a savepoint of the writer's current transaction; returns what to
/// do once that transaction's commit succeeded or failed.
type Job = Box<dyn FnOnce(&Connection) -> Box<dyn FnOnce(Result<(), StoreError>) + Send> + Send>;

/// Most writes one group commit takes.
const GROUP_MAX: usize = 256;

/// The database. Writes go to one writer thread that **group-commits**: it takes every
/// write waiting, runs each in its own savepoint (a failed conditional write rolls back
/// alone), commits once (one fsync for the group), and only then answers each caller.
/// Reads use a pool of read connections (WAL lets them run beside the writer).
pub struct Db {
    path: std::path::PathBuf,
    writer: Mutex<std::sync::mpsc::Sender<Job>>,
    readers: Mutex<Vec<Connection>>,
    wakers: Mutex<HashMap<String, Arc<Notify>>>,
}

fn open_conn(path: &Path, durability: Durability) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(unavailable)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(unavailable)?;
    conn.pragma_update(
        None,
        "synchronous",
        if durability == Durability::Full {
            "FULL"
        } else {
            "NORMAL"
        },
    )
    .map_err(unavailable)?;
    conn.pragma_update(None, "busy_timeout", 5000)
        .map_err(unavailable)?;
    Ok(conn)
}

fn writer_loop(conn: Connection, rx: std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < GROUP_MAX {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            // The jobs are dropped unrun: each caller gets "unavailable" and retries.
            tracing::warn!(error = %e, writes = jobs.len(), "could not begin a write transaction");
            continue;
        }
        let done: Vec<_> = jobs.into_iter().map(|j| j(&conn)).collect();
        let outcome = conn.execute_batch("COMMIT").map_err(unavailable);
        if outcome.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for d in done {
            d(outcome.clone());
        }
    }
}

impl Db {
    pub fn open(path: &Path, durability: Durability) -> Result<Db, StoreError> {
        let conn = open_conn(path, durability)?;
        conn.execute_batch(SCHEMA).map_err(unavailable)?;
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("onething-writer".into())
            .spawn(move || writer_loop(conn, rx))
            .map_err(unavailable)?;
        Ok(Db {
            path: path.to_path_buf(),
            writer: Mutex::new(tx),
            readers: Mutex::new(Vec::new()),
            wakers: Mutex::new(HashMap::new()),
        })
    }

    fn waker(&self, queue: &str) -> Arc<Notify> {
        self.wakers
            .lock()
            .expect("wakers")
            .entry(queue.to_string())
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone()
    }

    fn wake(&self, queues: impl IntoIterator<Item = String>) {
        for q in queues {
            self.waker(&q).notify_waiters();
            self.waker(&q).notify_one();
        }
    }

    /// Run a write in the next group commit; returns once it is durable.
    pub(crate) async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn: &Connection| {
            let result = match conn.execute_batch("SAVEPOINT w") {
                Err(e) => Err(unavailable(e)),
                Ok(()) => {
                    let r = f(conn);
                    let end = if r.is_ok() {
                        "RELEASE w"
                    } else {
                        "ROLLBACK TO w; RELEASE w"
                    };
                    match conn.execute_batch(end) {
                        Ok(()) => r,
                        Err(e) => Err(unavailable(e)),
                    }
                }
            };
            Box::new(move |commit: Result<(), StoreError>| {
                let _ = reply.send(commit.and(result));
            })
        });
        self.writer
            .lock()
            .map_err(|_| StoreError::Unavailable("writer lock poisoned".into()))?
            .send(job)
            .map_err(|_| StoreError::Unavailable("the database writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the database writer dropped a write".into()))?
    }

    /// Store a blob. A write-once key that holds other bytes is a conflict (same bytes: no-op).
    pub async fn put_blob(
        self: &Arc<Self>,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        once: bool,
    ) -> Result<(), StoreError> {
        let (key, bytes, ct) = (key.to_string(), bytes.to_vec(), content_type.to_string());
        self.write(move |c| {
            let existing: Option<(Vec<u8>, bool)> = c
                .query_row(sql::SELECT_BLOBS, [&key], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(unavailable)?;
            match existing {
                Some((old, _)) if old == bytes => Ok(()),
                Some((_, true)) => Err(StoreError::Conflict(format!(
                    "{key} is write-once and holds other bytes"
                ))),
                Some(_) if once => Err(StoreError::Conflict(format!("{key} already exists"))),
                _ => {
                    c.execute(sql::INSERT_BLOBS, params![key, ct, once, bytes])
                        .map_err(unavailable)?;
                    Ok(())
                }
            }
        })
        .await
    }

    pub async fn get_blob(self: &Arc<Self>, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_string();
        self.read(move |c| {
            c.query_row("SELECT bytes FROM blobs WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(unavailable)
        })
        .await
    }

    /// Run a read on a pooled read connection, on a blocking thread.
    pub(crate) async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = db
                .readers
                .lock()
                .map_err(|_| StoreError::Unavailable("pool lock poisoned".into()))?
                .pop();
            let conn = match pooled {
                Some(c) => c,
                None => open_conn(&db.path, Durability::Normal)?,
            };
            let r = f(&conn);
            if let Ok(mut pool) = db.readers.lock() {
                if pool.len() < 8 {
                    pool.push(conn);
                }
            }
            r
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("worker: {e}")))?
    }
}

/// The SQL statements, out of the expressions that run them.
mod sql {
    pub const SELECT_BLOBS: &str = "SELECT bytes, write_once FROM blobs WHERE key = ?1";
    pub const INSERT_BLOBS: &str =
        "INSERT OR REPLACE INTO blobs (key, content_type, write_once, bytes) VALUES \
         (?1, ?2, ?3, ?4)";
    pub const INSERT_MESSAGES: &str =
        "INSERT INTO messages (queue, body, visible_at, created_at) VALUES (?1, ?2, ?3, \
         ?3)";
    pub const SELECT_IDEMPOTENCY: &str =
        "SELECT c.doc FROM idempotency i JOIN cases c ON c.case_id = i.case_id WHERE \
         i.scope = ?1 AND i.key = ?2";
    pub const INSERT_CASES: &str =
        "INSERT OR IGNORE INTO cases (case_id, version, owner, status, finished, \
         submitted_at, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    pub const INSERT_IDEMPOTENCY: &str =
        "INSERT INTO idempotency (scope, key, case_id) VALUES (?1, ?2, ?3)";
    pub const UPDATE_CASES: &str =
        "UPDATE cases SET version = ?1, status = ?2, finished = ?3, doc = ?4 \
         WHERE case_id = ?5 AND version = ?6";
    pub const SELECT_OWNED: &str =
        "SELECT doc FROM cases WHERE owner = ?1 ORDER BY submitted_at DESC, case_id DESC";
    pub const SELECT_NAMING: &str = "SELECT doc FROM cases WHERE case_id IN \
         (SELECT case_id FROM parties WHERE party = ?1) ORDER BY submitted_at DESC, case_id DESC";
    pub const SELECT_CASES: &str = "SELECT doc FROM cases WHERE owner = ?1 \
         OR case_id IN (SELECT case_id FROM parties WHERE party = ?2) \
         ORDER BY submitted_at DESC, case_id DESC";
    pub const SELECT_TASKS: &str = "SELECT entry FROM tasks \
        WHERE dept = ?1 AND substr(region, 1, length(?2)) = ?2 \
        AND (region, due, case_id) > (?3, ?4, ?5) \
        ORDER BY region, due, case_id LIMIT ?6";
    pub const ADD_TALLY: &str = "INSERT INTO tallies (month, county, unit, field, n) \
        VALUES (?1, ?2, ?3, ?4, ?5) \
        ON CONFLICT (month, county, unit, field) DO UPDATE SET n = n + excluded.n";
    pub const SELECT_TALLIES: &str = "SELECT month, county, unit, field, n FROM tallies \
        WHERE month = ?1 AND substr(county, 1, length(?2)) = ?2 ORDER BY county, unit";
    pub const PUT_ROW: &str =
        "INSERT OR REPLACE INTO case_rows (case_id, region, submitted_at, row) \
        VALUES (?1, ?2, ?3, ?4)";
    pub const SELECT_ROWS: &str = "SELECT row FROM case_rows \
        WHERE submitted_at >= ?1 AND submitted_at < ?2 AND substr(region, 1, length(?3)) = ?3 \
        AND (submitted_at > ?4 OR (submitted_at = ?4 AND case_id > ?5)) \
        ORDER BY submitted_at, case_id LIMIT ?6";
    pub const PUT_FEEDBACK: &str = "INSERT OR REPLACE INTO feedback \
        (feedback_id, case_id, dept, region, entry) VALUES (?1, ?2, ?3, ?4, ?5)";
    pub const SELECT_FEEDBACK: &str = "SELECT entry FROM feedback \
        WHERE dept = ?1 AND substr(region, 1, length(?2)) = ?2";
    pub const SELECT_ESCALATIONS: &str = "SELECT entry FROM escalations \
        WHERE substr(region, 1, length(?1)) = ?1";
    pub const UPDATE_MESSAGES: &str =
        "UPDATE messages SET visible_at = ?1 WHERE dead = 0 AND visible_at > ?1 AND \
         receive_count > 0";
    pub const SELECT_MESSAGES: &str =
        "SELECT queue, SUM(dead = 0), SUM(dead = 1) FROM messages GROUP BY queue ORDER \
         BY queue";
    pub const SELECT_MESSAGES_2: &str =
        "SELECT id, body, receive_count FROM messages WHERE queue = ?1 AND dead = 0 AND \
         visible_at <= ?2 ORDER BY visible_at, id LIMIT ?3";
    pub const UPDATE_MESSAGES_2: &str = "UPDATE messages SET dead = 1, dead_at = ?1 WHERE id = ?2";
    pub const UPDATE_MESSAGES_3: &str =
        "UPDATE messages SET receive_count = ?1, visible_at = ?2, receipt = ?3 WHERE id \
         = ?4";
    pub const DELETE_MESSAGES: &str = "DELETE FROM messages WHERE id = ?1 AND receipt = ?2";
    pub const UPDATE_MESSAGES_4: &str =
        "UPDATE messages SET visible_at = ?1, last_error = ?2 WHERE id = ?3 AND receipt \
         = ?4";
    pub const UPDATE_MESSAGES_5: &str =
        "UPDATE messages SET dead = 1, dead_at = ?1, last_error = ?2 WHERE id = ?3 AND \
         receipt = ?4";
    pub const SELECT_MESSAGES_3: &str =
        "SELECT id, body, receive_count, last_error, dead_at FROM messages WHERE queue \
         = ?1 AND dead = 1 ORDER BY id";
    pub const UPDATE_MESSAGES_6: &str =
        "UPDATE messages SET dead = 0, receive_count = 0, visible_at = ?1, dead_at = \
         NULL WHERE queue = ?2 AND dead = 1 AND (?3 IS NULL OR id = ?3)";
    pub const SELECT_ALLOCATIONS: &str =
        "SELECT ordinal FROM allocations WHERE namespace = ?1 AND owner = ?2";
    pub const INSERT_COUNTERS: &str =
        "INSERT INTO counters (namespace, last) VALUES (?1, ?2) ON CONFLICT(namespace) \
         DO UPDATE SET last = ?2";
    pub const INSERT_ALLOCATIONS: &str =
        "INSERT INTO allocations (namespace, owner, ordinal) VALUES (?1, ?2, ?3)";
    pub const INSERT_NOTIFICATIONS: &str =
        "INSERT OR IGNORE INTO notifications (case_id, seq, doc, sent_at) VALUES (?1, \
         ?2, ?3, ?4)";
    pub const SELECT_NOTIFICATIONS: &str =
        "SELECT doc FROM notifications WHERE case_id = ?1 ORDER BY seq";
    pub const NOTIFICATION_EXISTS: &str =
        "SELECT 1 FROM notifications WHERE case_id = ?1 AND seq = ?2";
    pub const NOTICE_COUNT: &str = "SELECT n FROM notice_counts WHERE key = ?1";
    pub const BUMP_NOTICE_COUNT: &str = "INSERT INTO notice_counts (key, n) VALUES (?1, 1) \
         ON CONFLICT (key) DO UPDATE SET n = n + 1";
    pub const INSERT_HELD: &str =
        "INSERT OR IGNORE INTO held_notices (case_id, seq, day, phone) VALUES (?1, ?2, ?3, ?4)";
    pub const SELECT_HELD: &str = "SELECT phone, COUNT(*) FROM held_notices WHERE day = ?1 \
         AND summarised = 0 GROUP BY phone ORDER BY phone";
    pub const MARK_SUMMARISED: &str =
        "UPDATE held_notices SET summarised = 1 WHERE day = ?1 AND phone = ?2";
}
