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
        "the body is too large",
        vec![],
    )
}

async fn route(
    api: Arc<api::Api>,
    blobs: Option<Arc<SqliteBlobs>>,
    req: Request<Incoming>,
) -> Response<Bytes> {
    let is_upload = req.uri().path().starts_with("/uploads/");
    let limit = if is_upload {
        MAX_UPLOAD
    } else {
        api::MAX_JSON_BODY
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
                "could not read the body",
                vec![],
            )
        }
    };
    if is_upload {
        return match blobs {
            Some(b) => upload(&api, &b, parts, bytes).await,
            // On AWS, uploads go straight to S3 through presigned URLs.
            None => api::error_response(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such resource",
                vec![],
            ),
        };
    }
    api.handle(Request::from_parts(parts, bytes)).await
}

/// The local stand-in for an S3 presigned PUT.
async fn upload(
    api: &api::Api,
    blobs: &SqliteBlobs,
    parts: http::request::Parts,
    body: Bytes,
) -> Response<Bytes> {
    let bad =
        |status: StatusCode, code: &str, msg: &str| api::error_response(status, code, msg, vec![]);
    if parts.method != Method::PUT {
        return bad(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "PUT the bytes",
        );
    }
    let key = parts.uri.path().trim_start_matches("/uploads/").to_string();
    let q = parts.uri.query().unwrap_or("");
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
        return bad(StatusCode::FORBIDDEN, "forbidden", "not a valid upload URL");
    };
    if let Err(why) = blobs.verify_upload(&key, &ct, size, expires, &sig, api.app.clock.now()) {
        return bad(
            StatusCode::FORBIDDEN,
            "forbidden",
            &format!("upload URL rejected: {why}"),
        );
    }
    let sent_ct = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if sent_ct.split(';').next().unwrap_or("").trim() != ct {
        return bad(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Content-Type must be the declared type",
        );
    }
    if body.len() as u64 != size {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body length must be the declared size",
        );
    }
    if !application::service::magic_matches(&ct, &body) {
        return bad(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the bytes are not of the declared type",
        );
    }
    if let Err(e) = blobs.put(&key, &body, &ct).await {
        tracing::warn!(error = %e, "upload store failed");
        return bad(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again");
    }
    // materials/{case_id}/{material_id}
    let mut segs = key.split('/');
    let (Some("materials"), Some(case_id), Some(material_id)) =
        (segs.next(), segs.next(), segs.next())
    else {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "not a material upload",
        );
    };
    match application::service::confirm_upload(&api.app, case_id, material_id).await {
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
            bad(StatusCode::NOT_FOUND, "not_found", "no such material")
        }
        Err(e) => bad(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            &e.to_string(),
        ),
    }
}
