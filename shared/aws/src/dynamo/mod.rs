//! DynamoDB: one table, items keyed by `pk`/`sk`, four sparse GSIs.
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | case | `CASE#{id}` | `CASE` | `version`, `doc1` (JSON deflated against a preset dictionary, `casedoc`; older items `docz`, `doc`), `outbox` (this change's messages, relayed from the stream); gsi1 owner, gsi2 open task (`task` projected), gsi3 `DUE#{0..7}` by next check (SLA monitor), gsi4 month then home county (`row` projected), gsi6 escalated steps (`escalations` projected) |
//! | feedback entry | `CASE#{id}` | `FB#{feedback_id}` | `entry`; gsi5 `FEEDBACK#{dept}#{open\|closed}` / `{region}#{created}#{id}`; written with the case |
//! | aggregates | `AGG#{yyyymm}` | `{county}#{dd}#{shard}` | one number per unit and counter (`aggregates`), added to in the case's transaction, in one of 8 shards by case |
//! | notification | `CASE#{id}` | `NOTE#{seq}` | idempotent by seq |
//! | a phone's messages of a day | `NOTECAP#{yyyy-mm-dd}` | `PHONE#{digest}` | `total` and `c_{case_id}` sent (the daily caps), `held` and `phone` (the next day's summary), `summarised`; `expires_at` a week on |
//! | idempotency key | `IDEM#{scope}#{key}` | `IDEM` | `case_id` |
//! | newborn claim | `NEWBORN#{digest}` | `NEWBORN` | `case_id`; written with the case, deleted when it ends unfinished |
//! | birth record | `BIRTH#{birth_id}` | `BIRTH` | `doc` |
//! | kept POST answer | `RESP#{scope}#{key}` | `RESP` | `request_hash`, `reserved_at`, `status`, `body`; `expires_at` is the table's TTL |
//! | allocation counter | `ALLOC#{namespace}` | `COUNTER` | `last` |
//! | allocation | `ALLOC#{namespace}` | `OWNER#{case_id}` | `ordinal` |
//! | catalogue version | `CATALOGUE` | `V#{version:06}` | `version`, `doc` (written once, by the operator's `onething catalogue apply`; see `catalogue.rs`) |

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
    AllocError, Allocator, CaseStore, Created, DailyCaps, Delivered, Held, Notifier, OutMessage,
    StoreError,
};
use std::collections::HashMap;
use std::sync::Arc;

mod births;
mod items;
mod notes;
mod numbers;
mod store;
mod tx;

pub use items::*;
pub use notes::*;
pub use numbers::*;
pub use store::*;
pub(crate) use tx::*;

pub(crate) use crate::attr::{hex_sha256, n, s, Item};

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
