//! What DynamoDB bills for a request, computed from item sizes as the DynamoDB Developer
//! Guide describes them ("Item sizes and formats", "Read/write capacity mode"):
//!
//! - an item's size is the sum, over its attributes, of the name's UTF-8 length and the
//!   value's size (strings: UTF-8 length; numbers: about one byte per two digits plus
//!   one; binary: its length; lists and maps: 3 bytes plus their elements);
//! - a write costs one write unit per KB (rounded up) of the item written, two inside
//!   `TransactWriteItems`; an update costs by the item's size after the update;
//! - a consistent read costs one read unit per 4 KB (rounded up), an eventually
//!   consistent one half of that; a query rounds the sum of the items it returns;
//! - every global secondary index holding the item costs one more write of its
//!   projected size (keys and projected attributes), and one more when the write moves
//!   the item within the index (a delete of its old entry): both are counted here as
//!   an upper bound, since the adapter does not know the item's previous keys.

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

/// The attributes each index projects besides the keys (as `infra/gen_template.py`
/// declares them).
pub const PROJECTED: [(&str, &[&str]); 6] = [
    ("gsi1", &[]),
    ("gsi2", &["task"]),
    ("gsi3", &[]),
    ("gsi4", &["row", "submitted"]),
    ("gsi5", &["entry"]),
    ("gsi6", &["escalations"]),
];

pub fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.trim_start_matches('-').len().div_ceil(2) + 1,
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(l) => 3 + l.iter().map(|x| 1 + value_size(x)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, x)| 1 + k.len() + value_size(x))
                .sum::<usize>()
        }
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

/// An item's size in bytes, as DynamoDB counts it.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

/// Write units for writing `bytes` once (at least one).
pub fn write_units(bytes: usize) -> u64 {
    bytes.div_ceil(1024).max(1) as u64
}

/// Read units for reading `bytes` (at least one request's worth), in half units.
pub fn read_half_units(bytes: usize, consistent: bool) -> u64 {
    let units = bytes.div_ceil(4096).max(1) as u64;
    if consistent {
        units * 2
    } else {
        units
    }
}

/// The index writes of putting `item`: per index holding it, its projected entry, plus
/// one unit for a possible delete of its previous entry when `may_move`.
pub fn index_write_units(item: &Item, may_move: bool) -> u64 {
    let mut units = 0;
    for (index, attrs) in PROJECTED {
        let (pk, sk) = (format!("{index}pk"), format!("{index}sk"));
        if !item.contains_key(&pk) {
            continue;
        }
        let size: usize = ["pk", "sk", pk.as_str(), sk.as_str()]
            .into_iter()
            .chain(attrs.iter().copied())
            .filter_map(|k| item.get(k).map(|v| k.len() + value_size(v)))
            .sum();
        units += write_units(size) + u64::from(may_move);
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_as_dynamodb_bills_them() {
        let item = HashMap::from([
            ("pk".to_string(), AttributeValue::S("CASE#x".into())),
            ("n".to_string(), AttributeValue::N("12345".into())),
        ]);
        // 2 + 6 + 1 + (3 + 1)
        assert_eq!(item_size(&item), 13);
        assert_eq!(write_units(1), 1);
        assert_eq!(write_units(1024), 1);
        assert_eq!(write_units(1025), 2);
        assert_eq!(read_half_units(4097, true), 4);
        assert_eq!(read_half_units(100, false), 1);
    }

    #[test]
    fn an_index_entry_costs_its_projected_size() {
        let mut item = HashMap::from([
            ("pk".to_string(), AttributeValue::S("CASE#x".into())),
            ("sk".to_string(), AttributeValue::S("CASE".into())),
            ("doc".to_string(), AttributeValue::S("x".repeat(5000))),
        ]);
        assert_eq!(index_write_units(&item, true), 0);
        item.insert("gsi2pk".into(), AttributeValue::S("TASK#police".into()));
        item.insert("gsi2sk".into(), AttributeValue::S("330106#1".into()));
        // The 5,000-byte doc is not projected: one unit, plus one for the moved entry.
        assert_eq!(index_write_units(&item, true), 2);
        assert_eq!(index_write_units(&item, false), 1);
    }
}
