//! Digests shared by the use cases, the handlers and the certificates.

use sha2::{Digest, Sha256};

/// The SHA-256 of `bytes` in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}
