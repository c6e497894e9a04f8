//! The certificate signing key in AWS KMS: an asymmetric ECC_NIST_P256 key whose private
//! part never leaves KMS. `Sign` (ECDSA_SHA_256, raw message) gives a DER signature,
//! turned here into the fixed 64-byte form JWS ES256 uses; `GetPublicKey` gives the
//! public key (SubjectPublicKeyInfo), published as a JWK. Retired keys (after a rotation)
//! are published too, so certificates they signed still verify; only the current signs.
//! The `kid` is the key's id (the last part of its ARN).

use crate::sdk_err;
use async_trait::async_trait;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ports::{CertSigner, StoreError};
use serde_json::{json, Value};
use tokio::sync::OnceCell;

pub struct KmsSigner {
    client: aws_sdk_kms::Client,
    key_arn: String,
    retired: Vec<String>,
    jwks: OnceCell<Value>,
}

impl KmsSigner {
    /// Signs with `key_arn`; publishes it and the `retired` keys. No network call here.
    pub fn new(config: &aws_types::SdkConfig, key_arn: &str, retired: Vec<String>) -> KmsSigner {
        KmsSigner {
            client: aws_sdk_kms::Client::new(config),
            key_arn: key_arn.to_string(),
            retired,
            jwks: OnceCell::new(),
        }
    }

    async fn jwk(&self, key: &str) -> Result<Value, StoreError> {
        let out = self
            .client
            .get_public_key()
            .key_id(key)
            .send()
            .await
            .map_err(|e| sdk_err("kms GetPublicKey", e))?;
        let spki = out.public_key().map(|b| b.as_ref()).unwrap_or_default();
        let point = p256_point(spki).ok_or_else(|| {
            StoreError::Unavailable("kms GetPublicKey: not an ECC_NIST_P256 key".into())
        })?;
        Ok(json!({
            "kty": "EC",
            "crv": "P-256",
            "alg": "ES256",
            "use": "sig",
            "kid": kid_of(key),
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        }))
    }
}

/// A KMS key's id: the last part of its ARN (`arn:...:key/<id>`), or the id itself.
pub fn kid_of(key: &str) -> String {
    key.rsplit('/').next().unwrap_or(key).to_string()
}

/// The uncompressed point (0x04 ‖ x ‖ y) of a P-256 SubjectPublicKeyInfo (DER): its
/// BIT STRING ends the structure, so the point is its last 65 bytes, checked by the
/// prefix the P-256 algorithm identifiers give.
fn p256_point(spki: &[u8]) -> Option<&[u8]> {
    // SEQUENCE { SEQUENCE { ecPublicKey, prime256v1 }, BIT STRING (0 unused bits) }
    const PREFIX: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    (spki.len() == 91 && spki[..26] == PREFIX && spki[26] == 0x04).then(|| &spki[26..])
}

/// A DER ECDSA signature (SEQUENCE { INTEGER r, INTEGER s }) as r ‖ s, 32 bytes each.
fn der_to_fixed(der: &[u8]) -> Option<[u8; 64]> {
    fn int(b: &[u8]) -> Option<(&[u8], &[u8])> {
        if b.len() < 2 || b[0] != 0x02 {
            return None;
        }
        let n = b[1] as usize;
        (b.len() >= 2 + n).then(|| (&b[2..2 + n], &b[2 + n..]))
    }
    if der.len() < 8 || der[0] != 0x30 || der[1] as usize != der.len() - 2 {
        return None;
    }
    let (r, rest) = int(&der[2..])?;
    let (s, rest) = int(rest)?;
    if !rest.is_empty() {
        return None;
    }
    let mut out = [0u8; 64];
    for (i, v) in [r, s].into_iter().enumerate() {
        // Leading zeros (sign padding) off; shorter values padded on the left.
        let v = &v[v.iter().take_while(|b| **b == 0).count()..];
        if v.len() > 32 {
            return None;
        }
        out[i * 32 + 32 - v.len()..(i + 1) * 32].copy_from_slice(v);
    }
    Some(out)
}

#[async_trait]
impl CertSigner for KmsSigner {
    fn kid(&self) -> String {
        kid_of(&self.key_arn)
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, StoreError> {
        let out = self
            .client
            .sign()
            .key_id(&self.key_arn)
            .message(Blob::new(message))
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(|e| sdk_err("kms Sign", e))?;
        let der = out.signature().map(|b| b.as_ref()).unwrap_or_default();
        der_to_fixed(der)
            .map(|s| s.to_vec())
            .ok_or_else(|| StoreError::Unavailable("kms Sign: not an ECDSA signature".into()))
    }

    async fn public_keys(&self) -> Result<Value, StoreError> {
        self.jwks
            .get_or_try_init(|| async {
                let mut keys = vec![self.jwk(&self.key_arn).await?];
                for k in &self.retired {
                    keys.push(self.jwk(k).await?);
                }
                Ok(json!({ "keys": keys }))
            })
            .await
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_signatures_become_fixed_width() {
        // r with a sign byte, s short by one byte.
        let mut der = vec![0x30, 0x00, 0x02, 33, 0x00];
        der.extend([0x80; 32]);
        der.extend([0x02, 31]);
        der.extend([0x11; 31]);
        der[1] = (der.len() - 2) as u8;
        let fixed = der_to_fixed(&der).unwrap();
        assert_eq!(&fixed[..32], &[0x80; 32]);
        assert_eq!(fixed[32], 0);
        assert_eq!(&fixed[33..], &[0x11; 31]);
        assert!(der_to_fixed(&der[..der.len() - 1]).is_none());
        assert!(der_to_fixed(b"").is_none());
    }

    #[test]
    fn key_ids_are_the_arns_last_part() {
        assert_eq!(
            kid_of("arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab"),
            "1234abcd-12ab"
        );
        assert_eq!(kid_of("1234abcd-12ab"), "1234abcd-12ab");
    }
}
