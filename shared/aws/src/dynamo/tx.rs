//! One `TransactWriteItems`, billed as DynamoDB bills it, and why it was cancelled.

use super::*;

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
pub(super) enum Cancel {
    /// It did not fail.
    No,
    /// Its condition did not hold.
    Condition,
    /// Another transaction held it, or the request was throttled: worth retrying as is.
    Contention,
    /// Anything else (validation, item size...).
    Other,
}

pub(super) fn cancel_of(code: Option<&str>) -> Cancel {
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
pub(super) fn cancellation(
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

/// Bill a transaction: every item twice, and the index entries of the items it puts.
pub(super) fn bill_transaction(usage: &Usage, items: &[TransactWriteItem]) {
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
pub(super) fn condition_failed<E: ProvideErrorMetadata, R>(
    e: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> bool {
    e.as_service_error().and_then(|x| x.code()) == Some("ConditionalCheckFailedException")
}
