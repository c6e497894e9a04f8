//! The `archive` function: every finished case kept whole, once.

use crate::digest::sha256_hex;
use crate::error::dom;
use crate::repo::Change;
use crate::{App, HandlerError};
use domain::case::{ArchiveRef, Case};
use domain::view;
use serde_json::{json, Map, Value};

/// The `archive` function: the form, every material, every result and the full history,
/// with a manifest of SHA-256 checksums, written once.
pub async fn archive(app: &App, case_id: &str) -> Result<(), HandlerError> {
    let (done, _) = app
        .repo()
        .update_async(case_id, |mut case| async move {
            if case.archive().is_some() {
                return Ok((Change::Keep(false), case));
            }
            if !case.status().is_finished() {
                return Err(HandlerError::Permanent(format!(
                    "case {case_id} is not finished"
                )));
            }
            // The archive holds the notifications too: wait until every one was delivered.
            let delivered = app.notifier.sent(case_id).await?;
            if (delivered.len() as u32) < case.notice_seq() {
                // The notify function sends the archive message again once the last
                // notification is delivered (and the SLA monitor backs that up).
                tracing::debug!(
                    case_id,
                    "archive deferred until every notification is delivered"
                );
                return Ok((Change::Keep(false), case));
            }
            let archived = write(app, &case, json!(delivered)).await?;
            case.record_archive(archived).map_err(dom)?;
            Ok::<_, HandlerError>((Change::Commit(true, vec![]), case))
        })
        .await?;
    if done {
        tracing::info!(case_id, "case archived");
    }
    Ok(())
}

/// Write the archive of `case` at its version: one object, `archive.json`, holding the
/// documents, the certificates' PDFs and the manifest of checksums of every file (each
/// document's bytes as `to_vec_pretty` writes them, each PDF and each material); the
/// materials are copied beside it by the store (server-side on S3: they never pass
/// through this function). Keys carry the version, so a retry after a crash rewrites
/// identical bytes.
async fn write(app: &App, case: &Case, delivered: Value) -> Result<ArchiveRef, HandlerError> {
    let version = case.version();
    let prefix = format!("archives/{}/v{version}", case.case_id());
    let documents = documents(case, delivered);
    let mut files: Vec<Value> = documents
        .iter()
        .map(|(name, v)| {
            let b = serde_json::to_vec_pretty(v).expect("json");
            json!({"path": name, "sha256": sha256_hex(&b), "size": b.len(),
                   "content_type": "application/json"})
        })
        .collect();
    // First, before anything is written: a retry that waits for the PDFs copies nothing
    // (under Object Lock each write would be a version kept for years).
    let (pdfs, pdf_files) = pdfs(app, case).await?;
    let copied = copy_materials(app, case, &prefix).await?;
    files.extend(copied.files);
    files.extend(pdf_files);
    let manifest = json!({
        "case_id": case.case_id(), "status": case.status(),
        "finished_at": case.finished_at().map(|t| t.to_rfc3339()),
        "case_version": version,
        "files": files,
        "never_uploaded_materials": copied.missing,
        "altered_materials": copied.altered,
        // A case corrected after completion is archived again; the earlier archives stay
        // where they are, named here.
        "earlier_archives": case.earlier_archives(),
    });
    let bundle = json!({
        "manifest": manifest,
        "documents": documents
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Map<_, _>>(),
        // The certificates' PDFs by path, in base64.
        "pdfs": pdfs,
    });
    let bytes = serde_json::to_vec_pretty(&bundle).expect("json");
    let key = format!("{prefix}/archive.json");
    app.blobs.put_once(&key, &bytes, "application/json").await?;
    Ok(ArchiveRef {
        location: app.blobs.location(&prefix),
        manifest_sha256: sha256_hex(&bytes),
        files: files.len(),
        archived_at: app.now(),
    })
}

/// The archive's JSON documents by file name.
fn documents(case: &Case, delivered: Value) -> Vec<(&'static str, Value)> {
    let shown = view::CaseView::of(case);
    // Every certificate with its signed token (superseded ones too).
    let certificates = case
        .certificates()
        .iter()
        .map(|c| {
            json!({"claims": c.claims, "token": c.token, "status": c.status,
                   "superseded_by": c.superseded_by, "superseded_at": c.superseded_at})
        })
        .collect();
    vec![
        ("form.json", case.form().to_json()),
        // Every result, with every hand-over and what corrections superseded.
        ("results.json", json!(shown.results)),
        (
            "case.json",
            serde_json::to_value(shown).expect("serialises"),
        ),
        ("history.json", json!(case.timeline())),
        ("notifications.json", delivered),
        ("shared-data.json", json!(case.shared())),
        ("certificates.json", certificates),
    ]
}

/// Each certificate's sealed PDF in base64 by path, and their manifest entries: read
/// where it is stored, rendered first where it is not, or waited for (a retry) where
/// another function renders them. One object per archive instead of a copy per PDF.
async fn pdfs(app: &App, case: &Case) -> Result<(Map<String, Value>, Vec<Value>), HandlerError> {
    let mut pdfs = Map::new();
    let mut files = vec![];
    let Some(documents) = app.documents.as_ref() else {
        return Ok((pdfs, files));
    };
    for c in case.certificates() {
        let path = format!("certificates/{}.pdf", c.claims.cert_id);
        let Some(pdf) = crate::certs::document_bytes(app, case, c).await? else {
            if documents.renderer.is_none() {
                return Err(HandlerError::Retryable(format!(
                    "{}: its PDF is not rendered yet; the archive waits",
                    c.claims.cert_id
                )));
            }
            continue;
        };
        files.push(
            json!({"path": path, "sha256": sha256_hex(&pdf), "size": pdf.len(),
                          "content_type": "application/pdf", "in": "archive.json"}),
        );
        let text = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &pdf);
        pdfs.insert(path, json!(text));
    }
    Ok((pdfs, files))
}

/// The materials as copied beside the archive.
struct Copied {
    files: Vec<Value>,
    /// Materials announced but never uploaded.
    missing: Vec<String>,
    /// Materials whose bytes differ from the checksum recorded at upload.
    altered: Vec<String>,
}

async fn copy_materials(app: &App, case: &Case, prefix: &str) -> Result<Copied, HandlerError> {
    let mut out = Copied {
        files: vec![],
        missing: vec![],
        altered: vec![],
    };
    for m in case.materials() {
        let path = format!("materials/{}-{}", m.material_id, m.kind.as_str());
        let copied = app
            .blobs
            .copy_once(&m.blob_key, &format!("{prefix}/{path}"), &m.content_type)
            .await?;
        let Some(hash) = copied else {
            out.missing.push(m.material_id.clone());
            continue;
        };
        // The bytes must be those whose checksum the case recorded at upload.
        if m.sha256.as_ref().is_some_and(|h| *h != hash) {
            tracing::error!(
                case_id = case.case_id(),
                material_id = %m.material_id,
                "a material's bytes differ from the checksum recorded at upload",
            );
            out.altered.push(m.material_id.clone());
        }
        out.files
            .push(json!({"path": path, "sha256": hash, "content_type": m.content_type}));
    }
    Ok(out)
}
