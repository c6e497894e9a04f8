//! The HTTP API v1 (see `openapi.json` beside this file and `../shared/API.md`).
//!
//! Framework-free: [`Api::handle`] takes an `http::Request<Bytes>` and returns an
//! `http::Response<Bytes>`, so the same code serves the local runtime (hyper) and API
//! Gateway (`apigw`). Errors are always `{"error": {"code", "message", "details"}}`;
//! nothing a client sends yields a 500.

pub mod apigw;
pub mod auth;
pub mod route;

use application::response::{Links, Resubmitted, Submitted};
use application::{App, ServiceError};
use auth::{Auth, AuthError, Claims};
use bytes::Bytes;
use domain::audit::{AuditAction, AuditEvent};
use domain::case::Actor;
use http::{header, HeaderMap, Request, Response, StatusCode};
use ports::AuditLog;
use route::{Route, Unrouted};
use serde_json::{json, Value};
use std::sync::Arc;
use tracing::Instrument;

/// The OpenAPI 3 document of this API.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Largest JSON request body.
pub const MAX_JSON_BODY: usize = 64 * 1024;
/// At most this many problems in one error response (the rest are counted).
pub const MAX_PROBLEMS: usize = 50;
/// Texts in a problem are cut to this many characters.
const MAX_PROBLEM_TEXT: usize = 200;

pub struct Api {
    pub app: App,
    pub auth: Auth,
    /// Base URL for local upload links when the request has no Host header.
    pub public_base_url: Option<String>,
    /// Where every read and write of a case's personal data is recorded.
    pub audit: Arc<dyn AuditLog>,
    /// Behind the edge (CloudFront with AWS WAF): the secret the edge adds to every
    /// request as [`EDGE_HEADER`]; a request without it came around the edge and is
    /// refused. None: no edge.
    pub edge: Option<Arc<dyn ports::SecretSource>>,
}

/// The header the edge adds to every request it forwards, holding the origin secret.
pub const EDGE_HEADER: &str = "x-onething-edge";

impl Api {
    /// This function's composition root, as its `main` runs it: DynamoDB, SQS, S3, KMS
    /// (the certificates' public keys), the data-sharing client (a resubmission or a
    /// correction gathers records again) and the audit trail, from the Lambda environment
    /// that `var` looks up; claims come from the JWT authorizer (`Auth::Upstream`).
    pub fn compose(
        var: impl Fn(&str) -> Option<String> + 'static,
    ) -> Result<Api, lambda::lambda_runtime::Error> {
        let public_base_url = var("ONETHING_PUBLIC_URL").filter(|u| !u.is_empty());
        let init = lambda::Init::from_lookup(var)?
            .with_s3()
            .with_certificates()
            .with_data_sharing()?
            .with_documents(None);
        let audit = init.audit();
        let edge = init.edge_secret();
        Ok(Api {
            app: init.app(),
            auth: Auth::Upstream,
            public_base_url,
            audit,
            edge,
        })
    }
}

/// The request id: the caller's `X-Request-Id` when it is 1–64 safe characters
/// (letters, digits, `-`, `_`, `.`), otherwise a new one.
pub fn request_id(headers: &HeaderMap) -> String {
    caller_request_id(headers)
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The caller's own `X-Request-Id`, when it is a usable one.
pub fn caller_request_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
}

fn json_response(status: StatusCode, v: &impl serde::Serialize) -> Response<Bytes> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header("x-content-type-options", "nosniff")
        .body(Bytes::from(serde_json::to_vec(v).expect("json")))
        .expect("valid response")
}

pub fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    mut details: Vec<Value>,
) -> Response<Bytes> {
    // An error is never much larger than the request that caused it: at most
    // `MAX_PROBLEMS` problems, each with short texts.
    if details.len() > MAX_PROBLEMS {
        let more = details.len() - MAX_PROBLEMS;
        details.truncate(MAX_PROBLEMS);
        details.push(json!({"field": "", "code": "too_many_problems",
                            "message": format!("另有 {more} 处问题未列出，请先更正以上各项")}));
    }
    for d in details.iter_mut() {
        if let Some(o) = d.as_object_mut() {
            for v in o.values_mut() {
                if let Value::String(s) = v {
                    if s.chars().count() > MAX_PROBLEM_TEXT {
                        *s = s.chars().take(MAX_PROBLEM_TEXT).collect::<String>() + "…";
                    }
                }
            }
        }
    }
    let mut r = json_response(
        status,
        &json!({"error": {"code": code, "message": message, "details": details}}),
    );
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("header"));
    }
    r
}

fn service_error(e: ServiceError) -> Response<Bytes> {
    match e {
        ServiceError::Invalid(problems) => error_response(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("申请内容有 {} 处需要修改，请按提示逐项更正", problems.len()),
            problems
                .iter()
                .map(|p| {
                    json!({"field": p.field, "code": p.code,
                           "message": p.message})
                })
                .collect(),
        ),
        ServiceError::BadRequest(m) => error_response(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            m.as_str(),
            vec![],
        ),
        ServiceError::Unauthorized(m) => {
            tracing::debug!(reason = %m, "unauthorized");
            error_response(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "请先登录（登录凭证缺失、无效或已过期）",
                vec![],
            )
        }
        ServiceError::Forbidden(m) => {
            error_response(StatusCode::FORBIDDEN, "forbidden", m.as_str(), vec![])
        }
        ServiceError::NotFound => {
            error_response(StatusCode::NOT_FOUND, "not_found", "未找到该内容", vec![])
        }
        ServiceError::Conflict(m) => {
            error_response(StatusCode::CONFLICT, "conflict", m.as_str(), vec![])
        }
        ServiceError::ConflictCode { code, message } => {
            error_response(StatusCode::CONFLICT, code, message.as_str(), vec![])
        }
        ServiceError::Duplicate { existing_case_id } => {
            let mut body = json!({"error": {
                "code": "duplicate_newborn",
                "message": "该新生儿已有正在办理的出生“一件事”申请，不能重复申请",
                "details": [],
            }});
            if let Some(id) = existing_case_id {
                body["error"]["existing_case_id"] = json!(id);
            }
            json_response(StatusCode::CONFLICT, &body)
        }
        ServiceError::Throttled {
            message,
            retry_after,
        } => {
            let mut r = error_response(
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                message.as_str(),
                vec![],
            );
            r.headers_mut().insert(
                header::RETRY_AFTER,
                retry_after.to_string().parse().expect("header"),
            );
            r
        }
        ServiceError::Limit(m) => {
            error_response(StatusCode::CONFLICT, "limit_reached", m.as_str(), vec![])
        }
        ServiceError::TooLarge(m) => error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            m.as_str(),
            vec![],
        ),
        ServiceError::UnsupportedMediaType(m) => error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            m.as_str(),
            vec![],
        ),
        ServiceError::Unavailable(m) => {
            tracing::warn!(error = %m, "service unavailable");
            let mut r = error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "系统繁忙，请稍后再试",
                vec![],
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, "1".parse().expect("header"));
            r
        }
        ServiceError::Internal(m) => {
            tracing::error!(error = %m, "internal error");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "系统内部错误，请稍后再试",
                vec![],
            )
        }
    }
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then(|| percent_decode(v))
    })
}

/// Minimal percent-decoding for query values.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse a JSON request body: content type, size and syntax.
pub fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, ServiceError> {
    if body.len() > MAX_JSON_BODY {
        return Err(ServiceError::TooLarge(
            format!("请求内容过大（不超过 {} KB）", MAX_JSON_BODY / 1024).into(),
        ));
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" {
        return Err(ServiceError::UnsupportedMediaType(
            "请求内容类型不正确，请以 JSON 格式提交".into(),
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ServiceError::BadRequest("请求内容不是有效的 UTF-8 文本".into()))?;
    let v: Value = serde_json::from_str(text).map_err(|e| {
        ServiceError::Invalid(vec![domain::Problem::new(
            "",
            "json",
            format!(
                "请求内容格式不正确（第 {} 行第 {} 列）",
                e.line(),
                e.column()
            ),
        )])
    })?;
    // Every body of this API is a JSON object; `null`, `[1]` or `1e-05` is not "no
    // changes", it is a malformed request.
    if !v.is_object() {
        return Err(ServiceError::Invalid(vec![domain::Problem::new(
            "",
            "object_required",
            "请求内容应为一个 JSON 对象",
        )]));
    }
    Ok(v)
}

impl Api {
    fn authenticate(&self, parts: &http::request::Parts) -> Result<Actor, AuthError> {
        let claims = match &self.auth {
            Auth::Upstream => parts
                .extensions
                .get::<Claims>()
                .cloned()
                .ok_or(AuthError::Missing)?,
            Auth::Hs256 {
                secret,
                issuer,
                audience,
            } => {
                let h = parts
                    .headers
                    .get(header::AUTHORIZATION)
                    .ok_or(AuthError::Missing)?;
                let h = h.to_str().map_err(|_| AuthError::Malformed)?;
                let token = h
                    .strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
                    .ok_or(AuthError::Malformed)?;
                auth::verify(
                    secret,
                    token.trim(),
                    self.app.clock.now().timestamp(),
                    issuer.as_deref(),
                    audience.as_deref(),
                )?
            }
        };
        auth::actor(&claims)
    }

    fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(b) = &self.public_base_url {
            return b.clone();
        }
        match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
            Some(h)
                if h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".:-[]".contains(&b)) =>
            {
                format!("http://{h}")
            }
            _ => "http://127.0.0.1:8080".into(),
        }
    }

    /// Serve one request.
    pub async fn handle(&self, req: Request<Bytes>) -> Response<Bytes> {
        let request_id = request_id(req.headers());
        let span = tracing::info_span!("request", request_id = %request_id);
        let mut resp = self.handle_in(req, &request_id).instrument(span).await;
        if let Ok(v) = http::HeaderValue::from_str(&request_id) {
            resp.headers_mut().insert("x-request-id", v);
        }
        resp
    }

    /// Behind an edge: does the request carry the edge's origin secret? (Compared in
    /// constant time.) An error response when it does not, or the secret is unreadable.
    async fn around_the_edge(&self, headers: &HeaderMap) -> Option<Response<Bytes>> {
        let edge = self.edge.as_ref()?;
        let secret = match edge.secret().await {
            Ok(s) if !s.is_empty() => s,
            Ok(_) | Err(_) => {
                tracing::error!("the edge's origin secret cannot be read");
                return Some(error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "系统繁忙，请稍后再试",
                    vec![],
                ));
            }
        };
        let given = headers
            .get(EDGE_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        let same = given.len() == secret.len()
            && given
                .iter()
                .zip(secret.as_bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        (!same).then(|| {
            error_response(
                StatusCode::FORBIDDEN,
                "forbidden",
                "请通过本服务的正式网址访问",
                vec![],
            )
        })
    }

    async fn handle_in(&self, req: Request<Bytes>, request_id: &str) -> Response<Bytes> {
        if let Some(refused) = self.around_the_edge(req.headers()).await {
            return refused;
        }
        let started = std::time::Instant::now();
        let method = req.method().clone();
        let (parts, body) = req.into_parts();
        let mut audit: Option<AuditEvent> = None;
        let path = parts.uri.path().to_string();
        let (route, resp) = match Route::parse(method.as_str(), &path) {
            Err(Unrouted::MethodNotAllowed(allowed)) => {
                let mut r = error_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    "该地址不支持此请求方法",
                    vec![],
                );
                r.headers_mut()
                    .insert(header::ALLOW, allowed.join(", ").parse().expect("header"));
                ("unmatched", r)
            }
            Err(Unrouted::NotFound) => (
                "unmatched",
                error_response(StatusCode::NOT_FOUND, "not_found", "未找到该内容", vec![]),
            ),
            Ok(route) => (
                route.pattern(),
                self.dispatch(route, &parts, &body, request_id, &mut audit)
                    .await
                    .unwrap_or_else(service_error),
            ),
        };
        let resp = match audit {
            Some(mut event) if resp.status().is_success() => {
                event.status = resp.status().as_u16();
                self.record_audit(event, resp).await
            }
            _ => resp,
        };
        tracing::info!(
            method = %method,
            route,
            status = resp.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "request",
        );
        resp
    }

    /// Record an access to personal data before the response leaves. A read whose record
    /// cannot be written is not answered (503); a write has already happened, so its
    /// response still goes out and the failure is logged as an error.
    async fn record_audit(&self, event: AuditEvent, resp: Response<Bytes>) -> Response<Bytes> {
        match self.audit.record(&event).await {
            Ok(()) => resp,
            Err(e) if event.action == AuditAction::Write => {
                tracing::error!(error = %e, operation = %event.operation, "audit record lost");
                resp
            }
            Err(e) => {
                tracing::error!(error = %e, operation = %event.operation, "audit record failed");
                service_error(ServiceError::Unavailable("系统繁忙，请稍后再试".into()))
            }
        }
    }

    async fn dispatch(
        &self,
        route: Route,
        parts: &http::request::Parts,
        body: &[u8],
        request_id: &str,
        audit: &mut Option<AuditEvent>,
    ) -> Result<Response<Bytes>, ServiceError> {
        let app = &self.app;
        match route {
            Route::Healthz => return Ok(json_response(StatusCode::OK, &json!({"status": "ok"}))),
            Route::OpenApi => {
                return Ok(Response::builder()
                    .status(StatusCode::OK)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Bytes::from_static(OPENAPI.as_bytes()))
                    .expect("response"))
            }
            Route::Guide => {
                return Ok(json_response(
                    StatusCode::OK,
                    &application::service::guide(),
                ))
            }
            Route::Sites => {
                let county = query_param(parts.uri.query(), "county");
                return Ok(json_response(
                    StatusCode::OK,
                    &application::service::sites(app, county.as_deref())?,
                ));
            }
            Route::Verify { cert_id } => {
                let t = query_param(parts.uri.query(), "t");
                return Ok(json_response(
                    StatusCode::OK,
                    &application::certs::verify(app, &cert_id, t.as_deref()).await?,
                ));
            }
            Route::Keys => {
                return Ok(json_response(
                    StatusCode::OK,
                    &application::certs::keys(app).await?,
                ));
            }
            Route::SiteSlots { site_id } => {
                let date = query_param(parts.uri.query(), "date");
                return Ok(json_response(
                    StatusCode::OK,
                    &application::booking::slots(app, &site_id, date.as_deref()).await?,
                ));
            }
            _ => {}
        }
        let actor = self
            .authenticate(parts)
            .map_err(|e| ServiceError::Unauthorized(e.to_string()))?;
        // Every POST honours an optional Idempotency-Key (applications have their own,
        // required one, kept with the case).
        let key = parts.headers.get("idempotency-key");
        if parts.method != http::Method::POST || route == Route::Submit || key.is_none() {
            return self
                .dispatch_as(route, parts, body, request_id, audit, &actor)
                .await;
        }
        let key = key
            .and_then(|k| k.to_str().ok())
            .filter(|k| (1..=128).contains(&k.len()) && !k.chars().any(char::is_control))
            .ok_or_else(|| {
                ServiceError::Invalid(vec![domain::Problem::new(
                    "Idempotency-Key",
                    "format",
                    "幂等键应为 1 到 128 个可见字符",
                )])
            })?;
        let digest = |s: &[u8]| application::service::sha256_hex(s);
        let scope = digest(format!("{}:{}", actor.role.as_str(), actor.sub).as_bytes());
        let key = digest(key.as_bytes());
        let mut request = format!("{} {}\n", parts.method, parts.uri.path()).into_bytes();
        request.extend_from_slice(body);
        let hash = digest(&request);
        let now = app.clock.now();
        match app.answers.remember(&scope, &key, &hash, now).await? {
            ports::Remembered::Replay(stored) => {
                let mut r = Response::builder()
                    .status(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK))
                    .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
                    .header(header::CACHE_CONTROL, "no-store")
                    .header("x-content-type-options", "nosniff")
                    .body(Bytes::from(stored.body))
                    .expect("response");
                r.headers_mut()
                    .insert("idempotent-replayed", "true".parse().expect("header"));
                return Ok(r);
            }
            ports::Remembered::Mismatch => {
                return Err(ServiceError::Conflict(
                    "该幂等键已用于另一请求，请使用新的幂等键".into(),
                ))
            }
            ports::Remembered::InFlight => {
                return Err(ServiceError::Conflict(
                    "相同的请求正在处理，请稍后重试".into(),
                ))
            }
            ports::Remembered::New => {}
        }
        let result = self
            .dispatch_as(route, parts, body, request_id, audit, &actor)
            .await;
        let kept = match &result {
            Ok(r) if r.status().is_success() => {
                let response = ports::StoredResponse {
                    status: r.status().as_u16(),
                    body: String::from_utf8_lossy(r.body()).into_owned(),
                };
                let expires = now + chrono::Duration::hours(ports::IDEMPOTENCY_TTL_HOURS);
                app.answers
                    .keep_response(&scope, &key, &response, expires)
                    .await
            }
            _ => app.answers.forget(&scope, &key).await,
        };
        if let Err(e) = kept {
            tracing::warn!(error = %e, "idempotency record not kept");
        }
        result
    }

    /// Serve an authenticated request.
    async fn dispatch_as(
        &self,
        route: Route,
        parts: &http::request::Parts,
        body: &[u8],
        request_id: &str,
        audit: &mut Option<AuditEvent>,
        actor: &Actor,
    ) -> Result<Response<Bytes>, ServiceError> {
        let app = &self.app;
        let actor = actor.clone();
        let operation = format!("{} {}", parts.method, route.pattern());
        let q = parts.uri.query();
        let now = app.clock.now();
        let mut note = |action: AuditAction, cases: Vec<String>, fields: &[&str]| {
            let mut e = AuditEvent::new(now, request_id, &actor, action, &operation);
            e.cases = cases;
            e.fields = fields.iter().map(|f| f.to_string()).collect();
            *audit = Some(e);
        };
        match route {
            Route::Healthz
            | Route::OpenApi
            | Route::Guide
            | Route::Sites
            | Route::SiteSlots { .. }
            | Route::Verify { .. }
            | Route::Keys => unreachable!("served above"),
            Route::Correct { case_id } => {
                let v = json_body(&parts.headers, body)?;
                let out = application::service::correct_after_completion(app, &actor, &case_id, &v)
                    .await?;
                note(AuditAction::Write, vec![case_id.clone()], &["corrections"]);
                ok(StatusCode::ACCEPTED, out)
            }
            Route::Certificates { case_id } => {
                let base = self.base_url(&parts.headers);
                let v = application::certs::list(app, &actor, &case_id, &base).await?;
                note(AuditAction::Read, vec![case_id.clone()], &["certificates"]);
                ok(StatusCode::OK, v)
            }
            Route::Book => {
                let v = json_body(&parts.headers, body)?;
                ok(
                    StatusCode::CREATED,
                    application::booking::book(app, &actor, &v).await?,
                )
            }
            Route::MyAppointments => ok(
                StatusCode::OK,
                application::booking::mine(app, &actor).await?,
            ),
            Route::CancelAppointment { appointment_id } => ok(
                StatusCode::OK,
                application::booking::cancel(app, &actor, &appointment_id).await?,
            ),
            Route::SiteAppointments { site_id } => ok(
                StatusCode::OK,
                application::booking::site_day(
                    app,
                    &actor,
                    &site_id,
                    query_param(q, "date").as_deref(),
                )
                .await?,
            ),
            Route::Submit => {
                let v = json_body(&parts.headers, body)?;
                let key = parts
                    .headers
                    .get("idempotency-key")
                    .map(|k| k.to_str().unwrap_or("\u{0}"));
                let (case, created) = application::service::submit(app, &actor, key, &v).await?;
                note(
                    AuditAction::Write,
                    vec![case.case_id().to_string()],
                    &["form"],
                );
                let mut r = json_response(
                    StatusCode::ACCEPTED,
                    &Submitted {
                        case_id: case.case_id().to_string(),
                        channel: case.channel(),
                        links: Links {
                            this: format!("/v1/cases/{}", case.case_id()),
                        },
                        status: case.status(),
                        submitted_at: case.submitted_at(),
                        version: case.version(),
                    },
                );
                r.headers_mut().insert(
                    header::LOCATION,
                    format!("/v1/cases/{}", case.case_id())
                        .parse()
                        .expect("header"),
                );
                if !created {
                    r.headers_mut()
                        .insert("idempotent-replayed", "true".parse().expect("header"));
                }
                Ok(r)
            }
            Route::MyCases => {
                let list = application::service::my_cases(app, &actor, &page_request(q)?).await?;
                let ids = list.cases.iter().map(|c| c.case_id.clone()).collect();
                note(AuditAction::Read, ids, &["newborn_name", "status"]);
                ok(StatusCode::OK, list)
            }
            Route::Case { case_id } => {
                let reason = query_param(q, "break_glass");
                let shown =
                    application::service::case_view(app, &actor, &case_id, reason.as_deref())
                        .await?;
                // The masked view holds no personal data; the full view is recorded.
                if let domain::view::Shown::Full(_) = &shown {
                    let action = match reason {
                        Some(_) => AuditAction::BreakGlassRead,
                        None => AuditAction::Read,
                    };
                    note(action, vec![case_id.clone()], &CASE_FIELDS);
                    if let Some(e) = audit.as_mut() {
                        e.reason = reason;
                    }
                }
                ok(StatusCode::OK, shown)
            }
            Route::AddMaterial { case_id } => {
                let v = json_body(&parts.headers, body)?;
                let t = application::service::new_material(
                    app,
                    &actor,
                    &case_id,
                    &v,
                    &self.base_url(&parts.headers),
                )
                .await?;
                let field = format!("material:{}", t.material_id);
                note(AuditAction::Write, vec![case_id.clone()], &[&field]);
                ok(StatusCode::CREATED, t)
            }
            Route::Resubmit { case_id } => {
                let v = json_body(&parts.headers, body)?;
                let c = application::service::resubmit(app, &actor, &case_id, &v).await?;
                note(
                    AuditAction::Write,
                    vec![case_id.clone()],
                    &["form", "materials"],
                );
                ok(
                    StatusCode::ACCEPTED,
                    Resubmitted {
                        case_id: c.case_id().to_string(),
                        current_step: c.current_step(),
                        status: c.status(),
                        version: c.version(),
                    },
                )
            }
            Route::Rate { case_id } => {
                let v = json_body(&parts.headers, body)?;
                let r = application::service::rate(app, &actor, &case_id, &v).await?;
                note(AuditAction::Write, vec![case_id.clone()], &["ratings"]);
                ok(StatusCode::CREATED, r)
            }
            Route::Complain { case_id } => {
                let v = json_body(&parts.headers, body)?;
                let c = application::service::complain(app, &actor, &case_id, &v).await?;
                note(AuditAction::Write, vec![case_id.clone()], &["complaints"]);
                ok(StatusCode::CREATED, c)
            }
            Route::AnswerComplaint {
                case_id,
                complaint_id,
            } => {
                let v = json_body(&parts.headers, body)?;
                let c = application::service::answer_complaint(
                    app,
                    &actor,
                    &case_id,
                    &complaint_id,
                    &v,
                )
                .await?;
                note(AuditAction::Write, vec![case_id.clone()], &["complaints"]);
                ok(StatusCode::OK, c)
            }
            Route::Tasks => {
                let filter = application::service::TaskFilter {
                    status: query_param(q, "status"),
                    step: query_param(q, "step"),
                    overdue: query_param(q, "overdue"),
                };
                let page = page_request(q)?;
                ok(
                    StatusCode::OK,
                    application::service::tasks(app, &actor, &filter, &page).await?,
                )
            }
            Route::Decide { task_id } => {
                let v = json_body(&parts.headers, body)?;
                let d = application::service::decide(app, &actor, &task_id, &v).await?;
                note(
                    AuditAction::Write,
                    vec![d.case_id.clone()],
                    &["steps", "results"],
                );
                ok(StatusCode::OK, d)
            }
            Route::Births => {
                let v = json_body(&parts.headers, body)?;
                let (birth_id, created) =
                    application::service::record_birth(app, &actor, &v).await?;
                let field = format!("birth:{birth_id}");
                note(AuditAction::Write, vec![], &[&field]);
                let status = if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                ok(status, json!({ "birth_id": birth_id }))
            }
            Route::Withdraw { case_id } => {
                let v = json_body(&parts.headers, body)?;
                let c = application::service::withdraw(app, &actor, &case_id, &v).await?;
                note(AuditAction::Write, vec![case_id.clone()], &["status"]);
                ok(
                    StatusCode::OK,
                    Resubmitted {
                        case_id: c.case_id().to_string(),
                        current_step: c.current_step(),
                        status: c.status(),
                        version: c.version(),
                    },
                )
            }
            Route::PremiumPayment { case_id } => {
                let v = json_body(&parts.headers, body)?;
                let c = application::service::premium_payment(app, &actor, &case_id, &v).await?;
                note(
                    AuditAction::Write,
                    vec![case_id.clone()],
                    &["results.medical_insurance"],
                );
                ok(
                    StatusCode::OK,
                    json!({
                        "case_id": c.case_id(),
                        "medical_insurance": c.results().insurance.as_ref()
                            .map(|i| &i.medical_insurance),
                        "version": c.version(),
                    }),
                )
            }
            Route::Material {
                case_id,
                material_id,
            } => {
                let d = application::service::material_download(
                    app,
                    &actor,
                    &case_id,
                    &material_id,
                    &self.base_url(&parts.headers),
                )
                .await?;
                let field = format!("material:{material_id}");
                note(AuditAction::Read, vec![case_id.clone()], &[&field]);
                ok(StatusCode::OK, d)
            }
            Route::Feedback => ok(
                StatusCode::OK,
                application::service::feedback_inbox(
                    app,
                    &actor,
                    query_param(q, "status").as_deref(),
                    &page_request(q)?,
                )
                .await?,
            ),
            Route::FollowUp {
                feedback_id,
                action,
            } => {
                let v = json_body(&parts.headers, body)?;
                let (item, case_id) =
                    application::service::follow_up(app, &actor, &feedback_id, action, &v).await?;
                note(AuditAction::Write, vec![case_id], &["feedback"]);
                ok(StatusCode::OK, item)
            }
            Route::Escalations => ok(
                StatusCode::OK,
                application::service::escalations(app, &actor, &page_request(q)?).await?,
            ),
            Route::Report => {
                if actor.role != domain::Role::Supervisor {
                    return Err(ServiceError::Forbidden("监督报告仅供监督人员查看".into()));
                }
                let (from, to) = application::report::parse_period(
                    query_param(q, "from").as_deref(),
                    query_param(q, "to").as_deref(),
                )?;
                let filter = application::report::ReportFilter::parse(
                    &actor,
                    query_param(q, "region").as_deref(),
                    query_param(q, "dept").as_deref(),
                )?;
                // The per-case list: 100 rows a page unless asked otherwise.
                let mut page = page_request(q)?;
                if query_param(q, "limit").is_none() {
                    page.limit = application::paging::MAX_LIMIT;
                }
                ok(
                    StatusCode::OK,
                    application::report::report(app, &actor, from, to, &filter, &page).await?,
                )
            }
        }
    }
}

/// `?limit=&cursor=` of a list.
fn page_request(q: Option<&str>) -> Result<application::paging::PageRequest, ServiceError> {
    application::paging::PageRequest::parse(
        query_param(q, "limit").as_deref(),
        query_param(q, "cursor").as_deref(),
    )
}

/// What a full case view shows of the case's personal data.
const CASE_FIELDS: [&str; 8] = [
    "form",
    "results",
    "materials",
    "missing",
    "timeline",
    "complaints",
    "ratings",
    "notifications",
];

/// A JSON answer with this status.
fn ok(status: StatusCode, v: impl serde::Serialize) -> Result<Response<Bytes>, ServiceError> {
    Ok(json_response(status, &v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_of_query_values() {
        assert_eq!(percent_decode("image%2Fpng"), "image/png");
        assert_eq!(percent_decode("%zz%2"), "%zz%2");
    }

    /// The router and the OpenAPI document agree: every route is documented with its
    /// method, and every documented operation is routed.
    #[test]
    fn openapi_matches_router() {
        let doc: Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let mut documented = vec![];
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (m, _) in item.as_object().unwrap() {
                if ["get", "post", "put", "delete", "patch"].contains(&m.as_str()) {
                    documented.push((m.to_uppercase(), path.clone()));
                }
            }
        }
        let mut routed: Vec<(String, String)> = Route::TABLE
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        documented.sort();
        routed.sort();
        assert_eq!(documented, routed);
    }
}
