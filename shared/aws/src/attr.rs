//! DynamoDB attribute values and items, shared by the table's item layouts (cases,
//! aggregates, appointments) without their knowing each other.

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// A stable, non-reversible key for a guardian or a caller (the SHA-256 of `s` in hex):
/// raw citizen IDs stay out of keys.
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
