//! Materials: an upload ticket, the confirmation of an upload, an officer's download.

use super::*;

/// `POST /v1/cases/{id}/materials`: register a material and hand out its upload URL.
pub async fn new_material(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
    base_url: &str,
) -> Result<UploadTicket, ServiceError> {
    load_changeable(
        app,
        actor,
        case_id,
        Changer::GuardianOrWindow,
        "只有申请人或受理窗口工作人员可以补充材料",
    )
    .await?;
    let req: body::NewMaterial = body::parse(body)?;
    let (kind, sha256) = read_material(&req)?;
    let (content_type, size) = (req.content_type, req.size);
    let now = app.now();
    let material_id = new_id("M", app);
    let blob_key = format!("materials/{case_id}/{material_id}");
    let expires = now + Duration::minutes(UPLOAD_URL_MINUTES);
    let pin = ports::UploadPin {
        content_type: content_type.clone(),
        size,
        sha256: sha256.clone(),
    };
    let upload = app
        .blobs
        .upload_url(&blob_key, &pin, expires.with_timezone(&Utc), base_url)
        .await?;
    let m = Material {
        material_id: material_id.clone(),
        kind,
        content_type: content_type.clone(),
        size,
        status: MaterialStatus::AwaitingUpload,
        created_at: now,
        expires_at: expires,
        uploaded_at: None,
        sha256: None,
        declared_sha256: sha256,
        blob_key,
    };
    app.repo()
        .update(case_id, |c| {
            c.register_material(m.clone(), actor, now)
                .map_err(domain_err)?;
            Ok::<_, ServiceError>(Change::Commit((), vec![]))
        })
        .await?;
    Ok(UploadTicket {
        content_type,
        expires_at: expires,
        kind,
        material_id,
        size,
        upload_method: "PUT",
        upload_url: upload.url,
        upload_headers: upload.headers,
    })
}

/// The material's kind and its declared SHA-256 (lower case), with every problem of the
/// request at once.
fn read_material(req: &body::NewMaterial) -> Result<(MaterialKind, Option<String>), ServiceError> {
    let mut p = Problems::default();
    let kind = MaterialKind::parse(&req.kind);
    if kind.is_none() {
        p.push("kind", "enum", "材料类型不在允许的范围内");
    }
    if !MATERIAL_TYPES.contains(&req.content_type.as_str()) {
        p.push("content_type", "enum", "文件类型应为 PDF、JPEG 或 PNG");
    }
    if !(1..=MAX_MATERIAL_BYTES).contains(&req.size) {
        p.push("size", "range", "文件大小应为 1 字节到 10 MiB");
    }
    let sha256 = req.sha256.as_ref().map(|h| h.to_ascii_lowercase());
    if sha256
        .as_ref()
        .is_some_and(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        p.push("sha256", "format", "文件摘要应为 64 位十六进制 SHA-256");
    }
    match kind.filter(|_| p.is_empty()) {
        Some(kind) => Ok((kind, sha256)),
        None => Err(ServiceError::Invalid(p.0)),
    }
}

/// How many of a file's first bytes [`content_matches`] reads.
pub const MAGIC_BYTES: usize = 16;

/// Whether a file is the declared type from end to end: it starts with the type's
/// signature and its last bytes hold the type's end marker (a PDF's `%%EOF`, a JPEG's
/// end-of-image, a PNG's `IEND` chunk), so that a signature glued onto something else (a
/// page, a script) is refused.
pub fn content_matches(content_type: &str, head: &[u8], tail: &[u8]) -> bool {
    let has = |marker: &[u8]| tail.windows(marker.len()).any(|w| w == marker);
    match content_type {
        "application/pdf" => head.starts_with(b"%PDF-") && has(b"%%EOF"),
        "image/jpeg" => head.starts_with(&[0xFF, 0xD8, 0xFF]) && has(&[0xFF, 0xD9]),
        "image/png" => {
            head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A])
                && has(&[b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82])
        }
        _ => false,
    }
}

/// Check an uploaded material's bytes and mark it uploaded. Returns a problem if the bytes
/// are missing or do not match what was declared.
pub async fn confirm_upload(
    app: &App,
    case_id: &str,
    material_id: &str,
) -> Result<Result<(), Problem>, ServiceError> {
    let case = app
        .store
        .get(case_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let Some(m) = case
        .materials()
        .iter()
        .find(|m| m.material_id == material_id)
        .cloned()
    else {
        return Err(ServiceError::NotFound);
    };
    if m.status == MaterialStatus::Uploaded {
        return Ok(Ok(()));
    }
    let field = format!("materials.{material_id}");
    // Pinned to a SHA-256, the store kept the checksum it verified: no whole read. Without
    // one the bytes are read (and hashed) once, with no probe before.
    let found = if m.declared_sha256.is_some() {
        app.blobs.inspect(&m.blob_key, MAGIC_BYTES).await?
    } else {
        let bytes = app.blobs.get(&m.blob_key).await?;
        bytes.map(|b| ports::Inspected::of(&b, MAGIC_BYTES))
    };
    let Some(found) = found else {
        return Ok(Err(Problem::new(field, "not_uploaded", "材料尚未上传")));
    };
    if found.size != m.size {
        return Ok(Err(Problem::new(
            field,
            "size",
            "上传内容的大小与登记的大小不一致",
        )));
    }
    if !content_matches(&m.content_type, &found.head, &found.tail) {
        return Ok(Err(Problem::new(
            field,
            "content",
            "上传内容不是登记的文件类型",
        )));
    }
    let digest = found.sha256;
    if m.declared_sha256.as_ref().is_some_and(|d| *d != digest) {
        return Ok(Err(Problem::new(
            field,
            "checksum",
            "上传内容与登记的文件摘要不一致",
        )));
    }
    let now = app.now();
    app.repo()
        .update(case_id, |c| {
            Ok::<_, ServiceError>(if c.confirm_material(material_id, digest.clone(), now) {
                Change::Commit((), vec![])
            } else {
                Change::Keep(())
            })
        })
        .await?;
    Ok(Ok(()))
}

/// How long a material download URL lives.
pub(super) const DOWNLOAD_URL_MINUTES: i64 = 5;

/// `GET /v1/cases/{id}/materials/{mid}`: a short-lived download URL for the owner, the
/// offline window and the departments with a step on the case; every grant to an officer
/// goes into the case's timeline.
/// Whether a step of `dept` on the case checks materials of `kind` (the police, and the
/// unit that accepts and issues, check every kind).
fn department_checks(case: &Case, dept: Option<domain::Dept>, kind: domain::MaterialKind) -> bool {
    case.steps()
        .iter()
        .filter(|s| Some(s.dept) == dept)
        .any(|s| {
            domain::steps::of(s.step)
                .materials_checked()
                .is_none_or(|kinds| kinds.contains(&kind))
        })
}

pub async fn material_download(
    app: &App,
    actor: &Actor,
    case_id: &str,
    material_id: &str,
    base_url: &str,
) -> Result<crate::response::MaterialDownload, ServiceError> {
    let (case, v) = load_visible(app, actor, case_id).await?;
    let allowed = v == Viewer::Entitled
        && match actor.role {
            Role::Guardian | Role::WindowOfficer => true,
            Role::DeptOfficer => actor.dept != Some(domain::Dept::Health),
            Role::Supervisor => false,
        };
    if !allowed {
        return Err(ServiceError::Forbidden("您无权查看该材料".into()));
    }
    let m = case
        .materials()
        .iter()
        .find(|m| m.material_id == material_id)
        .cloned()
        .ok_or(ServiceError::NotFound)?;
    if m.status != MaterialStatus::Uploaded {
        return Err(ServiceError::Conflict("该材料尚未上传".into()));
    }
    if actor.role == Role::DeptOfficer && !department_checks(&case, actor.dept, m.kind) {
        return Err(ServiceError::Forbidden(
            "本部门办理的事项无需查看该材料".into(),
        ));
    }
    if actor.role != Role::Guardian {
        // No URL once the case's record of grants is full (checked again in the commit).
        case.check_material_grant(actor).map_err(domain_err)?;
    }
    let now = app.now();
    let expires = now + Duration::minutes(DOWNLOAD_URL_MINUTES);
    let ext = match m.content_type.as_str() {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        _ => "png",
    };
    let url = app
        .blobs
        .download_url(
            &m.blob_key,
            &m.content_type,
            &format!("{material_id}.{ext}"),
            expires.with_timezone(&Utc),
            base_url,
        )
        .await?;
    if actor.role != Role::Guardian {
        app.repo()
            .update(case_id, |c| {
                c.record_material_grant(material_id, actor, now)
                    .map_err(domain_err)?;
                Ok::<_, ServiceError>(Change::Commit((), vec![]))
            })
            .await?;
    }
    Ok(crate::response::MaterialDownload {
        material_id: m.material_id,
        kind: m.kind,
        content_type: m.content_type,
        size: m.size,
        sha256: m.sha256,
        download_url: url,
        expires_at: expires,
    })
}
