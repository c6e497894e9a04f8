//! [`DynamoStore`]: the cases, their indexes and read models, on the one table.

use super::*;
use ports::{KeptAnswers, ReadModels, TaskIndex};

/// Which sort keys of a partition a query wants.
#[derive(Debug, Clone, Copy)]
pub(super) enum SortKey<'a> {
    Any,
    Prefix(&'a str),
}

pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) table: String,
    pub(super) usage: Arc<Usage>,
}

impl DynamoStore {
    pub(super) fn c(&self, op: Op) -> &Client {
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

    /// The case holding the newborn claim under `key`, if any (read consistently).
    pub(super) async fn claim_holder(&self, key: Item) -> Result<Option<String>, StoreError> {
        let r = self
            .c(Op::DdbGetItem)
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("get newborn claim", e))?;
        Ok(r.item()
            .and_then(|i| i.get("case_id"))
            .and_then(|v| v.as_s().ok())
            .cloned())
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
        ];
        // A case awaiting the mother's confirmation holds no claim (yet).
        let claims = case.holds_newborn_claim();
        if claims {
            items.push(put(
                &self.table,
                claim,
                Some(("attribute_not_exists(pk)", vec![])),
            )?);
        }
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
                reasons if claims && reasons.get(2) == Some(&true) => {
                    return match self.claim_holder(claim_key).await? {
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
        // Taken on the mother's confirmation, unless another live case holds it.
        let claims = case.claims_newborn_now();
        if claims {
            let mut claim = newborn_key(case);
            claim.insert("case_id".into(), s(case.case_id().to_string()));
            items.push(put(
                &self.table,
                claim,
                Some((
                    "attribute_not_exists(pk) OR case_id = :me",
                    vec![(":me", s(case.case_id().to_string()))],
                )),
            )?);
        }
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
            Err(TxError::Conditions(c))
                if claims && c.first() != Some(&true) && c.get(1) == Some(&true) =>
            {
                return match self.claim_holder(newborn_key(case)).await? {
                    Some(case_id) => Err(StoreError::Taken { holder: case_id }),
                    None => Err(StoreError::Unavailable("newborn claim changed".into())),
                };
            }
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
    async fn by_owner(&self, owner: &str) -> Result<Vec<Case>, StoreError> {
        let owner = format!("OWNER#{}", hex_sha256(owner));
        let items = self
            .query_all(Some("gsi1"), &owner, SortKey::Any, false)
            .await?;
        self.cases_from(items).await
    }
    async fn naming_newborn(
        &self,
        mother_id: &str,
        newborn_claim: &str,
    ) -> Result<Vec<Case>, StoreError> {
        // One query of the parent's partition; only the items of this newborn are kept
        // (each party item carries its case's newborn claim), and only those cases read.
        let party = format!("PARTY#{}", domain::projection::party_digest(mother_id));
        let mut out = vec![];
        for i in self.query_all(None, &party, SortKey::Any, false).await? {
            if i.get("newborn")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                != Some(newborn_claim)
            {
                continue;
            }
            let id = i.get("case_id").and_then(|v| v.as_s().ok()).cloned();
            if let Some(c) = self.get(&id.unwrap_or_default()).await? {
                if c.form().mother.id_number.as_str() == mother_id {
                    out.push(c);
                }
            }
        }
        Ok(out)
    }
    async fn by_person(&self, id_number: &str) -> Result<Vec<Case>, StoreError> {
        let owner = format!("OWNER#{}", hex_sha256(id_number));
        let items = self
            .query_all(Some("gsi1"), &owner, SortKey::Any, false)
            .await?;
        let mut cases = self.cases_from(items).await?;
        // The cases that name them as a parent: one item per case under their digest.
        let party = format!("PARTY#{}", domain::projection::party_digest(id_number));
        for i in self.query_all(None, &party, SortKey::Any, false).await? {
            let id = i
                .get("case_id")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            if cases.iter().any(|c| c.case_id() == id) {
                continue;
            }
            if let Some(c) = self.get(&id).await? {
                cases.push(c);
            }
        }
        cases.sort_by(|a, b| (b.submitted_at(), b.case_id()).cmp(&(a.submitted_at(), a.case_id())));
        Ok(cases)
    }
}

#[async_trait]
impl TaskIndex for DynamoStore {
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
}

#[async_trait]
impl KeptAnswers for DynamoStore {
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
}

/// The partition of the break-glass reads (`GET /v1/supervision/break-glass`).
const BREAK_GLASS_LOG: &str = "BREAKGLASS#LOG";

#[async_trait]
impl ReadModels for DynamoStore {
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
            if open.is_none_or(|o| o == (e.item.status != domain::feedback::FeedbackStatus::Closed))
            {
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
    async fn record_break_glass(
        &self,
        read: &domain::audit::BreakGlassRead,
        per_day: u32,
    ) -> Result<bool, StoreError> {
        // The supervisor's count for the day goes up only while below the limit; the
        // entry is put in the same transaction (once: a retried request finds it).
        let count_key = HashMap::from([
            (
                "pk".to_string(),
                s(format!(
                    "BREAKGLASS#COUNT#{}#{}",
                    hex_sha256(&read.supervisor),
                    read.day()
                )),
            ),
            ("sk".to_string(), s("COUNT")),
        ]);
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(count_key))
            .update_expression("ADD made :one")
            .condition_expression("attribute_not_exists(made) OR made < :max")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(i64::from(per_day)))
            .build()
            .map_err(|e| sdk_err("update", e))?;
        let mut entry = HashMap::from([
            ("pk".to_string(), s(BREAK_GLASS_LOG)),
            ("sk".to_string(), s(read.order_key())),
        ]);
        entry.insert("region".into(), s(read.region.clone()));
        entry.insert(
            "entry".into(),
            s(serde_json::to_string(read).expect("serialises")),
        );
        let items = vec![
            TransactWriteItem::builder().update(count).build(),
            put(
                &self.table,
                entry,
                Some(("attribute_not_exists(pk)", vec![])),
            )?,
        ];
        match transact(&self.client, &self.usage, items).await {
            Ok(()) => Ok(true),
            Err(TxError::Conditions(c)) if c.first() == Some(&true) => Ok(false),
            // Already recorded (the same read again).
            Err(TxError::Conditions(_)) => Ok(true),
            Err(TxError::Store(e)) => Err(e),
        }
    }
    async fn break_glass_reads(
        &self,
        region: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<domain::audit::BreakGlassRead>, Option<String>), StoreError> {
        // One partition, newest first; a region's reads are those whose case is in it
        // (break-glass reads are few: at most a handful per supervisor a day).
        let mut out: Vec<domain::audit::BreakGlassRead> = vec![];
        let mut start: Option<Item> = None;
        loop {
            let mut q = self
                .c(Op::DdbQuery)
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :p AND sk < :a")
                .expression_attribute_values(":p", s(BREAK_GLASS_LOG))
                .expression_attribute_values(":a", s(after.unwrap_or("~")));
            if let Some(region) = region {
                q = q
                    .filter_expression("begins_with(#r, :r)")
                    .expression_attribute_names("#r", "region")
                    .expression_attribute_values(":r", s(region));
            }
            let r = q
                .scan_index_forward(false)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_err("query", e))?;
            bill_read(&self.usage, r.items(), false);
            for i in r.items() {
                out.push(json_attr(i, "entry")?);
            }
            match r.last_evaluated_key() {
                Some(k) if !k.is_empty() && out.len() <= limit => start = Some(k.clone()),
                _ => break,
            }
        }
        let more = out.len() > limit;
        out.truncate(limit);
        let next = more.then(|| out.last()).flatten().map(|r| r.order_key());
        Ok((out, next))
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
