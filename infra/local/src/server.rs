//! The HTTP server: the API on hyper, plus the upload endpoint that stands in for S3
//! presigned URLs (`PUT /uploads/{key}?content_type&size&expires&signature`).

use bytes::Bytes;
use embedded::SqliteBlobs;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use ports::BlobStore;
use serde_json::json;
use std::sync::Arc;
use tokio::sync::watch;

const MAX_UPLOAD: usize = application::service::MAX_MATERIAL_BYTES as usize;

pub async fn serve(
    listener: tokio::net::TcpListener,
    api: Arc<api::Api>,
    blobs: Option<Arc<SqliteBlobs>>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let (api, blobs) = (api.clone(), blobs.clone());
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<Incoming>| {
                let (api, blobs) = (api.clone(), blobs.clone());
                async move {
                    Ok::<_, std::convert::Infallible>(route(api, blobs, req).await.map(Full::new))
                }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => conn.as_mut().graceful_shutdown(),
            }
        });
    }
}

fn too_large() -> Response<Bytes> {
    api::error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "请求内容过大",
        vec![],
    )
}

async fn route(
    api: Arc<api::Api>,
    blobs: Option<Arc<SqliteBlobs>>,
    req: Request<Incoming>,
) -> Response<Bytes> {
    let is_upload = req.uri().path().starts_with("/uploads/");
    // An upload is checked (method, signature, expiry, declared length, the case still
    // open, the bytes not stored yet) before a single body byte is read, and then at most
    // the signed size is read.
    let upload_ticket = if is_upload {
        let Some(b) = &blobs else {
            // On AWS, uploads go straight to S3 through presigned URLs.
            return api::error_response(StatusCode::NOT_FOUND, "not_found", "未找到该内容", vec![]);
        };
        match check_upload(&api, b, &req).await {
            Ok(t) => Some(t),
            Err(r) => return r,
        }
    } else {
        None
    };
    let limit = match &upload_ticket {
        Some(t) => t.size as usize,
        None => api::MAX_JSON_BODY,
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return too_large()
        }
        Err(_) => {
            return api::error_response(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "无法读取请求内容",
                vec![],
            )
        }
    };
    if let (Some(t), Some(b)) = (upload_ticket, blobs) {
        return upload(&api, &b, t, parts, bytes).await;
    }
    api.handle(Request::from_parts(parts, bytes)).await
}

/// What a verified upload URL pins.
struct Ticket {
    key: String,
    content_type: String,
    size: u64,
    case_id: String,
    material_id: String,
}

fn refuse(status: StatusCode, code: &str, msg: &str) -> Response<Bytes> {
    api::error_response(status, code, msg, vec![])
}

/// Check an upload before its body is read: a genuine, unexpired URL for a material of an
/// open case whose bytes are not stored yet (write-once), with the declared length.
async fn check_upload(
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
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared != Some(size) || size > MAX_UPLOAD as u64 {
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
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::warn!(error = %e, "upload check failed");
        refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "系统繁忙，请稍后再试",
        )
    };
    match api.app.store.get(case_id).await {
        Ok(Some(c)) if c.status().is_finished() => {
            return Err(refuse(
                StatusCode::CONFLICT,
                "conflict",
                "申请已办结或终止，不能再上传材料",
            ))
        }
        Ok(Some(_)) => {}
        Ok(None) => return Err(refuse(StatusCode::NOT_FOUND, "not_found", "未找到该内容")),
        Err(e) => return Err(unavailable(&e)),
    }
    match blobs.get(&key).await {
        Ok(Some(_)) => {
            return Err(refuse(
                StatusCode::CONFLICT,
                "conflict",
                "该材料已上传，不能替换；如需更换请重新登记一份材料",
            ))
        }
        Ok(None) => {}
        Err(e) => return Err(unavailable(&e)),
    }
    Ok(Ticket {
        case_id: case_id.to_string(),
        material_id: material_id.to_string(),
        key,
        content_type: ct,
        size,
    })
}

/// The local stand-in for an S3 presigned PUT (the URL was checked by [`check_upload`]).
async fn upload(
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
    } = t;
    let sent_ct = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if sent_ct.split(';').next().unwrap_or("").trim() != ct {
        return bad(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "上传内容的类型应与登记的类型一致",
        );
    }
    if body.len() as u64 != size {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "上传内容的长度应与登记的大小一致",
        );
    }
    if !application::service::magic_matches(&ct, &body) {
        return bad(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "上传内容不是登记的文件类型",
        );
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
