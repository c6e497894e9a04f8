//! Electronic certificates: issued (signed) in the write of the step that issues their
//! results, listed for those who may see the case, verified by anyone from the token in
//! the certificate's `verify_url` (its QR code) against the published keys — online
//! (`GET /v1/verify/{cert_id}`) or offline (`onething verify`).

use crate::{App, HandlerError, ServiceError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::case::{Actor, Case};
use domain::certificate::{self, CertStatus, Certificate, Claims};
use domain::flow::Step;
use serde_json::{json, Value};

/// Sign the certificates `step` has just issued into `case` (none without a signer: the
/// deployment has no certificate key).
pub async fn issue(app: &App, step: Step, case: &mut Case) -> Result<(), HandlerError> {
    let Some(signer) = &app.signer else {
        return Ok(());
    };
    let mut issued = vec![];
    for claims in certificate::due(step, case) {
        let header = json!({"alg": "ES256", "kid": signer.kid(), "typ": "onething-cert"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.canonical())
        );
        let sig = signer.sign(input.as_bytes()).await?;
        issued.push(Certificate {
            claims,
            token: format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)),
            status: CertStatus::Valid,
            superseded_by: None,
            superseded_at: None,
        });
    }
    case.record_certificates(issued);
    Ok(())
}

/// The claims of a token whose signature one of `keys` (a JWK set) verifies; `None` for
/// anything else (altered, forged, unknown key, not a token).
pub fn verify_token(token: &str, keys: &Value) -> Option<Claims> {
    let mut parts = token.trim().split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    if header["alg"] != "ES256" {
        return None;
    }
    let kid = header["kid"].as_str()?;
    let key = keys["keys"]
        .as_array()?
        .iter()
        .find(|k| k["kid"] == kid && k["kty"] == "EC" && k["crv"] == "P-256")?;
    let x = URL_SAFE_NO_PAD.decode(key["x"].as_str()?).ok()?;
    let y = URL_SAFE_NO_PAD.decode(key["y"].as_str()?).ok()?;
    if x.len() != 32 || y.len() != 32 {
        return None;
    }
    let mut point = vec![4u8];
    point.extend(x);
    point.extend(y);
    let sig = URL_SAFE_NO_PAD.decode(s).ok()?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, point)
        .verify(format!("{h}.{p}").as_bytes(), &sig)
        .ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()
}

fn verify_url(base: &str, c: &Certificate) -> String {
    format!("{base}/v1/verify/{}?t={}", c.claims.cert_id, c.token)
}

/// `GET /v1/cases/{case_id}/certificates`: for whoever may see the case.
pub async fn list(
    app: &App,
    actor: &Actor,
    case_id: &str,
    base: &str,
) -> Result<Value, ServiceError> {
    let (case, viewer) = crate::authz::load_visible(app, actor, case_id).await?;
    let entitled = viewer == domain::view::Viewer::Entitled;
    let items: Vec<Value> = case
        .certificates()
        .iter()
        .map(|c| {
            if !entitled {
                // Supervision sees that certificates exist, not their numbers or tokens.
                return json!({
                    "cert_id": c.claims.cert_id,
                    "kind": c.claims.kind,
                    "name": c.claims.kind.name_zh(),
                    "number": domain::idnum::mask_id(&c.claims.number),
                    "issued_at": c.claims.issued_at,
                    "issuer": c.claims.issuer,
                    "status": c.status,
                    "superseded_by": c.superseded_by,
                    "document_url": Value::Null,
                    "verify_url": Value::Null,
                });
            }
            json!({
                "cert_id": c.claims.cert_id,
                "kind": c.claims.kind,
                "name": c.claims.kind.name_zh(),
                "number": c.claims.number,
                "issued_at": c.claims.issued_at,
                "issuer": c.claims.issuer,
                "holder": c.claims.holder,
                "status": c.status,
                "superseded_by": c.superseded_by,
                "document_url": Value::Null,
                "verify_url": verify_url(base, c),
                "token": c.token,
            })
        })
        .collect();
    Ok(json!({ "certificates": items }))
}

/// `GET /v1/verify/{cert_id}?t=`: anyone. A token that is not the certificate's own,
/// signed by one of our keys, is `{"valid": false}` and nothing else.
pub async fn verify(app: &App, cert_id: &str, token: Option<&str>) -> Result<Value, ServiceError> {
    let invalid = || Ok(json!({"valid": false}));
    let (Some(signer), Some(token)) = (&app.signer, token) else {
        return invalid();
    };
    let Some(case_id) = certificate::case_of(cert_id) else {
        return invalid();
    };
    let keys = signer.public_keys().await?;
    let Some(claims) = verify_token(token, &keys) else {
        return invalid();
    };
    if claims.cert_id != cert_id {
        return invalid();
    }
    let Some(case) = app.store.get(case_id).await? else {
        return invalid();
    };
    let Some(c) = case
        .certificates()
        .iter()
        .find(|c| c.claims.cert_id == cert_id && c.claims == claims)
    else {
        return invalid();
    };
    let mut out = json!({
        "valid": true,
        "status": c.status,
        "cert_id": c.claims.cert_id,
        "kind": c.claims.kind,
        "number": c.claims.number,
        "issued_at": c.claims.issued_at,
        "issuer": c.claims.issuer,
        "holder": c.claims.holder,
    });
    if let Some(by) = &c.superseded_by {
        out["superseded_by"] = json!(by);
    }
    Ok(out)
}

/// `GET /.well-known/onething-keys.json`.
pub async fn keys(app: &App) -> Result<Value, ServiceError> {
    match &app.signer {
        Some(s) => Ok(s.public_keys().await?),
        None => Ok(json!({"keys": []})),
    }
}
