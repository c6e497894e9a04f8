//! The HTTP API v1 (see `openapi.json` beside this file and `../shared/API.md`).
//!
//! Framework-free: [`Api::handle`] takes an `http::Request<Bytes>` and returns an
//! `http::Response<Bytes>`, so the same code serves the local runtime (hyper) and API
//! Gateway (`apigw`). Errors are always `{"error": {"code", "message", "details"}}`;
//! nothing a client sends yields a 500.

pub mod apigw;
pub mod auth;
pub mod call;
pub mod route;
pub mod routes;

use application::{App, ServiceError};
use auth::{Auth, AuthError, Claims};
use bytes::Bytes;
use call::{Answer, Call};
use domain::audit::{AuditAction, AuditEvent};
use domain::case::Actor;
use http::{header, HeaderMap, Request, Response, StatusCode};
use ports::AuditLog;
use route::{RouteDef, Unrouted, Who};
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

/// The least time a refusal that could tell whether something exists takes (404, and the
/// duplicate newborn): longer than any difference between reading a case and finding none.
pub const REFUSAL_FLOOR: std::time::Duration = std::time::Duration::from_millis(5);

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

/// The response to a refused or failed request: status, code and a message a citizen can
/// read; internal reasons go to the log only.
fn service_error(e: ServiceError) -> Response<Bytes> {
    let mut details = vec![];
    let (status, code, message): (StatusCode, &str, String) = match &e {
        ServiceError::Invalid(problems) => {
            details = problems
                .iter()
                .map(|p| json!({"field": p.field, "code": p.code, "message": p.message}))
                .collect();
            let message = format!("申请内容有 {} 处需要修改，请按提示逐项更正", problems.len());
            (StatusCode::BAD_REQUEST, "invalid_request", message)
        }
        ServiceError::BadRequest(m) => (StatusCode::BAD_REQUEST, "invalid_request", m.to_string()),
        ServiceError::Unauthorized(reason) => {
            tracing::debug!(%reason, "unauthorized");
            let m = "请先登录（登录凭证缺失、无效或已过期）";
            (StatusCode::UNAUTHORIZED, "unauthorized", m.into())
        }
        ServiceError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.to_string()),
        ServiceError::ForbiddenCode { code, message } => {
            (StatusCode::FORBIDDEN, *code, message.to_string())
        }
        ServiceError::NotFound => (StatusCode::NOT_FOUND, "not_found", "未找到该内容".into()),
        ServiceError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m.to_string()),
        ServiceError::ConflictCode { code, message } => {
            (StatusCode::CONFLICT, *code, message.to_string())
        }
        ServiceError::Duplicate { existing_case_id } => return duplicate(existing_case_id),
        ServiceError::Throttled { message, .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            message.to_string(),
        ),
        ServiceError::Limit(m) => (StatusCode::CONFLICT, "limit_reached", m.to_string()),
        ServiceError::TooLarge(m) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            m.to_string(),
        ),
        ServiceError::UnsupportedMediaType(m) => {
            let status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
            (status, "unsupported_media_type", m.to_string())
        }
        ServiceError::Unavailable(reason) => {
            tracing::warn!(error = %reason, "service unavailable");
            let m = "系统繁忙，请稍后再试";
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable", m.into())
        }
        ServiceError::Internal(reason) => {
            tracing::error!(error = %reason, "internal error");
            let m = "系统内部错误，请稍后再试";
            (StatusCode::INTERNAL_SERVER_ERROR, "internal", m.into())
        }
    };
    let mut r = error_response(status, code, &message, details);
    let retry_after = match e {
        ServiceError::Throttled { retry_after, .. } => Some(retry_after.to_string()),
        ServiceError::Unavailable(_) => Some("1".to_string()),
        _ => None,
    };
    if let Some(after) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, after.parse().expect("header"));
    }
    r
}

/// `409 duplicate_newborn`, with the existing case's id when the caller may know it.
fn duplicate(existing_case_id: &Option<String>) -> Response<Bytes> {
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
    /// The claims of the bearer token this server verifies itself (HS256).
    fn bearer_claims(&self, headers: &HeaderMap) -> Result<Claims, AuthError> {
        let Auth::Hs256 {
            secret,
            issuer,
            audience,
        } = &self.auth
        else {
            return Err(AuthError::Missing);
        };
        let h = headers
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
        )
    }

    /// Who a request's token says is calling (its subject), when this server verifies
    /// tokens itself and the token is good: the local server asks before it reads a
    /// request's body, so that nobody unknown holds a connection with a slow one.
    /// (A genuine token whose claims the API then refuses, a scope missing say, still
    /// names its caller: the API answers it with its own 403.)
    pub fn caller(&self, headers: &HeaderMap) -> Option<String> {
        self.bearer_claims(headers).ok().map(|c| c.sub)
    }

    fn authenticate(&self, parts: &http::request::Parts) -> Result<Actor, AuthError> {
        let claims = match &self.auth {
            Auth::Upstream => parts
                .extensions
                .get::<Claims>()
                .cloned()
                .ok_or(AuthError::Missing)?,
            Auth::Hs256 { .. } => self.bearer_claims(&parts.headers)?,
        };
        let mut actor = auth::actor(&claims)?;
        // A window's site claim may name the site by id or by name: keep its id.
        if let Some(site) = actor
            .scope
            .site
            .as_deref()
            .and_then(|s| self.app.sites.find(s))
        {
            actor.scope.site = Some(site.site_id.clone());
        }
        Ok(actor)
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
        let (parts, body) = req.into_parts();
        let (route, resp) = match route::find(parts.method.as_str(), parts.uri.path()) {
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
            Ok((def, params)) => {
                let resp = match self.dispatch(def, params, &parts, &body, request_id).await {
                    Ok(r) => r,
                    Err(e) => {
                        // "Not yours" and "none", and the duplicate refusal, answer no
                        // sooner than the floor: how long the store took to find (and
                        // read) someone else's case is not told.
                        if matches!(e, ServiceError::NotFound | ServiceError::Duplicate { .. }) {
                            tokio::time::sleep_until((started + REFUSAL_FLOOR).into()).await;
                        }
                        service_error(e)
                    }
                };
                (def.pattern, resp)
            }
        };
        tracing::info!(
            method = %parts.method,
            route,
            status = resp.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "request",
        );
        resp
    }

    /// The answer's response, once its access to personal data is on record.
    async fn recorded(
        &self,
        answer: Answer,
        actor: &Actor,
        def: &RouteDef,
        request_id: &str,
    ) -> Response<Bytes> {
        let (Some(access), true) = (answer.access, answer.response.status().is_success()) else {
            return answer.response;
        };
        let operation = format!("{} {}", def.method, def.pattern);
        let now = self.app.clock.now();
        let mut event = AuditEvent::new(now, request_id, actor, access.action, &operation);
        event.cases = access.cases;
        event.fields = access.fields;
        event.reason = access.reason;
        event.status = answer.response.status().as_u16();
        self.record_audit(event, answer.response).await
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

    /// Serve a routed request: the caller proven (unless the route is public) and allowed
    /// by the route's table entry, then its handler, behind the `Idempotency-Key` replay
    /// store for a POST that carries one.
    async fn dispatch(
        &self,
        def: &'static RouteDef,
        params: call::Params,
        parts: &http::request::Parts,
        body: &[u8],
        request_id: &str,
    ) -> Result<Response<Bytes>, ServiceError> {
        let mut call = Call {
            api: self,
            parts,
            body,
            params,
            actor: None,
        };
        if def.who == Who::Public {
            return Ok((def.handler)(call).await?.response);
        }
        let actor = self.authenticate(parts).map_err(|e| match e {
            AuthError::ScopeRequired(message) => ServiceError::ForbiddenCode {
                code: "scope_required",
                message: message.into(),
            },
            e => ServiceError::Unauthorized(e.to_string()),
        })?;
        match def.who {
            Who::Role(role, refusal) if actor.role != role => {
                return Err(ServiceError::Forbidden(refusal.into()))
            }
            Who::Dept(dept, refusal)
                if actor.role != domain::Role::DeptOfficer || actor.dept != Some(dept) =>
            {
                return Err(ServiceError::Forbidden(refusal.into()))
            }
            _ => {}
        }
        call.actor = Some(actor.clone());
        let answer = match parts.headers.get("idempotency-key") {
            Some(key) if parts.method == http::Method::POST && !def.own_key => {
                self.once(key, call, def).await?
            }
            _ => (def.handler)(call).await?,
        };
        Ok(self.recorded(answer, &actor, def, request_id).await)
    }

    /// A POST with an `Idempotency-Key`: the first answer is kept and replayed for the
    /// same request; the key with another request is a conflict.
    async fn once(
        &self,
        key: &http::HeaderValue,
        call: Call<'_>,
        def: &RouteDef,
    ) -> Result<Answer, ServiceError> {
        let key = key
            .to_str()
            .ok()
            .filter(|k| (1..=128).contains(&k.len()) && !k.chars().any(char::is_control))
            .ok_or_else(|| {
                ServiceError::Invalid(vec![domain::Problem::new(
                    "Idempotency-Key",
                    "format",
                    "幂等键应为 1 到 128 个可见字符",
                )])
            })?;
        let app = &self.app;
        let digest = |s: &[u8]| application::service::sha256_hex(s);
        let actor = call.actor();
        let scope = digest(format!("{}:{}", actor.role.as_str(), actor.sub).as_bytes());
        let key = digest(key.as_bytes());
        let mut request = format!("{} {}\n", call.parts.method, call.parts.uri.path()).into_bytes();
        request.extend_from_slice(call.body);
        let hash = digest(&request);
        let now = app.clock.now();
        match app.answers.remember(&scope, &key, &hash, now).await? {
            ports::Remembered::Replay(stored) => return Ok(replayed(stored)),
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
        let result = (def.handler)(call).await;
        let kept = match &result {
            Ok(a) if a.response.status().is_success() => {
                let response = ports::StoredResponse {
                    status: a.response.status().as_u16(),
                    body: String::from_utf8_lossy(a.response.body()).into_owned(),
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
}

/// A kept answer, replayed (nothing is read or written again, so nothing is recorded).
fn replayed(stored: ports::StoredResponse) -> Answer {
    let mut response = Response::builder()
        .status(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK))
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header("x-content-type-options", "nosniff")
        .body(Bytes::from(stored.body))
        .expect("response");
    response
        .headers_mut()
        .insert("idempotent-replayed", "true".parse().expect("header"));
    Answer {
        response,
        access: None,
    }
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
        let mut routed: Vec<(String, String)> = route::ROUTES
            .iter()
            .map(|r| (r.method.to_string(), r.pattern.to_string()))
            .collect();
        documented.sort();
        routed.sort();
        assert_eq!(documented, routed);
    }
}
