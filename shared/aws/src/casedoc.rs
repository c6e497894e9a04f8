//! The case document as stored: JSON deflated against a preset dictionary.
//!
//! A case's JSON is 3–11 KB and its keys, step names, Chinese notices and time formats
//! repeat from case to case. Deflate alone takes it to about 30 % (one case has too little
//! of itself to repeat); with a preset dictionary (a sample case's JSON, so the common
//! strings are back-references from the first byte) to about 10 %. Every write of the case
//! is billed by its item's size, so this is the largest single saving on the write path.
//!
//! A dictionary is frozen once used: items written with it are read with it. A new
//! dictionary gets a new number and a new attribute (`doc2`, ...), and the old one stays.
//! The dictionary is a synthetic case from the built-in sample registry (no real person).

use std::sync::OnceLock;

/// Dictionary 1 (two JSON lines: a case as submitted and the same case completed).
pub const DICTIONARY_V1: &[u8] = include_bytes!("case-dictionary-v1.jsonl");
/// Its SHA-256, checked by a test: the file must never change.
pub const DICTIONARY_V1_SHA256: &str =
    "8a3ff5803c58ea0f1f723e84bc2e8ba42c7a03b74c1ecd4063a5ef91fde88990";
/// The attribute holding a document deflated with dictionary 1.
pub const ATTR_V1: &str = "doc1";

/// Deflate (raw, best compression) with dictionary 1.
pub fn compress(json: &[u8]) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress, Status};
    let mut c = Compress::new(Compression::best(), false);
    c.set_dictionary(DICTIONARY_V1)
        .expect("dictionary accepted");
    let mut out = Vec::with_capacity(json.len() / 4 + 256);
    loop {
        let consumed = c.total_in() as usize;
        let status = c
            .compress_vec(&json[consumed..], &mut out, FlushCompress::Finish)
            .expect("deflate in memory");
        match status {
            Status::StreamEnd => return out,
            Status::Ok | Status::BufError => out.reserve(out.capacity().max(1024)),
        }
    }
}

/// Inflate what [`compress`] wrote (at most `limit` bytes out: an item is under 400 KB,
/// so a document that inflates past a few megabytes is corrupt, not a case).
pub fn decompress(z: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    use flate2::{Decompress, FlushDecompress, Status};
    let mut d = Decompress::new(false);
    d.set_dictionary(DICTIONARY_V1)
        .map_err(|e| format!("dictionary: {e}"))?;
    let mut out = Vec::with_capacity(z.len() * 12 + 1024);
    loop {
        let consumed = d.total_in() as usize;
        let before = (d.total_in(), d.total_out());
        let status = d
            .decompress_vec(&z[consumed..], &mut out, FlushDecompress::Finish)
            .map_err(|e| format!("inflate: {e}"))?;
        match status {
            Status::StreamEnd => return Ok(out),
            _ if out.len() > limit => return Err("document too large".into()),
            Status::Ok | Status::BufError => {
                if out.len() < out.capacity() && (d.total_in(), d.total_out()) == before {
                    return Err("truncated document".into());
                }
                out.reserve(out.capacity().max(4096));
            }
        }
    }
}

/// The prefix of a text attribute holding compressed JSON (older items hold the JSON).
const PACKED: &str = "z1:";

/// JSON for a text attribute, deflated with dictionary 1 and in base64 after `z1:`: for
/// attributes that must stay strings (an index projects them, a stream filter matches
/// them) and are written with every commit of the case.
pub fn pack(json: &[u8]) -> String {
    use base64::Engine;
    format!(
        "{PACKED}{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(compress(json))
    )
}

/// The JSON of a text attribute written by [`pack`], or written plain before it.
pub fn unpack(text: &str) -> Result<std::borrow::Cow<'_, [u8]>, String> {
    use base64::Engine;
    match text.strip_prefix(PACKED) {
        None => Ok(std::borrow::Cow::Borrowed(text.as_bytes())),
        Some(b64) => {
            let z = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(b64)
                .map_err(|e| e.to_string())?;
            // An attribute's JSON is a few kilobytes; an item is under 400 KB.
            decompress(&z, 4 << 20).map(std::borrow::Cow::Owned)
        }
    }
}

/// A digest of the dictionary (computed once, for the test that pins it).
pub fn dictionary_sha256() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| {
        crate::attr::hex_sha256(std::str::from_utf8(DICTIONARY_V1).expect("UTF-8 JSON"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dictionary_never_changes() {
        assert_eq!(dictionary_sha256(), DICTIONARY_V1_SHA256);
    }

    #[test]
    fn a_document_round_trips_and_is_a_fraction_of_its_json() {
        let line = DICTIONARY_V1.split(|b| *b == b'\n').nth(1).unwrap();
        // Another case: other names, numbers and times.
        let other = String::from_utf8(line.to_vec())
            .unwrap()
            .replace("姓名", "陈一鸣")
            .replace("000000000000000000", "330523199105120027")
            .replace("330106", "330523")
            .replace("2026-12-02", "2027-03-15")
            .replace("BC00000000000000000000", "BC20270315A1B2C3D4E5F6");
        let z = compress(other.as_bytes());
        assert!(z.len() * 4 < other.len(), "{} of {}", z.len(), other.len());
        assert_eq!(decompress(&z, 1 << 22).unwrap(), other.as_bytes());
    }

    #[test]
    fn corrupt_or_truncated_bytes_are_errors_not_panics() {
        let z = compress(b"{\"case_id\":\"x\"}");
        assert!(decompress(&z[..z.len() - 2], 1 << 22).is_err());
        assert!(decompress(b"\xff\xff\xff\xff", 1 << 22).is_err());
    }
}
