//! Electronic certificates: issued (signed) in the write of the step that issues their
//! results, listed for those who may see the case, verified by anyone — online from the
//! short check code in the certificate's `verify_url` (its QR code,
//! `GET /v1/verify/{cert_id}`), offline from the signed token (in the PDF and the list)
//! against the published keys (`onething verify`).

use crate::digest::sha256_hex;
use crate::{App, HandlerError, ServiceError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::case::{Actor, Case};
use domain::certificate::{self, CertStatus, Certificate, Claims};
use domain::flow::Step;
use serde_json::{json, Value};

/// A JWS compact token (ES256) of `typ` over `payload`, signed by `signer`.
async fn sign_jws(
    signer: &dyn ports::CertSigner,
    typ: &str,
    payload: &[u8],
) -> Result<String, ports::StoreError> {
    let header = json!({"alg": "ES256", "kid": signer.kid(), "typ": typ});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let sig = signer.sign(input.as_bytes()).await?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// Sign the certificates `step` has just issued into `case` (none without a signer: the
/// deployment has no certificate key). The effect that asks for their PDFs, when any
/// (the render queue; a process without a renderer there does nothing with it).
pub async fn issue(
    app: &App,
    step: Step,
    case: &mut Case,
) -> Result<Option<domain::case::Effect>, HandlerError> {
    let Some(signer) = &app.signer else {
        return Ok(None);
    };
    let mut issued = vec![];
    for claims in certificate::due(step, case) {
        let token = sign_jws(signer.as_ref(), CERT_TYP, &claims.canonical()).await?;
        issued.push(Certificate {
            claims,
            token,
            status: CertStatus::Valid,
            superseded_by: None,
            superseded_at: None,
        });
    }
    let any = !issued.is_empty();
    case.record_certificates(issued);
    Ok(any.then_some(domain::case::Effect::RenderDocuments))
}

const CERT_TYP: &str = "onething-cert";
const DOC_TYP: &str = "onething-doc";
/// The lines a sealed PDF ends with, after its `%%EOF` (PDF comments: readers skip them).
const CERT_LINE: &[u8] = b"%ONETHING-CERTIFICATE ";
const SEAL_LINE: &[u8] = b"%ONETHING-SIGNATURE ";

/// The line naming the key that sealed a document: the certificate key's signature over
/// that sealing key's public half and the end of its validity.
const KEY_LINE: &[u8] = b"%ONETHING-SEAL-KEY ";
const SEAL_KEY_TYP: &str = "onething-doc-key";
/// How long a process's document-sealing key may seal.
const SEAL_KEY_HOURS: i64 = 12;

/// A process's document-sealing key: a P-256 key made in memory (never stored, never
/// leaving the process), certified once by the certificate key. Each PDF is sealed with
/// it, so a certificate costs one signature of the certificate key (its token) and no
/// more: the document seal needs no call to KMS but the one certification per key.
struct SealKey {
    signer_kid: String,
    pair: ring::signature::EcdsaKeyPair,
    kid: String,
    /// The certificate key's JWS over this key's JWK (with `not_after`).
    certified: String,
    not_after: chrono::DateTime<chrono::Utc>,
}

static SEAL_KEYS: std::sync::Mutex<Vec<std::sync::Arc<SealKey>>> =
    std::sync::Mutex::new(Vec::new());

/// This process's sealing key for documents of `signer`'s certificates, made and
/// certified on first need and again an hour before it ends.
async fn seal_key(
    signer: &dyn ports::CertSigner,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<std::sync::Arc<SealKey>, ports::StoreError> {
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let signer_kid = signer.kid();
    let fresh =
        |k: &SealKey| k.signer_kid == signer_kid && k.not_after - chrono::Duration::hours(1) > now;
    if let Some(k) = SEAL_KEYS
        .lock()
        .expect("seal keys")
        .iter()
        .find(|k| fresh(k))
    {
        return Ok(k.clone());
    }
    let bad = |e: &dyn std::fmt::Display| ports::StoreError::Corrupt(format!("seal key: {e}"));
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|e| bad(&e))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|e| bad(&e))?;
    let public = pair.public_key().as_ref().to_vec();
    let kid = format!("doc-{}", &sha256_hex(&public)[..16]);
    let not_after = now + chrono::Duration::hours(SEAL_KEY_HOURS);
    let jwk = json!({"kid": kid, "kty": "EC", "crv": "P-256", "alg": "ES256",
                     "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
                     "y": URL_SAFE_NO_PAD.encode(&public[33..65]),
                     "not_after": not_after.to_rfc3339()});
    let certified = sign_jws(signer, SEAL_KEY_TYP, jwk.to_string().as_bytes()).await?;
    let key = std::sync::Arc::new(SealKey {
        signer_kid: signer_kid.clone(),
        pair,
        kid,
        certified,
        not_after,
    });
    let mut keys = SEAL_KEYS.lock().expect("seal keys");
    keys.retain(|k| fresh(k) && k.signer_kid != key.signer_kid);
    keys.push(key.clone());
    Ok(key)
}

/// A JWS compact token (ES256) of `typ` over `payload`, signed by the sealing key.
fn seal_jws(key: &SealKey, payload: &[u8]) -> Result<String, ports::StoreError> {
    let header = json!({"alg": "ES256", "kid": key.kid, "typ": DOC_TYP});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let sig = key
        .pair
        .sign(&ring::rand::SystemRandom::new(), input.as_bytes())
        .map_err(|e| ports::StoreError::Corrupt(format!("seal: {e}")))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())))
}

/// The certificate's PDF as stored: rendered, then sealed with three comment lines after
/// its end: the certificate's token, the sealing key certified by the certificate key,
/// and the sealing key's signature over the SHA-256 of every byte before it. Any change
/// to the file breaks the seal; `verify_document` checks all three.
async fn sealed_document(
    app: &App,
    renderer: &std::sync::Arc<dyn ports::CertRenderer>,
    public_base: &str,
    (case, c): (&Case, &Certificate),
) -> Result<Option<Vec<u8>>, HandlerError> {
    let Some(signer) = &app.signer else {
        return Ok(None);
    };
    // Rendering is CPU work of about 10 ms a page: on the blocking pool, so that the
    // runtime's threads keep moving cases (completion never waits for a PDF).
    let (renderer, page) = (
        renderer.clone(),
        certificate::document_page(case, c, public_base),
    );
    let rendered = tokio::task::spawn_blocking(move || renderer.render(&page))
        .await
        .map_err(|e| HandlerError::Retryable(format!("rendering stopped: {e}")))?;
    let mut pdf = match rendered {
        Ok(pdf) => pdf,
        Err(e) => {
            // A character the font lacks: no document rather than one with a blank box.
            let cert_id = &c.claims.cert_id;
            tracing::error!(%cert_id, error = %e, "certificate PDF not rendered");
            return Ok(None);
        }
    };
    if !pdf.ends_with(b"\n") {
        pdf.push(b'\n');
    }
    let now = app.now();
    let key = seal_key(signer.as_ref(), now.with_timezone(&chrono::Utc)).await?;
    pdf.extend_from_slice(CERT_LINE);
    pdf.extend_from_slice(c.token.as_bytes());
    pdf.push(b'\n');
    pdf.extend_from_slice(KEY_LINE);
    pdf.extend_from_slice(key.certified.as_bytes());
    pdf.push(b'\n');
    let payload = json!({"cert_id": c.claims.cert_id, "sha256": sha256_hex(&pdf),
                         "sealed_at": now.to_rfc3339()});
    let seal = seal_jws(&key, payload.to_string().as_bytes())?;
    pdf.extend_from_slice(SEAL_LINE);
    pdf.extend_from_slice(seal.as_bytes());
    pdf.push(b'\n');
    Ok(Some(pdf))
}

/// The key of the certificate's stored PDF, rendered and written once on first need by a
/// process that renders; None when this deployment renders no documents, when another
/// function renders them and has not yet, or when this one cannot be rendered.
pub async fn ensure_document(
    app: &App,
    case: &Case,
    c: &Certificate,
) -> Result<Option<String>, HandlerError> {
    let case_id = case.case_id();
    let Some(docs) = &app.documents else {
        return Ok(None);
    };
    let key = c.document_key(case_id);
    if app.blobs.get(&key).await?.is_some() {
        return Ok(Some(key));
    }
    let Some(renderer) = &docs.renderer else {
        return Ok(None);
    };
    let Some(bytes) = sealed_document(app, renderer, &docs.public_base, (case, c)).await? else {
        return Ok(None);
    };
    match app.blobs.put_once(&key, &bytes, "application/pdf").await {
        Ok(()) => {}
        // Another request wrote it first (its seal differs from ours): theirs stands.
        Err(ports::StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Some(key))
}

/// The bytes of the certificate's stored PDF, rendered and written first where this
/// process renders and nobody has yet; None where it is not rendered (yet) or cannot be.
pub async fn document_bytes(
    app: &App,
    case: &Case,
    c: &Certificate,
) -> Result<Option<Vec<u8>>, HandlerError> {
    let case_id = case.case_id();
    if app.documents.is_none() {
        return Ok(None);
    }
    let key = c.document_key(case_id);
    if let Some(bytes) = app.blobs.get(&key).await? {
        return Ok(Some(bytes));
    }
    match ensure_document(app, case, c).await? {
        // Stored now (by us, or by another request first: theirs stands).
        Some(key) => Ok(app.blobs.get(&key).await?),
        None => Ok(None),
    }
}

/// What `verify_document` found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentVerdict {
    /// Sealed by one of the keys, unaltered, holding this certificate.
    Intact(Claims),
    /// The seal does not match the bytes (or is not ours): the file was altered.
    Altered,
    /// No seal at all: not a certificate document of this system.
    NotSealed,
}

/// Check a certificate's PDF offline against `keys` (a JWK set).
pub fn verify_document(bytes: &[u8], keys: &Value) -> DocumentVerdict {
    let Some(at) = find_last_line(bytes, SEAL_LINE) else {
        return DocumentVerdict::NotSealed;
    };
    let (body, rest) = bytes.split_at(at);
    let seal = String::from_utf8_lossy(&rest[SEAL_LINE.len()..])
        .trim()
        .to_string();
    // The key that sealed it: certified by a certificate key (documents sealed before
    // sealing keys existed were sealed by the certificate key itself).
    let sealing_keys = match find_last_line(body, KEY_LINE) {
        Some(at) => {
            let rest = &body[at + KEY_LINE.len()..];
            let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
            let line = String::from_utf8_lossy(&rest[..end]);
            let Some(jwk) = verify_jws(line.trim(), keys, SEAL_KEY_TYP)
                .and_then(|p| serde_json::from_slice::<Value>(&p).ok())
            else {
                return DocumentVerdict::Altered;
            };
            Some(json!({"keys": [jwk]}))
        }
        None => None,
    };
    let Some(payload) = verify_jws(&seal, sealing_keys.as_ref().unwrap_or(keys), DOC_TYP) else {
        return DocumentVerdict::Altered;
    };
    let Ok(payload) = serde_json::from_slice::<Value>(&payload) else {
        return DocumentVerdict::Altered;
    };
    if payload["sha256"].as_str() != Some(sha256_hex(body).as_str()) {
        return DocumentVerdict::Altered;
    }
    if let Some(k) = &sealing_keys {
        // Sealed while the sealing key was valid.
        let when = |v: &Value| {
            v.as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        };
        match (
            when(&payload["sealed_at"]),
            when(&k["keys"][0]["not_after"]),
        ) {
            (Some(sealed), Some(end)) if sealed <= end => {}
            _ => return DocumentVerdict::Altered,
        }
    }
    let Some(cert_at) = find_last_line(body, CERT_LINE) else {
        return DocumentVerdict::Altered;
    };
    let line = &body[cert_at + CERT_LINE.len()..];
    let end = line.iter().position(|b| *b == b'\n').unwrap_or(line.len());
    let token = String::from_utf8_lossy(&line[..end]).trim().to_string();
    match verify_token(&token, keys) {
        Some(claims) if payload["cert_id"] == claims.cert_id.as_str() => {
            DocumentVerdict::Intact(claims)
        }
        _ => DocumentVerdict::Altered,
    }
}

/// Where the last line starting with `prefix` begins.
fn find_last_line(bytes: &[u8], prefix: &[u8]) -> Option<usize> {
    (0..bytes.len().saturating_sub(prefix.len()) + 1)
        .rev()
        .find(|&i| (i == 0 || bytes[i - 1] == b'\n') && bytes[i..].starts_with(prefix))
}

/// The claims of a token whose signature one of `keys` (a JWK set) verifies; `None` for
/// anything else (altered, forged, unknown key, not a token).
pub fn verify_token(token: &str, keys: &Value) -> Option<Claims> {
    serde_json::from_slice(&verify_jws(token, keys, CERT_TYP)?).ok()
}

/// The payload of a JWS compact token of `typ` that one of `keys` verifies.
fn verify_jws(token: &str, keys: &Value, typ: &str) -> Option<Vec<u8>> {
    let mut parts = token.trim().split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    if header["alg"] != "ES256" || header["typ"] != typ {
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
    URL_SAFE_NO_PAD.decode(p).ok()
}

/// How long a certificate's `document_url` serves the PDF.
const DOCUMENT_URL_MINUTES: i64 = 5;

/// `GET /v1/cases/{case_id}/certificates`: for whoever may see the case.
pub async fn list(
    app: &App,
    actor: &Actor,
    case_id: &str,
    base: &str,
) -> Result<Value, ServiceError> {
    let (case, viewer) = crate::authz::load_visible(app, actor, case_id).await?;
    let entitled = viewer == domain::view::Viewer::Entitled;
    let mut items = vec![];
    for c in case.certificates() {
        if !entitled {
            // Supervision sees that certificates exist, not their numbers or tokens.
            items.push(json!({
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
            }));
            continue;
        }
        let document_url = match ensure_document(app, &case, c).await? {
            Some(key) => {
                let expires = app.now() + chrono::Duration::minutes(DOCUMENT_URL_MINUTES);
                let url = app
                    .blobs
                    .download_url(
                        &key,
                        "application/pdf",
                        &format!("{}.pdf", c.claims.cert_id),
                        expires.with_timezone(&chrono::Utc),
                        base,
                    )
                    .await?;
                json!(url)
            }
            None => Value::Null,
        };
        // The deployment's public address where it has one (what the PDFs' QR codes
        // hold), else the address this request came to.
        let public = app
            .documents
            .as_ref()
            .map(|d| d.public_base.as_str())
            .filter(|b| !b.is_empty())
            .unwrap_or(base);
        items.push(json!({
            "cert_id": c.claims.cert_id,
            "kind": c.claims.kind,
            "name": c.claims.kind.name_zh(),
            "number": c.claims.number,
            "issued_at": c.claims.issued_at,
            "issuer": c.claims.issuer,
            "holder": c.claims.holder,
            "status": c.status,
            "superseded_by": c.superseded_by,
            "document_url": document_url,
            "verify_url": c.verify_url(public),
            "token": c.token,
        }));
    }
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
    // A full token (three parts) is checked against the published keys first; the QR
    // code's short check code against the certificate the case holds.
    let claims = if token.contains('.') {
        let keys = signer.public_keys().await?;
        match verify_token(token, &keys) {
            Some(claims) if claims.cert_id == cert_id => Some(claims),
            _ => return invalid(),
        }
    } else {
        None
    };
    let Some(case) = app.store.get(case_id).await? else {
        return invalid();
    };
    let Some(c) = case.certificates().iter().find(|c| {
        c.claims.cert_id == cert_id
            && match &claims {
                Some(claims) => &c.claims == claims,
                None => same_code(&c.check_code(), token),
            }
    }) else {
        return invalid();
    };
    // A genuine certificate of a voided case is revoked: no longer valid, and it says so.
    let mut out = json!({
        "valid": c.status != certificate::CertStatus::Revoked,
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

/// The two codes are equal, compared in constant time.
fn same_code(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The verification as a Chinese page, for a browser that opened the QR code: valid or
/// not, status, kind, number, issuer, date, the holder masked.
pub fn verification_page(v: &Value) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let text = |k: &str| esc(v[k].as_str().unwrap_or(""));
    let (verdict, class) = match (v["valid"].as_bool(), v["status"].as_str()) {
        (Some(true), Some("superseded")) => ("证照真实，但已被更正后的证照替换", "warn"),
        (Some(true), _) => ("证照真实有效", "ok"),
        (_, Some("revoked")) => ("证照已撤销，不再有效", "bad"),
        _ => ("未能核验：证照不存在、核验码有误或已被篡改", "bad"),
    };
    let mut rows = String::new();
    if v["valid"].as_bool().is_some() && v.get("kind").is_some() {
        let kind = serde_json::from_value::<certificate::CertKind>(v["kind"].clone())
            .map(|k| k.name_zh())
            .unwrap_or("");
        let issued = v["issued_at"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| {
                t.with_timezone(&domain::calendar::shanghai())
                    .format("%Y年%m月%d日")
                    .to_string()
            })
            .unwrap_or_default();
        let status = match v["status"].as_str() {
            Some("valid") => "有效",
            Some("superseded") => "已更正替换",
            Some("revoked") => "已撤销",
            _ => "",
        };
        for (label, value) in [
            ("证照类型", esc(kind)),
            ("证照编号", text("number")),
            ("持证人", text("holder")),
            ("签发机构", text("issuer")),
            ("签发日期", esc(&issued)),
            ("状态", esc(status)),
        ] {
            rows.push_str(&format!("<dt>{label}</dt><dd>{value}</dd>"));
        }
        if let Some(by) = v["superseded_by"].as_str() {
            rows.push_str(&format!("<dt>替换为</dt><dd>{}</dd>", esc(by)));
        }
    }
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>电子证照核验</title><style>body{{font-family:sans-serif;margin:0;padding:16px;\
max-width:640px;line-height:1.6}}.ok{{color:#1e7b34}}.warn{{color:#8a5a00}}\
.bad{{color:#b3261e}}dl{{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px}}\
dt{{color:#555}}dd{{margin:0;word-break:keep-all}}</style></head><body><main>\
<h1>浙江省出生“一件事”电子证照核验</h1><p class=\"{class}\"><strong>{verdict}</strong></p>\
<dl>{rows}</dl><p>持证人姓名已部分隐去。核验结果以本页面为准。</p></main></body></html>"
    )
}

/// The `render` function: the PDFs of the case's certificates that have none (each
/// written once; a redelivery finds them stored). Without a renderer here, nothing.
pub async fn render(app: &App, case_id: &str) -> Result<(), HandlerError> {
    if app
        .documents
        .as_ref()
        .and_then(|d| d.renderer.as_ref())
        .is_none()
    {
        return Ok(());
    }
    let Some(case) = app.store.get(case_id).await? else {
        return Err(HandlerError::Permanent(format!("no case {case_id}")));
    };
    for c in case.certificates() {
        ensure_document(app, &case, c).await?;
    }
    Ok(())
}

/// `GET /.well-known/onething-keys.json`.
pub async fn keys(app: &App) -> Result<Value, ServiceError> {
    match &app.signer {
        Some(s) => Ok(s.public_keys().await?),
        None => Ok(json!({"keys": []})),
    }
}
