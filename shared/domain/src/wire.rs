//! Helpers for stored shapes that must stay as earlier versions wrote them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A field that is present (possibly `null`) or absent: `Some(None)` is written as `null`,
/// `None` is skipped (with `skip_serializing_if = "Option::is_none"`).
pub mod present {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<Option<String>>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().expect("skipped when absent").serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}
