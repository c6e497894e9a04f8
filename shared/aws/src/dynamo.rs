//! DynamoDB: one table, items keyed by `pk`/`sk`, four sparse GSIs.
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | case | `CASE#{id}` | `CASE` | `version`, `doc1` (JSON deflated against a preset dictionary, `casedoc`; older items `docz`, `doc`), `outbox` (this change's messages, relayed from the stream); gsi1 owner, gsi2 open task (`task` projected), gsi3 `DUE#{0..7}` by next check (SLA monitor), gsi4 month then home county (`row` projected), gsi6 escalated steps (`escalations` projected) |
//! | feedback entry | `CASE#{id}` | `FB#{feedback_id}` | `entry`; gsi5 `FEEDBACK#{dept}#{open\|closed}` / `{region}#{created}#{id}`; written with the case |
//! | aggregates | `AGG#{yyyymm}` | `{county}#{dd}#{shard}` | one number per unit and counter (`aggregates`), added to in the case's transaction, in one of 8 shards by case |
//! | notification | `CASE#{id}` | `NOTE#{seq}` | idempotent by seq |
//! | idempotency key | `IDEM#{scope}#{key}` | `IDEM` | `case_id` |
//! | newborn claim | `NEWBORN#{digest}` | `NEWBORN` | `case_id`; written with the case, deleted when it ends unfinished |
//! | birth record | `BIRTH#{birth_id}` | `BIRTH` | `doc` |
//! | kept POST answer | `RESP#{scope}#{key}` | `RESP` | `request_hash`, `reserved_at`, `status`, `body`; `expires_at` is the table's TTL |
//! | allocation counter | `ALLOC#{namespace}` | `COUNTER` | `last` |
//! | allocation | `ALLOC#{namespace}` | `OWNER#{case_id}` | `ordinal` |

use crate::billing;
use crate::sdk_err;
use crate::usage::{Op, Usage};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};
use domain::case::Case;
use domain::flow::Dept;
use domain::notice::Notification;
use domain::projection::{CaseRow, EscalationEntry, FeedbackEntry, TallyCell};
use domain::steps::NumberTake;
use ports::{
    AllocError, Allocator, CaseStore, Created, Delivered, Notifier, OutMessage, StoreError,
};
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// Bill a consistent (or not) read of these items in one request.
pub(crate) fn bill_read<I: std::borrow::Borrow<Item>>(
    usage: &Usage,
    items: &[I],
    consistent: bool,
) {
    let bytes = items.iter().map(|i| billing::item_size(i.borrow())).sum();
    usage.add(
        Op::DdbReadHalfUnits,
        billing::read_half_units(bytes, consistent),
    );
}

/// Bill a single write (outside a transaction) of `item` (for an update: the attributes
/// it sets, with the key), and its index entries.
fn bill_write(usage: &Usage, item: &Item) {
    usage.add(
        Op::DdbWriteUnits,
        billing::write_units(billing::item_size(item)),
    );
    usage.add(
        Op::DdbIndexWriteUnits,
        billing::index_write_units(item, true),
    );
}

/// Bill a transaction: every item twice, and the index entries of the items it puts.
fn bill_transaction(usage: &Usage, items: &[TransactWriteItem]) {
    for t in items {
        let (bytes, index) = if let Some(p) = t.put() {
            (
                billing::item_size(p.item()),
                billing::index_write_units(p.item(), true),
            )
        } else if let Some(u) = t.update() {
            let mut bytes = billing::item_size(u.key());
            if let Some(v) = u.expression_attribute_values() {
                bytes += billing::item_size(v);
            }
            if let Some(n) = u.expression_attribute_names() {
                bytes += n.values().map(String::len).sum::<usize>();
            }
            (bytes, 0)
        } else if let Some(d) = t.delete() {
            (billing::item_size(d.key()), 0)
        } else {
            (0, 0)
        };
        usage.add(Op::DdbWriteUnits, 2 * billing::write_units(bytes));
        usage.add(Op::DdbIndexWriteUnits, index);
    }
}

/// A conditional write refused because its condition did not hold.
fn condition_failed<E: ProvideErrorMetadata, R>(
    e: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> bool {
    e.as_service_error().and_then(|x| x.code()) == Some("ConditionalCheckFailedException")
}

/// A stable, non-reversible key for a guardian or a caller: raw citizen IDs stay out of keys.
pub(crate) fn hex_sha256(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn case_key(id: &str) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("CASE#{id}"))),
        ("sk".into(), s("CASE")),
    ])
}

/// The case item with its index attributes and the messages of this change (relayed
/// from the table's stream: see [`crate::stream`]).
fn case_item(case: &Case, outbox: &[OutMessage]) -> Item {
    let mut item = case_key(case.case_id());
    item.insert("version".into(), n(case.version()));
    if let Some(o) = crate::stream::encode(outbox) {
        item.insert("outbox".into(), s(o));
    }
    item.insert(
        crate::casedoc::ATTR_V1.into(),
        AttributeValue::B(deflate(case).into()),
    );
    item.insert("status".into(), s(case.status().as_str()));
    let submitted = case.submitted_at().timestamp_millis();
    item.insert(
        "gsi1pk".into(),
        s(format!("OWNER#{}", hex_sha256(case.owner()))),
    );
    item.insert("gsi1sk".into(), n(submitted));
    // The open task, keyed by department and then by region and due time, with the
    // queue's line projected: a county's queue is one query reading no case.
    if let Some(t) = case.task_entry() {
        item.insert("gsi2pk".into(), s(format!("TASK#{}", t.dept.as_str())));
        item.insert("gsi2sk".into(), s(t.queue_key()));
        item.insert(
            "task".into(),
            s(crate::casedoc::pack(
                &serde_json::to_vec(&t).expect("task serialises"),
            )),
        );
    }
    // The SLA monitor's due index: by the case's next check, over a few partitions so
    // that no single key takes every case's writes.
    if let Some(due) = case.next_check() {
        item.insert(
            "gsi3pk".into(),
            s(format!("DUE#{}", due_shard(case.case_id()))),
        );
        item.insert("gsi3sk".into(), n(due.timestamp_millis()));
    }
    // The report's per-case list: by month, then home county and time.
    let row = case.row();
    item.insert(
        "gsi4pk".into(),
        s(format!(
            "MONTH#{}",
            domain::projection::month_of(case.submitted_at())
        )),
    );
    item.insert(
        "gsi4sk".into(),
        s(format!("{}#{submitted:013}#{}", row.region, case.case_id())),
    );
    item.insert("submitted".into(), n(submitted));
    item.insert(
        "row".into(),
        s(crate::casedoc::pack(
            &serde_json::to_vec(&row).expect("row serialises"),
        )),
    );
    // Sparse: cases with a step escalated in its current round.
    let escalated = case.escalated();
    if let Some(first) = escalated.iter().min_by_key(|e| e.due_at) {
        item.insert("gsi6pk".into(), s("ESCALATED"));
        item.insert(
            "gsi6sk".into(),
            s(format!(
                "{}#{:013}#{}",
                first.region.as_deref().unwrap_or("-"),
                first.due_at.timestamp_millis(),
                case.case_id()
            )),
        );
        item.insert(
            "escalations".into(),
            s(serde_json::to_string(&escalated).expect("entries serialise")),
        );
    }
    item
}

/// Partitions of the SLA monitor's due index.
pub const DUE_SHARDS: u8 = 8;

fn due_shard(case_id: &str) -> u8 {
    use sha2::{Digest, Sha256};
    Sha256::digest(case_id.as_bytes())[0] % DUE_SHARDS
}

/// The read-model writes of a commit: the tally's difference added per cell, changed
/// feedback entries put (see [`domain::projection`]).
fn projection_items(table: &str, case: &Case) -> Result<Vec<TransactWriteItem>, StoreError> {
    let pending = case.pending();
    let mut out = vec![];
    for u in crate::aggregates::updates(
        table,
        &pending.tally,
        crate::aggregates::shard_of(case.case_id()),
    )? {
        out.push(TransactWriteItem::builder().update(u).build());
    }
    for e in &pending.feedback {
        out.push(put(table, feedback_item(case, e), None)?);
    }
    Ok(out)
}

/// The inbox index's partition of a department's open (or closed) feedback.
fn feedback_partition(dept: Dept, open: bool) -> String {
    let status = if open { "open" } else { "closed" };
    format!("FEEDBACK#{}#{status}", dept.as_str())
}

/// A feedback entry's item, indexed by department and status, then region and time
/// (gsi5): closing an entry moves it out of the open partition that inboxes read.
fn feedback_item(case: &Case, e: &FeedbackEntry) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("CASE#{}", case.case_id()))),
        ("sk".into(), s(format!("FB#{}", e.item.feedback_id))),
        (
            "gsi5pk".into(),
            s(feedback_partition(e.item.dept, e.item.status != "closed")),
        ),
        (
            "gsi5sk".into(),
            s(format!(
                "{}#{:013}#{}",
                e.region,
                e.item.created_at.timestamp_millis(),
                e.item.feedback_id
            )),
        ),
        (
            "entry".into(),
            s(serde_json::to_string(e).expect("entry serialises")),
        ),
    ])
}

/// The newborn's claim item (keyed by a digest: no ID number in keys).
fn newborn_key(case: &Case) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("NEWBORN#{}", case.newborn_claim()))),
        ("sk".into(), s("NEWBORN")),
    ])
}

/// A JSON document held in an attribute.
fn json_attr<T: serde::de::DeserializeOwned>(item: &Item, name: &str) -> Result<T, StoreError> {
    let doc = item
        .get(name)
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("item without {name}")))?;
    let json =
        crate::casedoc::unpack(doc).map_err(|e| StoreError::Corrupt(format!("{name}: {e}")))?;
    serde_json::from_slice(&json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// `yyyymm` of the following month.
fn next_month(m: &str) -> String {
    let (y, mo) = (
        m.get(..4)
            .and_then(|y| y.parse::<i32>().ok())
            .unwrap_or(9999),
        m.get(4..).and_then(|x| x.parse::<u32>().ok()).unwrap_or(12),
    );
    if mo >= 12 {
        format!("{:04}01", y + 1)
    } else {
        format!("{y:04}{:02}", mo + 1)
    }
}

/// The case document, deflated against a preset dictionary ([`crate::casedoc`]): about a
/// tenth of the JSON's size, so of every write's cost.
fn deflate(case: &Case) -> Vec<u8> {
    crate::casedoc::compress(&serde_json::to_vec(case).expect("case serialises"))
}

fn parse_case(item: &Item) -> Result<Case, StoreError> {
    let bad = |e: String| StoreError::Corrupt(format!("case document: {e}"));
    if let Some(z) = item
        .get(crate::casedoc::ATTR_V1)
        .and_then(|v| v.as_b().ok())
    {
        let json = crate::casedoc::decompress(z.as_ref(), 8 << 20).map_err(bad)?;
        return serde_json::from_slice(&json).map_err(|e| bad(e.to_string()));
    }
    // Items written before the preset dictionary (plain deflate).
    if let Some(z) = item.get("docz").and_then(|v| v.as_b().ok()) {
        let reader = flate2::read::DeflateDecoder::new(z.as_ref());
        return serde_json::from_reader(reader).map_err(|e| bad(e.to_string()));
    }
    // Items written before the document was compressed.
    let doc = item
        .get("doc")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StoreError::Corrupt("case item without doc".into()))?;
    serde_json::from_str(doc).map_err(|e| bad(e.to_string()))
}

pub(crate) fn put(
    table: &str,
    item: Item,
    condition: Option<(&str, Vec<(&str, AttributeValue)>)>,
) -> Result<TransactWriteItem, StoreError> {
    let mut p = Put::builder().table_name(table).set_item(Some(item));
    if let Some((expr, values)) = condition {
        p = p.condition_expression(expr);
        for (k, v) in values {
            p = p.expression_attribute_values(k, v);
        }
    }
    Ok(TransactWriteItem::builder()
        .put(p.build().map_err(|e| sdk_err("put", e))?)
        .build())
}

/// Why an item of a cancelled `TransactWriteItems` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cancel {
    /// It did not fail.
    No,
    /// Its condition did not hold.
    Condition,
    /// Another transaction held it, or the request was throttled: worth retrying as is.
    Contention,
    /// Anything else (validation, item size...).
    Other,
}

fn cancel_of(code: Option<&str>) -> Cancel {
    match code {
        None | Some("None") | Some("") => Cancel::No,
        Some("ConditionalCheckFailed") => Cancel::Condition,
        Some("TransactionConflict")
        | Some("ThrottlingError")
        | Some("ProvisionedThroughputExceeded")
        | Some("RequestLimitExceeded") => Cancel::Contention,
        Some(_) => Cancel::Other,
    }
}

/// Why each item of a cancelled `TransactWriteItems` failed, from the typed cancellation
/// reasons (or, for endpoints that omit them, the codes listed in the message); None when
/// the call failed for another reason.
fn cancellation(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
    >,
) -> Option<Vec<Cancel>> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match e.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(t)
            if !t.cancellation_reasons().is_empty() =>
        {
            Some(
                t.cancellation_reasons()
                    .iter()
                    .map(|r| cancel_of(r.code()))
                    .collect(),
            )
        }
        svc if svc.code() == Some("TransactionCanceledException") => {
            // "... cancelled, please refer cancellation reasons for specific reasons
            // [ConditionalCheckFailed, None]"
            let msg = svc.message().unwrap_or("");
            let inner = msg.rsplit('[').next().unwrap_or("").trim_end_matches(']');
            Some(
                inner
                    .split(',')
                    .map(|r| cancel_of(Some(r.trim())))
                    .collect(),
            )
        }
        _ => None,
    }
}

/// How a transaction ended when it did not commit.
#[derive(Debug)]
pub(crate) enum TxError {
    /// Cancelled by these items' conditions (true: that item's condition failed).
    Conditions(Vec<bool>),
    Store(StoreError),
}

/// Run a transaction; contention (another transaction on an item, throttling) is retried
/// with jittered backoff a few times before the caller hears of it.
pub(crate) async fn transact(
    client: &Client,
    usage: &Usage,
    items: Vec<TransactWriteItem>,
) -> Result<(), TxError> {
    for attempt in 0..4u32 {
        usage.one(Op::DdbTransactWrite);
        usage.add(Op::DdbTransactItems, items.len() as u64);
        bill_transaction(usage, &items);
        let r = client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .send()
            .await;
        let e = match r {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        match cancellation(&e) {
            Some(c) if c.contains(&Cancel::Condition) => {
                return Err(TxError::Conditions(
                    c.iter().map(|x| *x == Cancel::Condition).collect(),
                ))
            }
            Some(c) if c.contains(&Cancel::Contention) && attempt < 3 => {
                let jitter = (uuid::Uuid::new_v4().as_u128() % 20) as u64;
                let wait = (10u64 << attempt) + jitter;
                tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            }
            Some(c) if c.contains(&Cancel::Contention) => {
                return Err(TxError::Store(StoreError::Unavailable(
                    "the transaction kept meeting contention".into(),
                )))
            }
            _ => return Err(TxError::Store(sdk_err("transaction", e))),
        }
    }
    unreachable!("the last attempt returns")
}

/// Which sort keys of a partition a query wants.
#[derive(Debug, Clone, Copy)]
enum SortKey<'a> {
    Any,
    Prefix(&'a str),
}

pub struct DynamoStore {
    client: Client,
    table: String,
    usage: Arc<Usage>,
}

impl DynamoStore {
    fn c(&self, op: Op) -> &Client {
        self.usage.one(op);
        &self.client
    }

    /// Load many new cases at once (a migration from another system, or a benchmark's
    /// seed): case items, newborn claims and feedback entries in batches of 25, then the
    /// aggregates summed and added once per cell. Unconditional, so only for case ids and
    /// newborns the table does not hold; each case prepared for its first commit.
    pub async fn import(&self, cases: &[Case]) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let mut items = vec![];
        let mut total = domain::projection::Tally::new();
        for c in cases {
            items.push(case_item(c, &[]));
            let mut claim = newborn_key(c);
            claim.insert("case_id".into(), s(c.case_id().to_string()));
            items.push(claim);
            for e in &c.pending().feedback {
                items.push(feedback_item(c, e));
            }
            for (k, v) in &c.pending().tally {
                *total.entry(k.clone()).or_default() += v;
            }
        }
        for chunk in items.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|i| {
                    let p = PutRequest::builder()
                        .set_item(Some(i.clone()))
                        .build()
                        .map_err(|e| sdk_err("put request", e))?;
                    Ok(WriteRequest::builder().put_request(p).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            while !requests.is_empty() {
                let r = self
                    .c(Op::DdbBatchWrite)
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(|e| sdk_err("batch write", e))?;
                requests = r
                    .unprocessed_items()
                    .and_then(|u| u.get(&self.table))
                    .cloned()
                    .unwrap_or_default();
                if !requests.is_empty() {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
        // Added once per cell, to the first shard (no concurrent commit to spread).
        for u in crate::aggregates::updates(&self.table, &total, 0)? {
            self.c(Op::DdbUpdateItem)
                .update_item()
                .table_name(u.table_name())
                .set_key(Some(u.key().clone()))
                .update_expression(u.update_expression())
                .set_expression_attribute_names(u.expression_attribute_names().cloned())
                .set_expression_attribute_values(u.expression_attribute_values().cloned())
                .send()
                .await
                .map_err(|e| sdk_err("add aggregates", e))?;
        }
        Ok(())
    }

    /// The size DynamoDB bills for each aggregate item of a month (`{county}#{dd}#{shard}` and
    /// bytes): an update of one is billed by its size after the update, which the
    /// transaction's billing here counts as one write unit; this tells whether it was.
    pub async fn aggregate_sizes(&self, month: &str) -> Result<Vec<(String, usize)>, StoreError> {
        let items = self
            .query_prefix(None, &format!("AGG#{month}"), None)
            .await?;
        Ok(items
            .iter()
            .map(|i| {
                let sk = i.get("sk").and_then(|v| v.as_s().ok()).cloned();
                (sk.unwrap_or_default(), billing::item_size(i))
            })
            .collect())
    }

    pub fn new(client: Client, table: String, usage: Arc<Usage>) -> Self {
        DynamoStore {
            client,
            table,
            usage,
        }
    }

    /// Every item of a partition (of the table, or of an index `gsiN` whose keys are
    /// `gsiNpk`/`gsiNsk`) whose sort key matches `sk`, in sort key order (`forward`) or
    /// reversed.
    async fn query_all(
        &self,
        index: Option<&str>,
        pk: &str,
        sk: SortKey<'_>,
        forward: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut out = vec![];
        let mut start: Option<Item> = None;
        let keys = index.unwrap_or("");
        loop {
            let mut q = self
                .c(Op::DdbQuery)
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_string))
                .expression_attribute_values(":p", s(pk))
                .scan_index_forward(forward)
                .set_exclusive_start_key(start.take());
            q = match sk {
                SortKey::Any => q.key_condition_expression(format!("{keys}pk = :p")),
                SortKey::Prefix(p) => q
                    .key_condition_expression(format!(
                        "{keys}pk = :p AND begins_with({keys}sk, :r)"
                    ))
                    .expression_attribute_values(":r", s(p)),
            };
            let r = q.send().await.map_err(|e| sdk_err("query", e))?;
            bill_read(&self.usage, r.items(), false);
            out.extend(r.items().iter().cloned());
            match r.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
    }

    /// [`DynamoStore::query_all`] by a sort key prefix (None: the whole partition).
    async fn query_prefix(
        &self,
        index: Option<&str>,
        pk: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<Item>, StoreError> {
        let sk = prefix.map_or(SortKey::Any, SortKey::Prefix);
        self.query_all(index, pk, sk, true).await
    }

    /// GSIs hold keys only for some items; read the cases themselves (consistently).
    async fn cases_from(&self, items: Vec<Item>) -> Result<Vec<Case>, StoreError> {
        let mut out = vec![];
        for it in items {
            if it.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) != Some("CASE") {
                continue;
            }
            let id = it
                .get("pk")
                .and_then(|v| v.as_s().ok())
                .map(|p| p.trim_start_matches("CASE#").to_string())
                .unwrap_or_default();
            if let Some(c) = self.get(&id).await? {
                out.push(c);
            }
        }
        Ok(out)
    }
}

impl DynamoStore {
    /// Up to `limit` keys of cases due by `before` in one partition of the due index,
    /// after `start`; with the key to go on from.
    async fn due_page(
        &self,
        shard: u8,
        before: i64,
        start: Option<Item>,
        limit: usize,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let r = self
            .c(Op::DdbQuery)
            .query()
            .table_name(&self.table)
            .index_name("gsi3")
            .key_condition_expression("gsi3pk = :p AND gsi3sk <= :v")
            .expression_attribute_values(":p", s(format!("DUE#{shard}")))
            .expression_attribute_values(":v", n(before))
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_err("query due cases", e))?;
        bill_read(&self.usage, r.items(), false);
        let next = r.last_evaluated_key().filter(|k| !k.is_empty()).cloned();
        Ok((r.items().to_vec(), next))
    }
}

#[async_trait]
impl CaseStore for DynamoStore {
    async fn get(&self, case_id: &str) -> Result<Option<Case>, StoreError> {
        let r = self
            .c(Op::DdbGetItem)
            .get_item()
            .table_name(&self.table)
            .set_key(Some(case_key(case_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("get case", e))?;
        bill_read(&self.usage, r.item().as_slice(), true);
        r.item().map(parse_case).transpose()
    }

    async fn create(
        &self,
        case: &Case,
        scope: &str,
        outbox: &[OutMessage],
    ) -> Result<Created, StoreError> {
        let idem_pk = format!("IDEM#{}#{}", hex_sha256(scope), case.idempotency_key());
        let idem = HashMap::from([
            ("pk".into(), s(idem_pk.clone())),
            ("sk".into(), s("IDEM")),
            ("case_id".into(), s(case.case_id().to_string())),
        ]);
        let claim_key = newborn_key(case);
        let mut claim = claim_key.clone();
        claim.insert("case_id".into(), s(case.case_id().to_string()));
        let mut items = vec![
            put(
                &self.table,
                idem,
                Some(("attribute_not_exists(pk)", vec![])),
            )?,
            put(
                &self.table,
                case_item(case, outbox),
                Some(("attribute_not_exists(pk)", vec![])),
            )?,
            put(
                &self.table,
                claim,
                Some(("attribute_not_exists(pk)", vec![])),
            )?,
        ];
        items.extend(projection_items(&self.table, case)?);
        match transact(&self.client, &self.usage, items).await {
            Ok(()) => {}
            Err(TxError::Store(e)) => return Err(e),
            Err(TxError::Conditions(reasons)) => match reasons {
                reasons if reasons.first() == Some(&true) => {
                    let r = self
                        .c(Op::DdbGetItem)
                        .get_item()
                        .table_name(&self.table)
                        .key("pk", s(idem_pk))
                        .key("sk", s("IDEM"))
                        .consistent_read(true)
                        .send()
                        .await
                        .map_err(|e| sdk_err("get idempotency key", e))?;
                    let id = r
                        .item()
                        .and_then(|i| i.get("case_id"))
                        .and_then(|v| v.as_s().ok())
                        .ok_or_else(|| {
                            StoreError::Unavailable("idempotency key vanished".into())
                        })?;
                    let existing = self.get(id).await?.ok_or_else(|| {
                        StoreError::Unavailable("idempotent case not readable yet".into())
                    })?;
                    return Ok(Created::Existing(Box::new(existing)));
                }
                reasons if reasons.get(2) == Some(&true) => {
                    let r = self
                        .c(Op::DdbGetItem)
                        .get_item()
                        .table_name(&self.table)
                        .set_key(Some(claim_key))
                        .consistent_read(true)
                        .send()
                        .await
                        .map_err(|e| sdk_err("get newborn claim", e))?;
                    let holder = r
                        .item()
                        .and_then(|i| i.get("case_id"))
                        .and_then(|v| v.as_s().ok())
                        .cloned();
                    return match holder {
                        Some(case_id) => Ok(Created::Duplicate { case_id }),
                        // Released in between: the caller may try again.
                        None => Err(StoreError::Unavailable("newborn claim changed".into())),
                    };
                }
                reasons if reasons.get(1) == Some(&true) => {
                    return Err(StoreError::Conflict("case id taken".into()))
                }
                _ => return Err(StoreError::Unavailable("create cancelled".into())),
            },
        }
        Ok(Created::New)
    }

    async fn commit(
        &self,
        case: &Case,
        expected: u64,
        outbox: &[OutMessage],
    ) -> Result<(), StoreError> {
        let mut items = vec![put(
            &self.table,
            case_item(case, outbox),
            Some(("version = :v", vec![(":v", n(expected))])),
        )?];
        if case.releases_newborn_now() {
            // Released only if this case holds the claim (a retried commit finds it gone).
            let del = aws_sdk_dynamodb::types::Delete::builder()
                .table_name(&self.table)
                .set_key(Some(newborn_key(case)))
                .condition_expression("attribute_not_exists(pk) OR case_id = :me")
                .expression_attribute_values(":me", s(case.case_id().to_string()))
                .build()
                .map_err(|e| sdk_err("delete", e))?;
            items.push(TransactWriteItem::builder().delete(del).build());
        }
        items.extend(projection_items(&self.table, case)?);
        // The step's numbers, taken with the results that carry them.
        items.extend(take_items(&self.table, &case.pending().numbers)?);
        match transact(&self.client, &self.usage, items).await {
            Ok(()) => {}
            // The case moved on, or another commit took a number read for this one.
            Err(TxError::Conditions(_)) => {
                return Err(StoreError::Conflict(format!(
                    "case {} is no longer at version {expected}, or its numbers were taken",
                    case.case_id()
                )))
            }
            Err(TxError::Store(e)) => return Err(e),
        }
        Ok(())
    }

    async fn record_birth(
        &self,
        record: &domain::sharing::BirthRecord,
    ) -> Result<(String, bool), StoreError> {
        let id = record.id();
        let doc = serde_json::to_string(record).expect("serialises");
        self.usage
            .add(Op::DdbWriteUnits, billing::write_units(doc.len() + 40));
        let r = self
            .c(Op::DdbPutItem)
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("BIRTH#{id}")))
            .item("sk", s("BIRTH"))
            .item("doc", s(doc.clone()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match r {
            Ok(_) => Ok((id, true)),
            Err(e) if condition_failed(&e) => match self.birth(&record.key()).await? {
                Some(existing) if &existing == record => Ok((id, false)),
                _ => Err(StoreError::Conflict(
                    "a different record of this birth exists".into(),
                )),
            },
            Err(e) => Err(sdk_err("record birth", e)),
        }
    }

    async fn remember(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<ports::Remembered, StoreError> {
        let pk = format!("RESP#{scope}#{key}");
        let now_ms = now.timestamp_millis();
        let expires = now + chrono::Duration::hours(ports::IDEMPOTENCY_TTL_HOURS);
        for _ in 0..3 {
            self.usage.add(Op::DdbWriteUnits, 1);
            // Reserve unless an unexpired record exists (TTL deletion is lazy, so the
            // expiry is checked here too), or take over a reservation that died.
            let r = self
                .c(Op::DdbPutItem)
                .put_item()
                .table_name(&self.table)
                .item("pk", s(pk.clone()))
                .item("sk", s("RESP"))
                .item("request_hash", s(request_hash))
                .item("reserved_at", n(now_ms))
                .item("expires_at", n(expires.timestamp()))
                .condition_expression(
                    "attribute_not_exists(pk) OR expires_at < :now \
                     OR (attribute_not_exists(#st) AND reserved_at < :stale AND request_hash = :h)",
                )
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":now", n(now.timestamp()))
                .expression_attribute_values(":stale", n(now_ms - 60_000))
                .expression_attribute_values(":h", s(request_hash))
                .send()
                .await;
            match r {
                Ok(_) => return Ok(ports::Remembered::New),
                Err(e) if condition_failed(&e) => {}
                Err(e) => return Err(sdk_err("remember", e)),
            }
            let got = self
                .c(Op::DdbGetItem)
                .get_item()
                .table_name(&self.table)
                .key("pk", s(pk.clone()))
                .key("sk", s("RESP"))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| sdk_err("remember", e))?;
            bill_read(&self.usage, got.item().as_slice(), true);
            let Some(item) = got.item() else { continue };
            let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
            let num = |k: &str| {
                item.get(k)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<i64>().ok())
            };
            if text("request_hash").as_deref() != Some(request_hash) {
                return Ok(ports::Remembered::Mismatch);
            }
            return Ok(match (num("status"), text("body")) {
                (Some(status), Some(body)) => ports::Remembered::Replay(ports::StoredResponse {
                    status: status as u16,
                    body,
                }),
                _ => ports::Remembered::InFlight,
            });
        }
        Ok(ports::Remembered::InFlight)
    }

    async fn keep_response(
        &self,
        scope: &str,
        key: &str,
        response: &ports::StoredResponse,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let size = 40 + scope.len() + key.len() + response.body.len();
        self.usage
            .add(Op::DdbWriteUnits, billing::write_units(size));
        self.c(Op::DdbUpdateItem)
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("RESP#{scope}#{key}")))
            .key("sk", s("RESP"))
            .update_expression("SET #st = :st, body = :b, expires_at = :e")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":st", n(response.status))
            .expression_attribute_values(":b", s(response.body.clone()))
            .expression_attribute_values(":e", n(expires.timestamp()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_err("keep response", e))
    }

    async fn forget(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        let r = self
            .c(Op::DdbDeleteItem)
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("RESP#{scope}#{key}")))
            .key("sk", s("RESP"))
            .condition_expression("attribute_not_exists(#st)")
            .expression_attribute_names("#st", "status")
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_err("forget", e)),
        }
    }

    async fn birth(&self, key: &str) -> Result<Option<domain::sharing::BirthRecord>, StoreError> {
        let id = domain::sharing::birth_id(key);
        let r = self
            .c(Op::DdbGetItem)
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("BIRTH#{id}")))
            .key("sk", s("BIRTH"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("get birth", e))?;
        bill_read(&self.usage, r.item().as_slice(), true);
        r.item()
            .and_then(|i| i.get("doc"))
            .and_then(|v| v.as_s().ok())
            .map(|d| serde_json::from_str(d).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    async fn by_owner(&self, owner: &str) -> Result<Vec<Case>, StoreError> {
        let owner = format!("OWNER#{}", hex_sha256(owner));
        let items = self
            .query_all(Some("gsi1"), &owner, SortKey::Any, false)
            .await?;
        self.cases_from(items).await
    }

    async fn open_tasks(
        &self,
        dept: Dept,
        region: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<domain::view::TaskEntry>, Option<String>), StoreError> {
        // One query of the department's index partition, from the key on: the index's
        // sort key is the queue key, and a start key names the item it comes from.
        let pk = format!("TASK#{}", dept.as_str());
        let start = match after {
            Some(a) => {
                let (_, _, case_id) = domain::view::parse_queue_key(a)
                    .ok_or_else(|| StoreError::Corrupt("queue key".into()))?;
                let mut k = case_key(case_id);
                k.insert("gsi2pk".into(), s(&pk));
                k.insert("gsi2sk".into(), s(a));
                Some(k)
            }
            None => None,
        };
        let mut q = self
            .c(Op::DdbQuery)
            .query()
            .table_name(&self.table)
            .index_name("gsi2")
            .expression_attribute_values(":p", s(&pk))
            .limit(limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(start);
        q = match region {
            None => q.key_condition_expression("gsi2pk = :p"),
            Some(r) => q
                .key_condition_expression("gsi2pk = :p AND begins_with(gsi2sk, :r)")
                .expression_attribute_values(":r", s(r)),
        };
        let r = q.send().await.map_err(|e| sdk_err("query", e))?;
        bill_read(&self.usage, r.items(), false);
        let tasks = r
            .items()
            .iter()
            .map(|i| json_attr(i, "task"))
            .collect::<Result<Vec<domain::view::TaskEntry>, _>>()?;
        let next = r
            .last_evaluated_key()
            .and_then(|k| k.get("gsi2sk"))
            .and_then(|v| v.as_s().ok())
            .cloned();
        Ok((tasks, next))
    }

    async fn due_for_check(
        &self,
        before: DateTime<Utc>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Case>, Option<String>), StoreError> {
        // Keys: `{shard}` (start of that partition) or `{shard}|{key as JSON}`.
        let (mut shard, mut start) = match after.map(|a| a.split_once('|').unwrap_or((a, ""))) {
            Some((sh, key)) => {
                let sh: u8 = sh.parse().unwrap_or(DUE_SHARDS);
                let key: Option<HashMap<String, String>> = serde_json::from_str(key).ok();
                let key = key.map(|k| {
                    k.into_iter()
                        .map(|(name, v)| {
                            let v = if name == "gsi3sk" { n(v) } else { s(v) };
                            (name, v)
                        })
                        .collect::<Item>()
                });
                (sh, key)
            }
            None => (0, None),
        };
        let mut keys = vec![];
        let mut next = None;
        while shard < DUE_SHARDS && keys.len() < limit {
            let (items, more) = self
                .due_page(
                    shard,
                    before.timestamp_millis(),
                    start.take(),
                    limit - keys.len(),
                )
                .await?;
            keys.extend(items);
            match more {
                Some(k) => {
                    let plain: HashMap<String, String> = k
                        .iter()
                        .filter_map(|(name, v)| {
                            let v = v.as_s().ok().or_else(|| v.as_n().ok())?;
                            Some((name.clone(), v.clone()))
                        })
                        .collect();
                    next = Some(format!(
                        "{shard}|{}",
                        serde_json::to_string(&plain).expect("serialises")
                    ));
                    start = Some(k);
                }
                None => {
                    shard += 1;
                    next = (shard < DUE_SHARDS).then(|| shard.to_string());
                }
            }
        }
        Ok((self.cases_from(keys).await?, next))
    }

    async fn feedback_entries(
        &self,
        dept: Dept,
        region: Option<&str>,
        open: Option<bool>,
    ) -> Result<Vec<FeedbackEntry>, StoreError> {
        let mut out: Vec<FeedbackEntry> = vec![];
        let parts: &[bool] = match open {
            Some(true) => &[true],
            Some(false) => &[false],
            None => &[true, false],
        };
        for open in parts {
            let pk = feedback_partition(dept, *open);
            for i in self.query_prefix(Some("gsi5"), &pk, region).await? {
                out.push(json_attr(&i, "entry")?);
            }
        }
        // Entries indexed before the inbox was split by status (each moves to its
        // status's partition when it next changes).
        for i in self
            .query_prefix(Some("gsi5"), &format!("FEEDBACK#{}", dept.as_str()), region)
            .await?
        {
            let e: FeedbackEntry = json_attr(&i, "entry")?;
            if open.is_none_or(|o| o == (e.item.status != "closed")) {
                out.push(e);
            }
        }
        Ok(out)
    }

    async fn escalated(&self, region: Option<&str>) -> Result<Vec<EscalationEntry>, StoreError> {
        let items = self.query_prefix(Some("gsi6"), "ESCALATED", region).await?;
        let mut out = vec![];
        for i in &items {
            let entries: Vec<EscalationEntry> = json_attr(i, "escalations")?;
            out.extend(entries.into_iter().filter(|e| {
                region.is_none_or(|p| e.region.as_deref().is_some_and(|r| r.starts_with(p)))
            }));
        }
        Ok(out)
    }

    async fn tallies(
        &self,
        months: &[String],
        region: Option<&str>,
    ) -> Result<Vec<TallyCell>, StoreError> {
        let mut out = vec![];
        for m in months {
            // Day items joined back into the month's cells.
            let items = self.query_prefix(None, &format!("AGG#{m}"), region).await?;
            out.extend(crate::aggregates::cells(m, &items));
        }
        Ok(out)
    }

    async fn case_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        region: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<CaseRow>, Option<String>), StoreError> {
        // Keys: `{yyyymm}|{gsi4sk}`; gsi4sk ends with the case id.
        let tz = domain::calendar::shanghai();
        let first = domain::projection::month_of(from.with_timezone(&tz));
        let last = domain::projection::month_of(
            (to - chrono::Duration::milliseconds(1)).with_timezone(&tz),
        );
        let (mut month, mut start) = match after.and_then(|a| a.split_once('|')) {
            Some((m, sk)) => {
                let case_id = sk.rsplit('#').next().unwrap_or_default();
                let key = HashMap::from([
                    ("pk".to_string(), s(format!("CASE#{case_id}"))),
                    ("sk".to_string(), s("CASE")),
                    ("gsi4pk".to_string(), s(format!("MONTH#{m}"))),
                    ("gsi4sk".to_string(), s(sk)),
                ]);
                (m.to_string(), Some(key))
            }
            None => (first, None),
        };
        let mut rows: Vec<(String, CaseRow)> = vec![];
        while month <= last && rows.len() <= limit {
            loop {
                let mut q = self
                    .c(Op::DdbQuery)
                    .query()
                    .table_name(&self.table)
                    .index_name("gsi4")
                    .expression_attribute_values(":p", s(format!("MONTH#{month}")))
                    .filter_expression("submitted >= :from AND submitted < :to")
                    .expression_attribute_values(":from", n(from.timestamp_millis()))
                    .expression_attribute_values(":to", n(to.timestamp_millis()))
                    // Evaluated before the period filter: read generously, return a page.
                    .limit(1000)
                    .set_exclusive_start_key(start.take());
                q = match region {
                    Some(prefix) => q
                        .key_condition_expression("gsi4pk = :p AND begins_with(gsi4sk, :r)")
                        .expression_attribute_values(":r", s(prefix)),
                    None => q.key_condition_expression("gsi4pk = :p"),
                };
                let r = q.send().await.map_err(|e| sdk_err("query case rows", e))?;
                bill_read(&self.usage, r.items(), false);
                for item in r.items() {
                    let sk = item
                        .get("gsi4sk")
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default();
                    rows.push((format!("{month}|{sk}"), json_attr(item, "row")?));
                }
                match r.last_evaluated_key() {
                    Some(k) if !k.is_empty() && rows.len() <= limit => start = Some(k.clone()),
                    _ => break,
                }
            }
            month = next_month(&month);
        }
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = more.then(|| rows.last().map(|(k, _)| k.clone())).flatten();
        Ok((rows.into_iter().map(|(_, r)| r).collect(), next))
    }
}

pub struct DynamoAllocator {
    client: Client,
    table: String,
    usage: Arc<Usage>,
    /// Numbers that may go unused, taken ahead per namespace: the next and the last of
    /// this process's block.
    blocks: tokio::sync::Mutex<HashMap<String, (u64, u64)>>,
    block_size: u64,
}

/// How many numbers that may go unused a process takes at a time: one counter write per
/// this many parcels, pick-up codes or cards instead of one in every case's transaction
/// (the parcels' counter is the province's: every case wrote it). A process that ends
/// leaves the rest of its block unused.
pub const BLOCK_SIZE: u64 = 20;

impl DynamoAllocator {
    fn c(&self, op: Op) -> &Client {
        self.usage.one(op);
        &self.client
    }

    pub fn new(client: Client, table: String, usage: Arc<Usage>) -> Self {
        DynamoAllocator {
            client,
            table,
            usage,
            blocks: Default::default(),
            block_size: BLOCK_SIZE,
        }
    }

    /// The next number of `ns` from this process's block, taking a new block (one
    /// atomic counter update, outside any transaction) when it is used up.
    async fn next_in_block(&self, ns: &str, max: u64) -> Result<u64, AllocError> {
        let mut blocks = self.blocks.lock().await;
        if let Some((next, last)) = blocks.get_mut(ns) {
            if *next <= *last {
                *next += 1;
                return Ok(*next - 1);
            }
        }
        self.usage.add(Op::DdbWriteUnits, 1);
        let r = self
            .c(Op::DdbUpdateItem)
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(ns)))
            .update_expression("ADD #l :n")
            .expression_attribute_names("#l", "last")
            .expression_attribute_values(":n", n(self.block_size))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| sdk_err("take a block of numbers", e))?;
        let last: u64 = r
            .attributes()
            .and_then(|a| a.get("last"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("counter {ns} without its value")))?;
        let first = last + 1 - self.block_size;
        if first > max {
            return Err(AllocError::Exhausted(ns.to_string()));
        }
        blocks.insert(ns.to_string(), (first + 1, last.min(max)));
        Ok(first)
    }
}

#[async_trait]
impl Allocator for DynamoAllocator {
    /// One number: [`Allocator::allocate_many`] with one request.
    async fn allocate(&self, namespace: &str, owner: &str, max: u64) -> Result<u64, AllocError> {
        let got = self
            .allocate_many(&[(namespace.to_string(), owner.to_string(), max)])
            .await?;
        Ok(got[0])
    }

    /// A step's numbers in two requests: [`DynamoAllocator::plan`]'s read, then one
    /// transaction of its writes. A lost race starts again; the same owner still never
    /// gets two numbers, two owners never one.
    async fn allocate_many(
        &self,
        requests: &[(String, String, u64)],
    ) -> Result<Vec<u64>, AllocError> {
        let asks: Vec<ports::NumberAsk> = requests
            .iter()
            .map(|(ns, owner, max)| ports::NumberAsk {
                namespace: ns.clone(),
                owner: owner.clone(),
                max: *max,
                lasting: true,
                from_block: false,
            })
            .collect();
        if asks.len() > 50 {
            // More than one BatchGetItem holds: in parts (each still all-or-nothing).
            let mut out = vec![];
            for part in requests.chunks(50) {
                out.extend(Box::pin(self.allocate_many(part)).await?);
            }
            return Ok(out);
        }
        for _ in 0..50 {
            let planned = self.plan(&asks).await?;
            if planned.takes.is_empty() {
                return Ok(planned.numbers);
            }
            match transact(
                &self.client,
                &self.usage,
                take_items(&self.table, &planned.takes)?,
            )
            .await
            {
                Ok(()) => return Ok(planned.numbers),
                Err(TxError::Conditions(_)) => continue,
                Err(TxError::Store(e)) => return Err(e.into()),
            }
        }
        Err(StoreError::Unavailable("allocations kept conflicting".into()).into())
    }

    /// One request: the plan's read; its writes go into the step's own commit
    /// ([`DynamoStore::commit`]). Numbers that may go unused come from this process's
    /// block instead, with nothing to write.
    async fn reserve(&self, asks: &[ports::NumberAsk]) -> Result<ports::Reserved, AllocError> {
        if asks.len() > 50 {
            return Err(StoreError::Unavailable(format!(
                "{} numbers asked for one commit; at most 50",
                asks.len()
            ))
            .into());
        }
        // Numbers of the case's own things from the block at once; everything with an
        // owner record (held numbers, lasting owners) through the plan's read.
        let (blocked, planned): (Vec<_>, Vec<_>) =
            asks.iter().partition(|a| a.from_block && !a.lasting);
        let mut reserved = if planned.is_empty() {
            ports::Reserved::default()
        } else {
            let planned: Vec<ports::NumberAsk> = planned.into_iter().cloned().collect();
            self.plan(&planned).await?
        };
        if blocked.is_empty() {
            return Ok(reserved);
        }
        // Back in the order asked.
        let mut from_plan = reserved.numbers.into_iter();
        let mut numbers = vec![];
        for a in asks {
            numbers.push(if a.from_block && !a.lasting {
                self.next_in_block(&a.namespace, a.max).await?
            } else {
                from_plan
                    .next()
                    .expect("one planned number per planned ask")
            });
        }
        reserved.numbers = numbers;
        Ok(reserved)
    }
}

impl DynamoAllocator {
    /// Read every owner and counter the asks name in one consistent `BatchGetItem`;
    /// owners that hold a number keep it, the others take the next ones. Returns the
    /// numbers and the writes that take them: each counter moved from the value read
    /// (conditional), each new lasting owner written (conditional on none).
    async fn plan(&self, asks: &[ports::NumberAsk]) -> Result<ports::Reserved, AllocError> {
        use aws_sdk_dynamodb::types::KeysAndAttributes;
        let mut keys: Vec<Item> = vec![];
        for a in asks {
            // A number from a block moves no counter in the commit: its counter is not read.
            let counter = (!a.from_block).then(|| counter_key(&a.namespace));
            for k in std::iter::once(owner_key(&a.namespace, &a.owner)).chain(counter) {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        let mut found: Vec<Item> = vec![];
        let mut ask = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| sdk_err("batch get", e))?,
        );
        while let Some(k) = ask.take() {
            let r = self
                .c(Op::DdbBatchGet)
                .batch_get_item()
                .request_items(&self.table, k)
                .send()
                .await
                .map_err(|e| sdk_err("batch get allocations", e))?;
            let items = r
                .responses()
                .and_then(|m| m.get(&self.table))
                .cloned()
                .unwrap_or_default();
            bill_read(&self.usage, &items, true);
            found.extend(items);
            ask = r
                .unprocessed_keys()
                .and_then(|u| u.get(&self.table))
                .filter(|k| !k.keys().is_empty())
                .cloned();
        }
        let num = |k: &Item, attr: &str| -> Option<u64> {
            found
                .iter()
                .find(|i| i.get("pk") == k.get("pk") && i.get("sk") == k.get("sk"))
                .and_then(|i| i.get(attr))
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok())
        };
        let mut counters: Vec<(String, u64, u64)> = vec![]; // (ns, read, next)
        let mut taken: Vec<(&ports::NumberAsk, u64)> = vec![];
        let mut numbers = vec![];
        for a in asks {
            let (ns, owner) = (&a.namespace, &a.owner);
            if let Some(o) = num(&owner_key(ns, owner), "ordinal").or_else(|| {
                taken
                    .iter()
                    .find(|(t, _)| &t.namespace == ns && &t.owner == owner)
                    .map(|x| x.1)
            }) {
                numbers.push(o);
                continue;
            }
            if a.from_block {
                // From this process's block: only the owner record goes into the commit
                // (a lost race for the same owner is that commit's conflict; the number
                // drawn is then a gap).
                let next = self.next_in_block(ns, a.max).await?;
                taken.push((a, next));
                numbers.push(next);
                continue;
            }
            let at = match counters.iter().position(|c| &c.0 == ns) {
                Some(i) => i,
                None => {
                    let last = num(&counter_key(ns), "last").unwrap_or(0);
                    counters.push((ns.clone(), last, last));
                    counters.len() - 1
                }
            };
            counters[at].2 += 1;
            let next = counters[at].2;
            if next > a.max {
                return Err(AllocError::Exhausted(ns.clone()));
            }
            taken.push((a, next));
            numbers.push(next);
        }
        let mut takes: Vec<NumberTake> = counters
            .into_iter()
            .map(|(namespace, from, to)| NumberTake::Counter {
                namespace,
                from,
                to,
            })
            .collect();
        for (a, ordinal) in taken {
            if a.lasting {
                takes.push(NumberTake::Owner {
                    namespace: a.namespace.clone(),
                    owner: a.owner.clone(),
                    ordinal,
                });
            }
        }
        Ok(ports::Reserved { numbers, takes })
    }
}

fn alloc_key(pk: String, sk: String) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

fn owner_key(ns: &str, owner: &str) -> Item {
    alloc_key(format!("ALLOC#{ns}"), format!("OWNER#{owner}"))
}

fn counter_key(ns: &str) -> Item {
    alloc_key(format!("ALLOC#{ns}"), "COUNTER".into())
}

/// The transaction items that take reserved numbers: each counter moved if still at the
/// value read, each lasting owner written if it holds none.
fn take_items(table: &str, takes: &[NumberTake]) -> Result<Vec<TransactWriteItem>, StoreError> {
    let mut items = vec![];
    for t in takes {
        match t {
            NumberTake::Counter {
                namespace,
                from,
                to,
            } => {
                let mut u = Update::builder()
                    .table_name(table)
                    .set_key(Some(counter_key(namespace)))
                    .update_expression("SET #l = :next")
                    .expression_attribute_names("#l", "last")
                    .expression_attribute_values(":next", n(to));
                u = if *from == 0 {
                    u.condition_expression("attribute_not_exists(#l)")
                } else {
                    u.condition_expression("#l = :last")
                        .expression_attribute_values(":last", n(from))
                };
                items.push(
                    TransactWriteItem::builder()
                        .update(u.build().map_err(|e| sdk_err("update", e))?)
                        .build(),
                );
            }
            NumberTake::Owner {
                namespace,
                owner,
                ordinal,
            } => {
                let mut mine = owner_key(namespace, owner);
                mine.insert("ordinal".into(), n(ordinal));
                items.push(put(
                    table,
                    mine,
                    Some(("attribute_not_exists(pk)", vec![])),
                )?);
            }
        }
    }
    Ok(items)
}

pub struct DynamoNotifier {
    client: Client,
    table: String,
    usage: Arc<Usage>,
}

impl DynamoNotifier {
    fn c(&self, op: Op) -> &Client {
        self.usage.one(op);
        &self.client
    }

    pub fn new(client: Client, table: String, usage: Arc<Usage>) -> Self {
        DynamoNotifier {
            client,
            table,
            usage,
        }
    }
}

#[async_trait]
impl Notifier for DynamoNotifier {
    async fn send(&self, note: &Notification) -> Result<(), StoreError> {
        let d = Delivered {
            notification: note.clone(),
            channel: "recorded".into(),
            sent_at: Utc::now(),
        };
        let item = HashMap::from([
            ("pk".to_string(), s(format!("CASE#{}", note.case_id))),
            ("sk".to_string(), s(format!("NOTE#{:06}", note.seq))),
            (
                "doc".to_string(),
                s(serde_json::to_string(&d).expect("serialises")),
            ),
        ]);
        bill_write(&self.usage, &item);
        let r = self
            .c(Op::DdbPutItem)
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_err("record notification", e)),
        }
    }

    async fn sent(&self, case_id: &str) -> Result<Vec<Delivered>, StoreError> {
        let r = self
            .c(Op::DdbQuery)
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p AND begins_with(sk, :n)")
            .expression_attribute_values(":p", s(format!("CASE#{case_id}")))
            .expression_attribute_values(":n", s("NOTE#"))
            // Read after the notifier's own writes (which sequence numbers went out).
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("list notifications", e))?;
        bill_read(&self.usage, r.items(), true);
        r.items()
            .iter()
            .filter_map(|i| i.get("doc").and_then(|v| v.as_s().ok()))
            .map(|d| serde_json::from_str(d).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throttle or another transaction on an item is retried, never read as a failed
    /// condition (which would mean "case id taken" or "another version").
    #[test]
    fn cancellation_codes_are_told_apart() {
        assert_eq!(cancel_of(Some("ConditionalCheckFailed")), Cancel::Condition);
        assert_eq!(cancel_of(Some("TransactionConflict")), Cancel::Contention);
        assert_eq!(cancel_of(Some("ThrottlingError")), Cancel::Contention);
        assert_eq!(cancel_of(Some("None")), Cancel::No);
        assert_eq!(cancel_of(None), Cancel::No);
        assert_eq!(cancel_of(Some("ValidationError")), Cancel::Other);
    }
}
