//! The local stand-ins for S3's presigned URLs: `PUT /uploads/{key}` (checked before a
//! byte of the body is read, then checked from end to end) and `GET /downloads/{key}`
//! (each download audited).

use super::*;

/// What a verified upload URL pins.
pub(super) struct Ticket {
    /// Whose case it is: one guardian's uploads share a slot or two, never all of them.
    pub(super) owner: String,
    key: String,
    content_type: String,
    pub(super) size: u64,
    case_id: String,
    material_id: String,
    /// The SHA-256 declared at registration: only those bytes are stored.
    declared_sha256: Option<String>,
}

/// Check an upload before its body is read: a genuine, unexpired URL for a material of an
/// open case whose bytes are not stored yet (write-once), with the declared length.
pub(super) async fn check_upload(
    api: &api::Api,
    blobs: &SqliteBlobs,
    req: &Request<Incoming>,
) -> Result<Ticket, Response<Bytes>> {
    if req.method() != Method::PUT {
        return Err(refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "请使用 PUT 上传材料",
        ));
    }
    let key = req.uri().path().trim_start_matches("/uploads/").to_string();
    let q = req.uri().query().unwrap_or("");
    let get = |name: &str| {
        q.split('&').find_map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| api::percent_decode(v))
        })
    };
    let (Some(ct), Some(size), Some(expires), Some(sig)) = (
        get("content_type"),
        get("size").and_then(|s| s.parse::<u64>().ok()),
        get("expires").and_then(|s| s.parse::<i64>().ok()),
        get("signature"),
    ) else {
        return Err(refuse(StatusCode::FORBIDDEN, "forbidden", "上传地址无效"));
    };
    if let Err(why) = blobs.verify_upload(&key, &ct, size, expires, &sig, api.app.clock.now()) {
        tracing::debug!(reason = why, "upload URL rejected");
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            "上传地址无效或已过期，请重新获取",
        ));
    }
    if declared_length(req) != Some(size as usize) || size > MAX_UPLOAD as u64 {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "上传内容的长度应与登记的大小一致",
        ));
    }
    // materials/{case_id}/{material_id}
    let mut segs = key.split('/');
    let (Some("materials"), Some(case_id), Some(material_id)) =
        (segs.next(), segs.next(), segs.next())
    else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "不是材料上传地址",
        ));
    };
    let (owner, declared_sha256) = upload_case(api, case_id, material_id).await?;
    match blobs.get(&key).await {
        Ok(Some(_)) => {
            return Err(refuse(
                StatusCode::CONFLICT,
                "conflict",
                "该材料已上传，不能替换；如需更换请重新登记一份材料",
            ))
        }
        Ok(None) => {}
        Err(e) => return Err(upload_unavailable(&e)),
    }
    Ok(Ticket {
        owner,
        case_id: case_id.to_string(),
        material_id: material_id.to_string(),
        key,
        content_type: ct,
        size,
        declared_sha256,
    })
}

fn upload_unavailable(e: &dyn std::fmt::Display) -> Response<Bytes> {
    tracing::warn!(error = %e, "upload check failed");
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "系统繁忙，请稍后再试",
    )
}

/// The case an upload is for: still taking materials; whose it is and the checksum the
/// material was registered with.
async fn upload_case(
    api: &api::Api,
    case_id: &str,
    material_id: &str,
) -> Result<(String, Option<String>), Response<Bytes>> {
    match api.app.store.get(case_id).await {
        Ok(Some(c)) if !c.takes_materials() => Err(refuse(
            StatusCode::CONFLICT,
            "conflict",
            "申请已办结或终止，不能再上传材料",
        )),
        Ok(Some(c)) => Ok((
            c.owner().to_string(),
            c.materials()
                .iter()
                .find(|m| m.material_id == material_id)
                .and_then(|m| m.declared_sha256.clone()),
        )),
        Ok(None) => Err(refuse(StatusCode::NOT_FOUND, "not_found", "未找到该内容")),
        Err(e) => Err(upload_unavailable(&e)),
    }
}

/// An upload's bytes are what was registered: the type, the size, a file of that type
/// from end to end, the checksum if one was declared.
fn check_body(
    parts: &http::request::Parts,
    ct: &str,
    size: u64,
    declared_sha256: Option<&str>,
    body: &[u8],
) -> Result<(), Box<Response<Bytes>>> {
    let sent_ct = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if sent_ct.split(';').next().unwrap_or("").trim() != ct {
        return Err(Box::new(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "上传内容的类型应与登记的类型一致",
        )));
    }
    if body.len() as u64 != size {
        return Err(Box::new(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "上传内容的长度应与登记的大小一致",
        )));
    }
    let tail = &body[body.len().saturating_sub(ports::TAIL_BYTES)..];
    if !application::service::content_matches(ct, body, tail) {
        return Err(Box::new(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "上传内容不是登记的文件类型",
        )));
    }
    if declared_sha256.is_some_and(|d| d != application::service::sha256_hex(body)) {
        return Err(Box::new(refuse(
            StatusCode::BAD_REQUEST,
            "checksum_mismatch",
            "上传内容与登记的文件摘要不一致",
        )));
    }
    Ok(())
}

/// The local stand-in for an S3 presigned PUT (the URL was checked by [`check_upload`]).
pub(super) async fn upload(
    api: &api::Api,
    blobs: &SqliteBlobs,
    t: Ticket,
    parts: http::request::Parts,
    body: Bytes,
) -> Response<Bytes> {
    let bad =
        |status: StatusCode, code: &str, msg: &str| api::error_response(status, code, msg, vec![]);
    let Ticket {
        key,
        content_type: ct,
        size,
        case_id,
        material_id,
        declared_sha256,
        ..
    } = t;
    if let Err(refused) = check_body(&parts, &ct, size, declared_sha256.as_deref(), &body) {
        return *refused;
    }
    // Write-once: of two concurrent uploads of different bytes one is refused.
    match blobs.put_once(&key, &body, &ct).await {
        Ok(()) => {}
        Err(ports::StoreError::Conflict(_)) => {
            return bad(
                StatusCode::CONFLICT,
                "conflict",
                "该材料已上传，不能替换；如需更换请重新登记一份材料",
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "upload store failed");
            return bad(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "系统繁忙，请稍后再试",
            );
        }
    }
    match application::service::confirm_upload(&api.app, &case_id, &material_id).await {
        Ok(Ok(())) => {
            let v = json!({"material_id": material_id, "status": "uploaded", "size": size,
                           "sha256": application::service::sha256_hex(&body)});
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Bytes::from(v.to_string()))
                .expect("response")
        }
        Ok(Err(p)) => api::error_response(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &p.message,
            vec![json!(p)],
        ),
        Err(application::ServiceError::NotFound) => {
            bad(StatusCode::NOT_FOUND, "not_found", "未找到该材料")
        }
        Err(e) => {
            tracing::warn!(error = %e, "upload confirmation failed");
            bad(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "系统繁忙，请稍后再试",
            )
        }
    }
}

/// Each download leaves one audit event; one that cannot be recorded is not answered.
async fn record_download(
    api: &api::Api,
    req: &Request<Incoming>,
    key: &str,
) -> Result<(), Response<Bytes>> {
    let event = domain::audit::AuditEvent::link_download(
        api.app.clock.now(),
        &api::request_id(req.headers()),
        key,
    );
    api.app.audit.record(&event).await.map_err(|e| {
        tracing::error!(error = %e, "a download's audit event was not recorded");
        refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "系统繁忙，请稍后再试",
        )
    })
}

/// The local stand-in for an S3 presigned GET of a material: a signed, unexpired URL
/// serves the bytes as an attachment that browsers do not sniff.
pub(super) async fn download(
    api: &api::Api,
    blobs: &SqliteBlobs,
    req: &Request<Incoming>,
) -> Response<Bytes> {
    if req.method() != Method::GET {
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "请使用 GET 下载材料",
        );
    }
    let key = req
        .uri()
        .path()
        .trim_start_matches("/downloads/")
        .to_string();
    let q = req.uri().query().unwrap_or("");
    let get = |name: &str| {
        q.split('&').find_map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| api::percent_decode(v))
        })
    };
    let (Some(ct), Some(filename), Some(expires), Some(sig)) = (
        get("content_type"),
        get("filename"),
        get("expires").and_then(|s| s.parse::<i64>().ok()),
        get("signature"),
    ) else {
        return refuse(StatusCode::FORBIDDEN, "forbidden", "下载地址无效");
    };
    if blobs
        .verify_download(&key, &ct, &filename, expires, &sig, api.app.clock.now())
        .is_err()
    {
        return refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            "下载地址无效或已过期，请重新获取",
        );
    }
    match blobs.get(&key).await {
        Ok(Some(bytes)) => {
            if let Err(refused) = record_download(api, req, &key).await {
                return refused;
            }
            let safe_name: String = filename
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                .collect();
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, ct)
                .header(
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{safe_name}\""),
                )
                .header("x-content-type-options", "nosniff")
                .header(header::CACHE_CONTROL, "no-store")
                .body(Bytes::from(bytes))
                .expect("response")
        }
        Ok(None) => refuse(StatusCode::NOT_FOUND, "not_found", "未找到该材料"),
        Err(e) => {
            tracing::warn!(error = %e, "download failed");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "系统繁忙，请稍后再试",
            )
        }
    }
}
