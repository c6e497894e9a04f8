//! [`SqliteStore`]: cases, their messages and read models, committed together.

use super::*;
use ports::{BirthRecords, KeptAnswers, ReadModels, TaskIndex};

pub(super) fn insert_messages(c: &Connection, outbox: &[OutMessage]) -> Result<(), StoreError> {
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

pub(super) fn doc_of(case: &Case) -> String {
    serde_json::to_string(case).expect("case serialises")
}

/// The case's read models, in the case's own transaction: the tally's difference added,
/// its report row, changed feedback entries, its escalations replaced.
/// The case holding the newborn's claim, if any.
fn claim_holder(c: &Connection, claim: &str) -> Result<Option<String>, StoreError> {
    c.query_row(
        "SELECT case_id FROM newborns WHERE claim = ?1",
        [claim],
        |r| r.get(0),
    )
    .optional()
    .map_err(unavailable)
}

/// The parents the case names, each indexed once (`by_person`, `naming_newborn`).
fn index_parties(c: &Connection, case: &Case) -> Result<(), StoreError> {
    let mut party = c
        .prepare_cached("INSERT OR IGNORE INTO parties (party, case_id) VALUES (?1, ?2)")
        .map_err(unavailable)?;
    for p in case.parties() {
        party
            .execute(params![
                domain::projection::party_digest(&p),
                case.case_id()
            ])
            .map_err(unavailable)?;
    }
    Ok(())
}

pub(super) fn write_projections(c: &Connection, case: &Case) -> Result<(), StoreError> {
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
    index_parties(c, case)?;
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

pub(super) fn parse_case(doc: String) -> Result<Case, StoreError> {
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
                // A case awaiting the mother's confirmation holds no claim (yet).
                if case.holds_newborn_claim() {
                    if let Some(case_id) = claim_holder(c, &case.newborn_claim())? {
                        return Ok(Created::Duplicate { case_id });
                    }
                    c.execute(
                        "INSERT INTO newborns (claim, case_id) VALUES (?1, ?2)",
                        params![case.newborn_claim(), case.case_id()],
                    )
                    .map_err(unavailable)?;
                }
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
                if case.claims_newborn_now() {
                    match claim_holder(c, &case.newborn_claim())? {
                        Some(other) if other != case.case_id() => {
                            return Err(StoreError::Taken { holder: other })
                        }
                        Some(_) => {}
                        None => {
                            c.execute(
                                "INSERT INTO newborns (claim, case_id) VALUES (?1, ?2)",
                                params![case.newborn_claim(), case.case_id()],
                            )
                            .map_err(unavailable)?;
                        }
                    }
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
        self.query(sql::SELECT_OWNED, vec![owner.to_string().into()])
            .await
    }
    async fn naming_newborn(
        &self,
        mother_id: &str,
        newborn_claim: &str,
    ) -> Result<Vec<Case>, StoreError> {
        let party = domain::projection::party_digest(mother_id);
        let mut cases = self.query(sql::SELECT_NAMING, vec![party.into()]).await?;
        cases.retain(|c| {
            c.newborn_claim() == newborn_claim && c.form().mother.id_number.as_str() == mother_id
        });
        Ok(cases)
    }
    async fn by_person(&self, id_number: &str) -> Result<Vec<Case>, StoreError> {
        let party = domain::projection::party_digest(id_number);
        self.query(
            sql::SELECT_CASES,
            vec![id_number.to_string().into(), party.into()],
        )
        .await
    }
}

#[async_trait]
impl TaskIndex for SqliteStore {
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

#[async_trait]
impl KeptAnswers for SqliteStore {
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
}

#[async_trait]
impl ReadModels for SqliteStore {
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
            .filter(|e| {
                open.is_none_or(|o| {
                    o == (e.item.status != domain::feedback::FeedbackStatus::Closed)
                })
            })
            .collect())
    }
    async fn escalated(&self, region: Option<&str>) -> Result<Vec<EscalationEntry>, StoreError> {
        let args = vec![region.unwrap_or("").to_string().into()];
        self.json_rows(sql::SELECT_ESCALATIONS, args).await
    }
    async fn record_break_glass(
        &self,
        read: &domain::audit::BreakGlassRead,
        per_day: u32,
    ) -> Result<bool, StoreError> {
        let read = read.clone();
        let entry = serde_json::to_string(&read).expect("serialises");
        self.0
            .write(move |c| {
                let made: i64 = c
                    .query_row(
                        "SELECT COUNT(*) FROM break_glass WHERE supervisor = ?1 AND day = ?2",
                        params![read.supervisor, read.day()],
                        |r| r.get(0),
                    )
                    .map_err(unavailable)?;
                if made >= i64::from(per_day) {
                    return Ok(false);
                }
                c.execute(
                    "INSERT OR IGNORE INTO break_glass \
                     (entry_id, supervisor, day, region, order_key, entry) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        read.entry_id,
                        read.supervisor,
                        read.day(),
                        read.region,
                        read.order_key(),
                        entry
                    ],
                )
                .map_err(unavailable)?;
                Ok(true)
            })
            .await
    }
    async fn break_glass_reads(
        &self,
        region: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<domain::audit::BreakGlassRead>, Option<String>), StoreError> {
        let args = vec![
            region.unwrap_or("").to_string().into(),
            after.unwrap_or("~").to_string().into(),
            (limit as i64 + 1).into(),
        ];
        let mut rows: Vec<domain::audit::BreakGlassRead> = self
            .json_rows(
                "SELECT entry FROM break_glass WHERE substr(region, 1, length(?1)) = ?1 \
                 AND order_key < ?2 ORDER BY order_key DESC LIMIT ?3",
                args,
            )
            .await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = more.then(|| rows.last()).flatten().map(|r| r.order_key());
        Ok((rows, next))
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
}

#[async_trait]
impl BirthRecords for SqliteStore {
    async fn record_birth(
        &self,
        record: &domain::sharing::BirthRecord,
    ) -> Result<(String, bool), StoreError> {
        let id = record.id();
        let doc = serde_json::to_string(record).expect("serialises");
        let id2 = id.clone();
        let slot = record.slot();
        let created = self
            .0
            .write(move |c| {
                let holder: Option<String> = c
                    .query_row(
                        "SELECT birth_id FROM birth_slots WHERE slot = ?1",
                        [&slot],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(unavailable)?;
                match holder {
                    Some(h) if h != id2 => return Err(StoreError::Taken { holder: h }),
                    Some(_) => {}
                    None => {
                        c.execute(
                            "INSERT INTO birth_slots (slot, birth_id) VALUES (?1, ?2)",
                            params![slot, id2],
                        )
                        .map_err(unavailable)?;
                    }
                }
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
    async fn replace_birth(
        &self,
        record: &domain::sharing::BirthRecord,
    ) -> Result<bool, StoreError> {
        let (id, doc) = (
            record.id(),
            serde_json::to_string(record).expect("serialises"),
        );
        self.0
            .write(move |c| {
                let n = c
                    .execute(
                        "UPDATE births SET doc = ?2 WHERE birth_id = ?1",
                        params![id, doc],
                    )
                    .map_err(unavailable)?;
                Ok(n > 0)
            })
            .await
    }
    async fn birth_by_id(
        &self,
        birth_id: &str,
    ) -> Result<Option<domain::sharing::BirthRecord>, StoreError> {
        let id = birth_id.to_string();
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
    async fn newborn_holder(&self, claim: &str) -> Result<Option<String>, StoreError> {
        let claim = claim.to_string();
        self.0.read(move |c| claim_holder(c, &claim)).await
    }
    async fn birth(&self, key: &str) -> Result<Option<domain::sharing::BirthRecord>, StoreError> {
        self.birth_by_id(&domain::sharing::birth_id(key)).await
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
