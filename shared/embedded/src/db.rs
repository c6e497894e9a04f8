//! SQLite (WAL) storage: cases, idempotency keys, queues, allocations, notifications.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::case::Case;
use domain::flow::Dept;
use domain::notice::Notification;
use domain::projection::{CaseRow, EscalationEntry, FeedbackEntry, TallyCell};
use ports::{
    AllocError, Allocator, CaseStore, Created, DeadLetter, DeadLetterAdmin, Delivered, Notifier,
    OutMessage, QueueConsumer, QueueSender, Received, StoreError,
};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

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
CREATE TABLE IF NOT EXISTS newborns (
  claim TEXT PRIMARY KEY, case_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS births (
  birth_id TEXT PRIMARY KEY, doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
  case_id TEXT NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL, sent_at INTEGER NOT NULL,
  PRIMARY KEY (case_id, seq)
);
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

fn insert_messages(c: &Connection, outbox: &[OutMessage]) -> Result<(), StoreError> {
    let now = now_ms();
    let mut stmt = c
        .prepare_cached(sql::INSERT_MESSAGES)
        .map_err(unavailable)?;
    for m in outbox {
        stmt.execute(params![m.queue, m.body, now])
            .map_err(unavailable)?;
    }
    Ok(())
}

fn doc_of(case: &Case) -> String {
    serde_json::to_string(case).expect("case serialises")
}

/// The case's read models, in the case's own transaction: the tally's difference added,
/// its report row, changed feedback entries, its escalations replaced.
fn write_projections(c: &Connection, case: &Case) -> Result<(), StoreError> {
    let pending = case.pending();
    match case.next_check() {
        Some(due) => c
            .prepare_cached("INSERT OR REPLACE INTO checks (case_id, due) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![case.case_id(), due.timestamp_millis()])),
        None => c
            .prepare_cached("DELETE FROM checks WHERE case_id = ?1")
            .and_then(|mut s| s.execute(params![case.case_id()])),
    }
    .map_err(unavailable)?;
    let mut add = c.prepare_cached(sql::ADD_TALLY).map_err(unavailable)?;
    for cell in domain::projection::cells(&pending.tally) {
        for (field, n) in &cell.counters {
            add.execute(params![cell.month, cell.county, cell.unit, field, n])
                .map_err(unavailable)?;
        }
    }
    let row = case.row();
    c.prepare_cached(sql::PUT_ROW)
        .and_then(|mut s| {
            s.execute(params![
                case.case_id(),
                row.region,
                case.submitted_at().timestamp_millis(),
                serde_json::to_string(&row).expect("row serialises")
            ])
        })
        .map_err(unavailable)?;
    for e in &pending.feedback {
        c.prepare_cached(sql::PUT_FEEDBACK)
            .and_then(|mut s| {
                s.execute(params![
                    e.item.feedback_id,
                    case.case_id(),
                    e.item.dept.as_str(),
                    e.region,
                    serde_json::to_string(e).expect("entry serialises")
                ])
            })
            .map_err(unavailable)?;
    }
    c.execute("DELETE FROM tasks WHERE case_id = ?1", [case.case_id()])
        .map_err(unavailable)?;
    if let Some(t) = case.task_entry() {
        c.execute(
            "INSERT INTO tasks (case_id, dept, region, due, entry) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                case.case_id(),
                t.dept.as_str(),
                t.region.clone().unwrap_or_default(),
                t.due_at.timestamp_millis(),
                serde_json::to_string(&t).expect("task serialises")
            ],
        )
        .map_err(unavailable)?;
    }
    c.execute(
        "DELETE FROM escalations WHERE case_id = ?1",
        [case.case_id()],
    )
    .map_err(unavailable)?;
    for e in case.escalated() {
        c.execute(
            "INSERT INTO escalations (case_id, step, region, entry) VALUES (?1, ?2, ?3, ?4)",
            params![
                case.case_id(),
                e.step.as_str(),
                e.region.clone().unwrap_or_default(),
                serde_json::to_string(&e).expect("entry serialises")
            ],
        )
        .map_err(unavailable)?;
    }
    Ok(())
}

fn parse_case(doc: String) -> Result<Case, StoreError> {
    serde_json::from_str(&doc).map_err(|e| StoreError::Corrupt(format!("case document: {e}")))
}

pub struct SqliteStore(pub Arc<Db>);

#[async_trait]
impl CaseStore for SqliteStore {
    async fn get(&self, case_id: &str) -> Result<Option<Case>, StoreError> {
        let id = case_id.to_string();
        let doc: Option<String> = self
            .0
            .read(move |c| {
                c.prepare_cached("SELECT doc FROM cases WHERE case_id = ?1")
                    .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
                    .map_err(unavailable)
            })
            .await?;
        doc.map(parse_case).transpose()
    }

    async fn create(
        &self,
        case: &Case,
        scope: &str,
        outbox: &[OutMessage],
    ) -> Result<Created, StoreError> {
        let case = case.clone();
        let scope = scope.to_string();
        let outbox = outbox.to_vec();
        let queues: Vec<String> = outbox.iter().map(|m| m.queue.clone()).collect();
        let out = self
            .0
            .write(move |c| {
                let existing: Option<String> = c
                    .query_row(
                        sql::SELECT_IDEMPOTENCY,
                        params![scope, case.idempotency_key()],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(unavailable)?;
                if let Some(doc) = existing {
                    return Ok(Created::Existing(Box::new(parse_case(doc)?)));
                }
                let claim = case.newborn_claim();
                let holder: Option<String> = c
                    .query_row(
                        "SELECT case_id FROM newborns WHERE claim = ?1",
                        [&claim],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(unavailable)?;
                if let Some(case_id) = holder {
                    return Ok(Created::Duplicate { case_id });
                }
                c.execute(
                    "INSERT INTO newborns (claim, case_id) VALUES (?1, ?2)",
                    params![claim, case.case_id()],
                )
                .map_err(unavailable)?;
                let n = c
                    .execute(
                        sql::INSERT_CASES,
                        params![
                            case.case_id(),
                            case.version() as i64,
                            case.owner(),
                            case.status().as_str(),
                            case.is_settled() as i64,
                            case.submitted_at().timestamp_millis(),
                            doc_of(&case)
                        ],
                    )
                    .map_err(unavailable)?;
                if n == 0 {
                    return Err(StoreError::Conflict("case id taken".into()));
                }
                c.execute(
                    sql::INSERT_IDEMPOTENCY,
                    params![scope, case.idempotency_key(), case.case_id()],
                )
                .map_err(unavailable)?;
                write_projections(c, &case)?;
                insert_messages(c, &outbox)?;
                Ok(Created::New)
            })
            .await?;
        if matches!(out, Created::New) {
            self.0.wake(queues);
        }
        Ok(out)
    }

    async fn commit(
        &self,
        case: &Case,
        expected: u64,
        outbox: &[OutMessage],
    ) -> Result<(), StoreError> {
        // This store's allocator takes numbers at once and leaves none for the commit: a
        // reservation here came from another store's allocator and would be lost.
        if !case.pending().numbers.is_empty() {
            return Err(StoreError::Corrupt(
                "numbers reserved for this commit by an allocator of another store".into(),
            ));
        }
        let case = case.clone();
        let outbox = outbox.to_vec();
        let queues: Vec<String> = outbox.iter().map(|m| m.queue.clone()).collect();
        self.0
            .write(move |c| {
                let n = c
                    .prepare_cached(sql::UPDATE_CASES)
                    .and_then(|mut s| {
                        s.execute(params![
                            case.version() as i64,
                            case.status().as_str(),
                            case.is_settled() as i64,
                            doc_of(&case),
                            case.case_id(),
                            expected as i64
                        ])
                    })
                    .map_err(unavailable)?;
                if n == 0 {
                    return Err(StoreError::Conflict(format!(
                        "case {} is no longer at version {expected}",
                        case.case_id()
                    )));
                }
                if case.releases_newborn_now() {
                    c.execute(
                        "DELETE FROM newborns WHERE claim = ?1 AND case_id = ?2",
                        params![case.newborn_claim(), case.case_id()],
                    )
                    .map_err(unavailable)?;
                }
                write_projections(c, &case)?;
                insert_messages(c, &outbox)?;
                Ok(())
            })
            .await?;
        self.0.wake(queues);
        Ok(())
    }

    async fn by_owner(&self, owner: &str) -> Result<Vec<Case>, StoreError> {
        let owner = owner.to_string();
        self.query(sql::SELECT_CASES, vec![owner.into()]).await
    }

    async fn record_birth(
        &self,
        record: &domain::sharing::BirthRecord,
    ) -> Result<(String, bool), StoreError> {
        let id = record.id();
        let doc = serde_json::to_string(record).expect("serialises");
        let id2 = id.clone();
        let created = self
            .0
            .write(move |c| {
                let existing: Option<String> = c
                    .query_row("SELECT doc FROM births WHERE birth_id = ?1", [&id2], |r| {
                        r.get(0)
                    })
                    .optional()
                    .map_err(unavailable)?;
                match existing {
                    Some(d) if d == doc => Ok(false),
                    Some(_) => Err(StoreError::Conflict(
                        "a different record of this birth exists".into(),
                    )),
                    None => {
                        c.execute(
                            "INSERT INTO births (birth_id, doc) VALUES (?1, ?2)",
                            params![id2, doc],
                        )
                        .map_err(unavailable)?;
                        Ok(true)
                    }
                }
            })
            .await?;
        Ok((id, created))
    }

    async fn remember(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<ports::Remembered, StoreError> {
        let (scope, key, hash) = (scope.to_string(), key.to_string(), request_hash.to_string());
        let now_ms = now.timestamp_millis();
        let expires =
            (now + chrono::Duration::hours(ports::IDEMPOTENCY_TTL_HOURS)).timestamp_millis();
        self.0
            .write(move |c| {
                type Row = (String, i64, i64, Option<i64>, Option<String>);
                let row: Option<Row> = c
                    .query_row(
                        "SELECT request_hash, reserved_at, expires_at, status, body FROM responses \
                         WHERE scope = ?1 AND key = ?2",
                        params![scope, key],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                    )
                    .optional()
                    .map_err(unavailable)?;
                let take = match row {
                    Some((_, _, exp, _, _)) if exp < now_ms => true,
                    None => true,
                    Some((h, _, _, _, _)) if h != hash => return Ok(ports::Remembered::Mismatch),
                    Some((_, _, _, Some(status), Some(body))) => {
                        return Ok(ports::Remembered::Replay(ports::StoredResponse {
                            status: status as u16,
                            body,
                        }))
                    }
                    Some((_, at, _, _, _)) if now_ms - at < 60_000 => {
                        return Ok(ports::Remembered::InFlight)
                    }
                    Some(_) => true,
                };
                if take {
                    c.execute(
                        "INSERT OR REPLACE INTO responses (scope, key, request_hash, reserved_at, \
                         expires_at, status, body) VALUES (?1, ?2, ?3, ?4, ?5, NULL, NULL)",
                        params![scope, key, hash, now_ms, expires],
                    )
                    .map_err(unavailable)?;
                }
                Ok(ports::Remembered::New)
            })
            .await
    }

    async fn keep_response(
        &self,
        scope: &str,
        key: &str,
        response: &ports::StoredResponse,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (scope, key, body) = (scope.to_string(), key.to_string(), response.body.clone());
        let (status, exp) = (response.status as i64, expires.timestamp_millis());
        self.0
            .write(move |c| {
                c.execute(
                    "UPDATE responses SET status = ?3, body = ?4, expires_at = ?5 \
                     WHERE scope = ?1 AND key = ?2",
                    params![scope, key, status, body, exp],
                )
                .map(|_| ())
                .map_err(unavailable)
            })
            .await
    }

    async fn forget(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        let (scope, key) = (scope.to_string(), key.to_string());
        self.0
            .write(move |c| {
                c.execute(
                    "DELETE FROM responses WHERE scope = ?1 AND key = ?2 AND status IS NULL",
                    params![scope, key],
                )
                .map(|_| ())
                .map_err(unavailable)
            })
            .await
    }

    async fn birth(&self, key: &str) -> Result<Option<domain::sharing::BirthRecord>, StoreError> {
        let id = domain::sharing::birth_id(key);
        let doc: Option<String> = self
            .0
            .read(move |c| {
                c.query_row("SELECT doc FROM births WHERE birth_id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(unavailable)
            })
            .await?;
        doc.map(|d| serde_json::from_str(&d).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    async fn open_tasks(
        &self,
        dept: Dept,
        region: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<domain::view::TaskEntry>, Option<String>), StoreError> {
        // After the key's (region, due, case): a task without a region is stored as "".
        let (after_region, after_due, after_id) = match after {
            Some(a) => {
                let (r, due, id) = domain::view::parse_queue_key(a)
                    .ok_or_else(|| StoreError::Corrupt("queue key".into()))?;
                (r.unwrap_or("").to_string(), due, id.to_string())
            }
            None => (String::new(), i64::MIN, String::new()),
        };
        let args = vec![
            dept.as_str().to_string().into(),
            region.unwrap_or("").to_string().into(),
            after_region.into(),
            after_due.into(),
            after_id.into(),
            (limit as i64 + 1).into(),
        ];
        let mut tasks: Vec<domain::view::TaskEntry> =
            self.json_rows(sql::SELECT_TASKS, args).await?;
        let more = tasks.len() > limit;
        tasks.truncate(limit);
        let next = more
            .then(|| tasks.last().map(domain::view::TaskEntry::queue_key))
            .flatten();
        Ok((tasks, next))
    }

    async fn feedback_entries(
        &self,
        dept: Dept,
        region: Option<&str>,
        open: Option<bool>,
    ) -> Result<Vec<FeedbackEntry>, StoreError> {
        let args = vec![
            dept.as_str().to_string().into(),
            region.unwrap_or("").to_string().into(),
        ];
        let all: Vec<FeedbackEntry> = self.json_rows(sql::SELECT_FEEDBACK, args).await?;
        Ok(all
            .into_iter()
            .filter(|e| open.is_none_or(|o| o == (e.item.status != "closed")))
            .collect())
    }

    async fn escalated(&self, region: Option<&str>) -> Result<Vec<EscalationEntry>, StoreError> {
        let args = vec![region.unwrap_or("").to_string().into()];
        self.json_rows(sql::SELECT_ESCALATIONS, args).await
    }

    async fn tallies(
        &self,
        months: &[String],
        region: Option<&str>,
    ) -> Result<Vec<TallyCell>, StoreError> {
        let months = months.to_vec();
        let region = region.unwrap_or("").to_string();
        let rows: Vec<(String, String, String, String, i64)> = self
            .0
            .read(move |c| {
                let mut s = c.prepare_cached(sql::SELECT_TALLIES).map_err(unavailable)?;
                let mut out = vec![];
                for m in &months {
                    let rows = s
                        .query_map(params![m, region], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                        })
                        .map_err(unavailable)?;
                    for r in rows {
                        out.push(r.map_err(unavailable)?);
                    }
                }
                Ok(out)
            })
            .await?;
        let mut cells: Vec<TallyCell> = vec![];
        for (month, county, unit, field, n) in rows {
            match cells.last_mut() {
                Some(c) if c.month == month && c.county == county && c.unit == unit => {
                    c.counters.insert(field, n);
                }
                _ => cells.push(TallyCell {
                    month,
                    county,
                    unit,
                    counters: [(field, n)].into(),
                }),
            }
        }
        Ok(cells)
    }

    async fn case_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        region: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<CaseRow>, Option<String>), StoreError> {
        // Keyed by submission time then case id: `{ms:013}#{case_id}`.
        let (after_ms, after_id) = match after.and_then(|a| a.split_once('#')) {
            Some((ms, id)) => (
                ms.parse::<i64>()
                    .map_err(|_| StoreError::Corrupt("cursor".into()))?,
                id.to_string(),
            ),
            None => (i64::MIN, String::new()),
        };
        let args = vec![
            from.timestamp_millis().into(),
            to.timestamp_millis().into(),
            region.unwrap_or("").to_string().into(),
            after_ms.into(),
            after_id.into(),
            (limit as i64 + 1).into(),
        ];
        let mut rows: Vec<CaseRow> = self.json_rows(sql::SELECT_ROWS, args).await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = more
            .then(|| rows.last())
            .flatten()
            .map(|r| format!("{:013}#{}", r.submitted_at.timestamp_millis(), r.case_id));
        Ok((rows, next))
    }

    async fn due_for_check(
        &self,
        before: DateTime<Utc>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Case>, Option<String>), StoreError> {
        // Keys: `{due ms:013}#{case_id}`.
        let (due, id) = after
            .and_then(|a| a.split_once('#'))
            .map(|(d, i)| (d.parse::<i64>().unwrap_or(-1), i.to_string()))
            .unwrap_or((-1, String::new()));
        let cases = self
            .query(
                "SELECT c.doc FROM checks k JOIN cases c ON c.case_id = k.case_id \
                 WHERE k.due <= ?1 AND (k.due > ?2 OR (k.due = ?2 AND k.case_id > ?3)) \
                 ORDER BY k.due, k.case_id LIMIT ?4",
                vec![
                    before.timestamp_millis().into(),
                    due.into(),
                    id.into(),
                    (limit as i64).into(),
                ],
            )
            .await?;
        // The key of the last case: its due time as the index held it (its next check).
        let next = (cases.len() == limit)
            .then(|| cases.last())
            .flatten()
            .map(|c| {
                let due = c.next_check().map_or(0, |t| t.timestamp_millis());
                format!("{due:013}#{}", c.case_id())
            });
        Ok((cases, next))
    }
}

impl SqliteStore {
    /// Rows whose first column is a JSON document of `T`.
    async fn json_rows<T: serde::de::DeserializeOwned>(
        &self,
        sql: &'static str,
        args: Vec<rusqlite::types::Value>,
    ) -> Result<Vec<T>, StoreError> {
        let docs: Vec<String> = self
            .0
            .read(move |c| {
                let mut s = c.prepare_cached(sql).map_err(unavailable)?;
                let rows = s
                    .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(0))
                    .map_err(unavailable)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unavailable)?;
                Ok(rows)
            })
            .await?;
        docs.iter()
            .map(|d| serde_json::from_str(d).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }

    async fn query(
        &self,
        sql: &'static str,
        args: Vec<rusqlite::types::Value>,
    ) -> Result<Vec<Case>, StoreError> {
        self.json_rows(sql, args).await
    }
}

pub struct SqliteQueue {
    db: Arc<Db>,
    max_receive: u32,
}

impl SqliteQueue {
    pub fn new(db: Arc<Db>, max_receive: u32) -> Self {
        SqliteQueue { db, max_receive }
    }

    /// Make every in-flight message visible now. Only for a single consumer process at
    /// its start: whatever it had in flight when it died is redone.
    pub async fn release_in_flight(&self) -> Result<usize, StoreError> {
        self.db
            .write(|c| {
                let now = now_ms();
                c.execute(sql::UPDATE_MESSAGES, [now]).map_err(unavailable)
            })
            .await
    }

    /// Messages waiting (visible or in flight) and dead, per queue.
    pub async fn depths(&self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        self.db
            .read(|c| {
                let mut s = c.prepare(sql::SELECT_MESSAGES).map_err(unavailable)?;
                let rows = s
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(unavailable)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unavailable)?;
                Ok(rows)
            })
            .await
    }
}

fn split_receipt(receipt: &str) -> Result<i64, StoreError> {
    receipt
        .split(':')
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| StoreError::Corrupt("bad receipt".into()))
}

#[async_trait]
impl QueueSender for SqliteQueue {
    async fn send(&self, queue: &str, body: &str) -> Result<(), StoreError> {
        let m = vec![OutMessage {
            queue: queue.into(),
            body: body.into(),
        }];
        self.db
            .write(move |c| {
                insert_messages(c, &m)?;
                Ok(())
            })
            .await?;
        self.db.wake([queue.to_string()]);
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for SqliteQueue {
    async fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, StoreError> {
        let queue = queue.to_string();
        let max_receive = self.max_receive as i64;
        let vis = visibility.as_millis() as i64;
        self.db
            .write(move |c| {
                let now = now_ms();
                let rows: Vec<(i64, String, i64)> = {
                    let mut s = c
                        .prepare_cached(sql::SELECT_MESSAGES_2)
                        .map_err(unavailable)?;
                    let r = s
                        .query_map(params![queue, now, max as i64], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                        })
                        .map_err(unavailable)?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(unavailable)?;
                    r
                };
                let mut out = vec![];
                for (id, body, count) in rows {
                    if count >= max_receive {
                        c.execute(sql::UPDATE_MESSAGES_2, params![now, id])
                            .map_err(unavailable)?;
                        tracing::warn!(
                            queue = %queue,
                            message_id = id,
                            receives = count,
                            "message moved to the dead-letter queue"
                        );
                        continue;
                    }
                    let receipt = format!("{id}:{}", count + 1);
                    c.prepare_cached(sql::UPDATE_MESSAGES_3)
                        .and_then(|mut s| s.execute(params![count + 1, now + vis, receipt, id]))
                        .map_err(unavailable)?;
                    out.push(Received {
                        message_id: id.to_string(),
                        receipt,
                        body,
                        receive_count: (count + 1) as u32,
                    });
                }
                Ok(out)
            })
            .await
    }

    async fn ack(&self, _queue: &str, receipt: &str) -> Result<(), StoreError> {
        let id = split_receipt(receipt)?;
        let receipt = receipt.to_string();
        self.db
            .write(move |c| {
                c.prepare_cached(sql::DELETE_MESSAGES)
                    .and_then(|mut s| s.execute(params![id, receipt]))
                    .map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    async fn retry_later(
        &self,
        queue: &str,
        receipt: &str,
        delay: Duration,
        error: &str,
    ) -> Result<(), StoreError> {
        let id = split_receipt(receipt)?;
        let receipt = receipt.to_string();
        let error = error.chars().take(500).collect::<String>();
        let at = now_ms() + delay.as_millis() as i64;
        self.db
            .write(move |c| {
                c.execute(sql::UPDATE_MESSAGES_4, params![at, error, id, receipt])
                    .map_err(unavailable)?;
                Ok(())
            })
            .await?;
        let _ = queue;
        Ok(())
    }

    async fn dead_letter(
        &self,
        queue: &str,
        message: &Received,
        error: &str,
    ) -> Result<(), StoreError> {
        let receipt = message.receipt.as_str();
        let id = split_receipt(receipt)?;
        let receipt = receipt.to_string();
        let error = error.chars().take(500).collect::<String>();
        self.db
            .write(move |c| {
                c.execute(
                    sql::UPDATE_MESSAGES_5,
                    params![now_ms(), error, id, receipt],
                )
                .map_err(unavailable)?;
                Ok(())
            })
            .await?;
        tracing::warn!(
            queue,
            message_id = id,
            "message can never succeed: moved to the dead-letter queue"
        );
        Ok(())
    }

    async fn wait(&self, queue: &str, timeout: Duration) {
        let w = self.db.waker(queue);
        let _ = tokio::time::timeout(timeout, w.notified()).await;
    }
}

#[async_trait]
impl DeadLetterAdmin for SqliteQueue {
    async fn dead_letters(&self, queue: &str) -> Result<Vec<DeadLetter>, StoreError> {
        let queue = queue.to_string();
        self.db
            .read(move |c| {
                let mut s = c.prepare(sql::SELECT_MESSAGES_3).map_err(unavailable)?;
                let rows = s
                    .query_map([&queue], |r| {
                        let at: Option<i64> = r.get(4)?;
                        Ok(DeadLetter {
                            queue: queue.clone(),
                            message_id: r.get::<_, i64>(0)?.to_string(),
                            body: r.get(1)?,
                            receive_count: r.get::<_, i64>(2)? as u32,
                            last_error: r.get(3)?,
                            dead_at: at
                                .and_then(DateTime::<Utc>::from_timestamp_millis)
                                .map(|t| t.to_rfc3339()),
                        })
                    })
                    .map_err(unavailable)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unavailable)?;
                Ok(rows)
            })
            .await
    }

    async fn redrive(&self, queue: &str, message_id: Option<&str>) -> Result<usize, StoreError> {
        let q = queue.to_string();
        let id: Option<i64> = match message_id {
            Some(m) => Some(
                m.parse()
                    .map_err(|_| StoreError::Conflict("no such message".into()))?,
            ),
            None => None,
        };
        let n = self
            .db
            .write(move |c| {
                let n = c
                    .execute(sql::UPDATE_MESSAGES_6, params![now_ms(), q, id])
                    .map_err(unavailable)?;
                Ok(n)
            })
            .await?;
        self.db.wake([queue.to_string()]);
        Ok(n)
    }
}

pub struct SqliteAllocator(pub Arc<Db>);

#[async_trait]
impl Allocator for SqliteAllocator {
    async fn allocate(&self, namespace: &str, owner: &str, max: u64) -> Result<u64, AllocError> {
        let (ns, owner) = (namespace.to_string(), owner.to_string());
        let r = self
            .0
            .write(move |c| {
                let existing: Option<i64> = c
                    .query_row(sql::SELECT_ALLOCATIONS, params![ns, owner], |r| r.get(0))
                    .optional()
                    .map_err(unavailable)?;
                if let Some(o) = existing {
                    return Ok(Some(o as u64));
                }
                let last: i64 = c
                    .query_row(
                        "SELECT last FROM counters WHERE namespace = ?1",
                        [&ns],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(unavailable)?
                    .unwrap_or(0);
                let next = last + 1;
                if next as u64 > max {
                    return Ok(None);
                }
                c.execute(sql::INSERT_COUNTERS, params![ns, next])
                    .map_err(unavailable)?;
                c.execute(sql::INSERT_ALLOCATIONS, params![ns, owner, next])
                    .map_err(unavailable)?;
                Ok(Some(next as u64))
            })
            .await?;
        r.ok_or_else(|| AllocError::Exhausted(namespace.to_string()))
    }
}

pub struct SqliteNotifier(pub Arc<Db>);

#[async_trait]
impl Notifier for SqliteNotifier {
    async fn send(&self, n: &Notification) -> Result<(), StoreError> {
        let d = Delivered {
            notification: n.clone(),
            channel: "local-record".into(),
            sent_at: Utc::now(),
        };
        let doc = serde_json::to_string(&d).expect("serialises");
        let (case_id, seq) = (n.case_id.clone(), n.seq);
        self.0
            .write(move |c| {
                c.execute(
                    sql::INSERT_NOTIFICATIONS,
                    params![case_id, seq, doc, now_ms()],
                )
                .map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    async fn sent(&self, case_id: &str) -> Result<Vec<Delivered>, StoreError> {
        let id = case_id.to_string();
        let docs: Vec<String> = self
            .0
            .read(move |c| {
                let mut s = c
                    .prepare_cached(sql::SELECT_NOTIFICATIONS)
                    .map_err(unavailable)?;
                let r = s
                    .query_map([id], |r| r.get(0))
                    .map_err(unavailable)?
                    .collect::<Result<Vec<String>, _>>()
                    .map_err(unavailable)?;
                Ok(r)
            })
            .await?;
        docs.iter()
            .map(|d| serde_json::from_str(d).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
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
    pub const SELECT_CASES: &str =
        "SELECT doc FROM cases WHERE owner = ?1 ORDER BY submitted_at DESC, case_id \
         DESC";
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
}
