//! The items a case is stored as: the case item with its index keys, its feedback
//! entries, its newborn's claim, and how the case document is packed.

use super::*;

pub(super) fn case_key(id: &str) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("CASE#{id}"))),
        ("sk".into(), s("CASE")),
    ])
}

/// The case item with its index attributes and the messages of this change (relayed
/// from the table's stream: see [`crate::stream`]).
pub(super) fn case_item(case: &Case, outbox: &[OutMessage]) -> Item {
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

pub(super) fn due_shard(case_id: &str) -> u8 {
    use sha2::{Digest, Sha256};
    Sha256::digest(case_id.as_bytes())[0] % DUE_SHARDS
}

/// The read-model writes of a commit: the tally's difference added per cell, changed
/// feedback entries put (see [`domain::projection`]).
pub(super) fn projection_items(
    table: &str,
    case: &Case,
) -> Result<Vec<TransactWriteItem>, StoreError> {
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
    // A parent the case names, indexed once (`by_person`).
    for p in &pending.parties {
        let item = HashMap::from([
            ("pk".to_string(), s(format!("PARTY#{p}"))),
            ("sk".to_string(), s(format!("CASE#{}", case.case_id()))),
            ("case_id".to_string(), s(case.case_id().to_string())),
            ("newborn".to_string(), s(case.newborn_claim())),
        ]);
        out.push(put(table, item, None)?);
    }
    Ok(out)
}

/// The inbox index's partition of a department's open (or closed) feedback.
pub(super) fn feedback_partition(dept: Dept, open: bool) -> String {
    let status = if open { "open" } else { "closed" };
    format!("FEEDBACK#{}#{status}", dept.as_str())
}

/// A feedback entry's item, indexed by department and status, then region and time
/// (gsi5): closing an entry moves it out of the open partition that inboxes read.
pub(super) fn feedback_item(case: &Case, e: &FeedbackEntry) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("CASE#{}", case.case_id()))),
        ("sk".into(), s(format!("FB#{}", e.item.feedback_id))),
        (
            "gsi5pk".into(),
            s(feedback_partition(
                e.item.dept,
                e.item.status != domain::feedback::FeedbackStatus::Closed,
            )),
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
pub(super) fn newborn_key(case: &Case) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("NEWBORN#{}", case.newborn_claim()))),
        ("sk".into(), s("NEWBORN")),
    ])
}

/// A JSON document held in an attribute.
pub(super) fn json_attr<T: serde::de::DeserializeOwned>(
    item: &Item,
    name: &str,
) -> Result<T, StoreError> {
    let doc = item
        .get(name)
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("item without {name}")))?;
    let json =
        crate::casedoc::unpack(doc).map_err(|e| StoreError::Corrupt(format!("{name}: {e}")))?;
    serde_json::from_slice(&json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// `yyyymm` of the following month.
pub(super) fn next_month(m: &str) -> String {
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
pub(super) fn deflate(case: &Case) -> Vec<u8> {
    crate::casedoc::compress(&serde_json::to_vec(case).expect("case serialises"))
}

pub(super) fn parse_case(item: &Item) -> Result<Case, StoreError> {
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
