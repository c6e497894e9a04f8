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
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify, Semaphore};

const MAX_UPLOAD: usize = application::service::MAX_MATERIAL_BYTES as usize;

mod transfers;
use transfers::{check_upload, download, upload, Ticket};

/// How the server protects itself from clients that hold connections open or send slowly.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Open connections at most; beyond it the longest-idle connection is closed to make
    /// room, or the new one is refused when every connection is busy.
    pub max_connections: usize,
    /// A connection must present a complete request head within this time of opening or
    /// of its previous response (slow headers and idle keep-alive alike).
    pub header_timeout: Duration,
    /// A JSON body must arrive within this time.
    pub body_timeout: Duration,
    /// Upload bodies read at the same time, at most (bounds memory: each is at most the
    /// signed size, 10 MiB).
    pub concurrent_uploads: usize,
}

impl Limits {
    /// From the environment (`ONETHING_MAX_CONNECTIONS`, `ONETHING_HEADER_TIMEOUT_MS`,
    /// `ONETHING_BODY_TIMEOUT_MS`), with the connection cap kept below the process's
    /// descriptor limit so that the database and the logs always have descriptors left.
    pub fn from_env() -> Limits {
        let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
        let fds = raise_nofile_limit();
        let room = fds.saturating_sub(FD_RESERVE).max(8) as usize;
        Limits {
            max_connections: env("ONETHING_MAX_CONNECTIONS")
                .map(|n| n as usize)
                .unwrap_or(4096)
                .clamp(1, room),
            header_timeout: Duration::from_millis(
                env("ONETHING_HEADER_TIMEOUT_MS").unwrap_or(10_000),
            ),
            body_timeout: Duration::from_millis(env("ONETHING_BODY_TIMEOUT_MS").unwrap_or(20_000)),
            concurrent_uploads: 8,
        }
    }
}

/// Descriptors kept back from connections for the database, blobs, logs and the listener.
const FD_RESERVE: u64 = 48;

/// Raise the soft descriptor limit to the hard one (as servers do) and return it.
fn raise_nofile_limit() -> u64 {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write/read the struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) != 0 {
            return 1024;
        }
        if rl.rlim_cur < rl.rlim_max {
            let want = libc::rlimit {
                rlim_cur: rl.rlim_max,
                rlim_max: rl.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                rl.rlim_cur = rl.rlim_max;
            }
        }
    }
    rl.rlim_cur
}

/// One open connection, as the accept loop sees it.
struct Conn {
    /// Requests being handled on it now.
    busy: AtomicUsize,
    /// Milliseconds (since the server started) when it last became idle.
    idle_since: AtomicU64,
    /// Close it now (it was chosen to make room).
    evict: Notify,
}

/// The open connections.
struct Conns {
    epoch: Instant,
    next: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
}

impl Conns {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Make room for one more connection under `max`: close the longest-idle one when
    /// full. False when every connection is busy.
    fn make_room(&self, max: usize) -> bool {
        let mut open = self.open.lock().expect("connections");
        if open.len() < max {
            return true;
        }
        let oldest = open
            .iter()
            .filter(|(_, c)| c.busy.load(Ordering::SeqCst) == 0)
            .min_by_key(|(_, c)| c.idle_since.load(Ordering::SeqCst))
            .map(|(id, _)| *id);
        match oldest.and_then(|id| open.remove(&id)) {
            Some(c) => {
                c.evict.notify_one();
                true
            }
            None => false,
        }
    }

    fn add(&self) -> (u64, Arc<Conn>) {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let c = Arc::new(Conn {
            busy: AtomicUsize::new(0),
            idle_since: AtomicU64::new(self.now_ms()),
            evict: Notify::new(),
        });
        self.open.lock().expect("connections").insert(id, c.clone());
        (id, c)
    }

    fn remove(&self, id: u64) {
        self.open.lock().expect("connections").remove(&id);
    }
}

/// Warn at most once per interval, counting what was held back.
struct RateLimitedWarning {
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimitedWarning {
    fn warn(&mut self, what: &str, error: &dyn std::fmt::Display) {
        let due = self
            .last
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(10));
        if due {
            tracing::warn!(error = %error, suppressed = self.suppressed, "{what}");
            self.last = Some(Instant::now());
            self.suppressed = 0;
        } else {
            self.suppressed += 1;
        }
    }
}

pub async fn serve(
    listener: tokio::net::TcpListener,
    api: Arc<api::Api>,
    blobs: Option<Arc<SqliteBlobs>>,
    limits: Limits,
    cors: Arc<Vec<String>>,
    front: Arc<Front>,
    mut stop: watch::Receiver<bool>,
) {
    let conns = Arc::new(Conns {
        epoch: Instant::now(),
        next: AtomicU64::new(0),
        open: Mutex::new(HashMap::new()),
    });
    let shared = Arc::new(Shared {
        api,
        blobs,
        uploads: Semaphore::new(limits.concurrent_uploads),
        senders: Senders::default(),
        limits,
        cors,
        front,
    });
    let mut accept_warning = RateLimitedWarning {
        last: None,
        suppressed: 0,
    };
    let mut full_warning = RateLimitedWarning {
        last: None,
        suppressed: 0,
    };
    let mut backoff = Duration::ZERO;
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => {
                    backoff = Duration::ZERO;
                    x
                }
                Err(e) => {
                    // Out of descriptors or memory: wait (the pending connection stays in
                    // the backlog) instead of spinning, and say so once in a while.
                    accept_warning.warn("accept failed; backing off", &e);
                    backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => return,
                    }
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        if !conns.make_room(limits.max_connections) {
            full_warning.warn(
                "connection limit reached and every connection is busy; refusing one",
                &limits.max_connections,
            );
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let (id, conn_state) = conns.add();
        tokio::spawn(connection(
            shared.clone(),
            stream,
            (id, conn_state, conns.clone()),
            stop.clone(),
        ));
    }
}

/// What every connection's requests share.
struct Shared {
    api: Arc<api::Api>,
    blobs: Option<Arc<SqliteBlobs>>,
    uploads: Semaphore,
    senders: Senders,
    limits: Limits,
    cors: Arc<Vec<String>>,
    front: Arc<Front>,
}

/// One connection: its requests served one after another, until it ends, idles past the
/// header timeout, is evicted to make room, or the server stops.
async fn connection(
    shared: Arc<Shared>,
    stream: tokio::net::TcpStream,
    (id, conn_state, conns): (u64, Arc<Conn>, Arc<Conns>),
    mut stop: watch::Receiver<bool>,
) {
    let limits = shared.limits;
    let svc = {
        let (state, conns) = (conn_state.clone(), conns.clone());
        service_fn(move |req: Request<Incoming>| {
            let shared = shared.clone();
            let (state, conns) = (state.clone(), conns.clone());
            async move {
                state.busy.fetch_add(1, Ordering::SeqCst);
                let origin = allowed_origin(&shared.cors, &req);
                let r = if req.method() == Method::OPTIONS {
                    preflight(origin.as_deref())
                } else {
                    let mut r = route(
                        shared.api.clone(),
                        shared.blobs.clone(),
                        (&shared.uploads, &shared.senders),
                        shared.limits,
                        &shared.front,
                        req,
                    )
                    .await;
                    add_cors(&mut r, origin.as_deref());
                    r
                };
                state.idle_since.store(conns.now_ms(), Ordering::SeqCst);
                state.busy.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, std::convert::Infallible>(r.map(Full::new))
            }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .max_buf_size(64 * 1024)
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    let idle_too_long = async {
        // Between requests (and while a request head trickles in) a connection may stay
        // at most `header_timeout`.
        let tick = (limits.header_timeout / 4).max(Duration::from_millis(50));
        loop {
            tokio::time::sleep(tick).await;
            let idle_for = conns
                .now_ms()
                .saturating_sub(conn_state.idle_since.load(Ordering::SeqCst));
            if conn_state.busy.load(Ordering::SeqCst) == 0
                && idle_for >= limits.header_timeout.as_millis() as u64
            {
                return;
            }
        }
    };
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = idle_too_long => {}
        _ = conn_state.evict.notified() => {}
        _ = stop.changed() => conn.as_mut().graceful_shutdown(),
    }
    conns.remove(id);
}

/// The web pages (`onething-web`) and their development sign-in.
pub struct Front {
    /// `POST /dev/token` signs a token of any role (`serve --dev-login`).
    pub dev_login: bool,
    /// The address the server is bound to: `/dev/token` answers only requests whose
    /// `Host` names it (or `localhost` on its port), so a page on another name that
    /// resolves here (DNS rebinding) gets nothing.
    pub bound: std::net::SocketAddr,
    /// How the pages fit a portal (`serve --portal-config FILE`); None: the strict policy.
    pub portal: Option<web::Portal>,
}

impl Front {
    fn host_is_bound(&self, parts: &http::request::Parts) -> bool {
        let host = parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        host == self.bound.to_string() || host == format!("localhost:{}", self.bound.port())
    }
}

impl Front {
    /// A page, a script, a stylesheet, or `config.json`; None for anything else.
    fn page(&self, req: &Request<Incoming>) -> Option<Response<Bytes>> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return None;
        }
        let path = req.uri().path();
        let (content_type, body) = if path == "/config.json" {
            let p = self.portal.clone().unwrap_or_default();
            let cfg = json!({"api_base": "", "dev_login": self.dev_login, "oidc": p.oidc,
                             "prefill": p.prefill, "payment_url": p.payment_url});
            (
                "application/json",
                Bytes::from(serde_json::to_vec(&cfg).expect("json")),
            )
        } else {
            let a = web::asset(path)?;
            (a.content_type, Bytes::from_static(a.body))
        };
        let r = Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CACHE_CONTROL, "no-cache")
            .header(
                header::CONTENT_SECURITY_POLICY,
                match &self.portal {
                    Some(p) => p.content_security_policy(),
                    None => web::CONTENT_SECURITY_POLICY.to_string(),
                },
            )
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header(header::REFERRER_POLICY, "no-referrer")
            .header(header::X_FRAME_OPTIONS, "DENY")
            .body(if req.method() == Method::HEAD {
                Bytes::new()
            } else {
                body
            })
            .expect("response");
        Some(r)
    }

    /// `POST /dev/token {"role", "sub", "dept"?, "region"?, "hospital"?, "site"?}` →
    /// `{"token"}`: what `onething token` prints, for the pages' development sign-in.
    fn dev_token(
        &self,
        api: &api::Api,
        parts: &http::request::Parts,
        body: &Bytes,
    ) -> Response<Bytes> {
        #[derive(serde::Deserialize)]
        struct Ask {
            role: String,
            sub: String,
            dept: Option<String>,
            region: Option<String>,
            hospital: Option<String>,
            site: Option<String>,
        }
        let invalid = |msg: &str| {
            api::error_response(StatusCode::BAD_REQUEST, "invalid_request", msg, vec![])
        };
        if parts.method != Method::POST {
            return refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "请使用 POST",
            );
        }
        let Ok(ask) = serde_json::from_slice::<Ask>(body) else {
            return invalid("请选择角色并填写用户标识");
        };
        let api::auth::Auth::Hs256 {
            secret,
            issuer,
            audience,
        } = &api.auth
        else {
            return refuse(StatusCode::NOT_FOUND, "not_found", "未找到该内容");
        };
        let nonempty = |v: Option<String>| v.filter(|d| !d.is_empty());
        let asked = crate::TokenAsk {
            role: ask.role,
            dept: nonempty(ask.dept),
            sub: ask.sub,
            scope: domain::case::Scope {
                region: nonempty(ask.region),
                hospital: nonempty(ask.hospital),
                site: nonempty(ask.site),
            },
            ttl: 8 * 3600,
            iss: issuer.clone(),
            aud: audience.clone(),
        };
        let token = match crate::sign_token(secret, asked) {
            Ok(t) => t,
            Err(crate::TokenRefused::NoDepartment) => return invalid("工作人员请选择所在部门"),
            Err(crate::TokenRefused::NoSubject) => {
                return invalid("请填写用户标识（家长填写本人公民身份号码）")
            }
            Err(e) => {
                tracing::debug!(error = ?e, "development sign-in refused");
                return invalid("所选角色、部门或地区不正确");
            }
        };
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Bytes::from(
                serde_json::to_vec(&json!({ "token": token })).expect("json"),
            ))
            .expect("response")
    }
}

/// The request's `Origin` when it is one of the configured portals.
fn allowed_origin(cors: &[String], req: &Request<Incoming>) -> Option<String> {
    let origin = req.headers().get(header::ORIGIN)?.to_str().ok()?;
    cors.iter().any(|o| o == origin).then(|| origin.to_string())
}

/// A CORS preflight: answered without authentication for configured origins only.
fn preflight(origin: Option<&str>) -> Response<Bytes> {
    let Some(origin) = origin else {
        return api::error_response(
            StatusCode::FORBIDDEN,
            "forbidden",
            "该来源不允许跨域访问",
            vec![],
        );
    };
    let mut r = Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            "GET, POST, PUT, DELETE, OPTIONS",
        )
        .header(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "authorization, content-type, idempotency-key, x-request-id",
        )
        .header(header::ACCESS_CONTROL_MAX_AGE, "600")
        .body(Bytes::new())
        .expect("response");
    add_cors(&mut r, Some(origin));
    r
}

fn add_cors(r: &mut Response<Bytes>, origin: Option<&str>) {
    let h = r.headers_mut();
    h.append(header::VARY, http::HeaderValue::from_static("origin"));
    if let Some(v) = origin.and_then(|o| http::HeaderValue::from_str(o).ok()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            http::HeaderValue::from_static("x-request-id, retry-after, location"),
        );
    }
}

fn busy() -> Response<Bytes> {
    let mut r = api::error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "系统繁忙，请稍后再试",
        vec![],
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, http::HeaderValue::from_static("5"));
    r
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
    (uploads, senders): (&Semaphore, &Senders),
    limits: Limits,
    front: &Front,
    req: Request<Incoming>,
) -> Response<Bytes> {
    if let Some(r) = front.page(&req) {
        return r;
    }
    if req.uri().path().starts_with("/downloads/") {
        return match &blobs {
            Some(b) => download(&api, b, &req).await,
            None => api::error_response(StatusCode::NOT_FOUND, "not_found", "未找到该内容", vec![]),
        };
    }
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
    if declared_length(&req).is_some_and(|n| n > limit) {
        return too_large();
    }
    let sending = match admit_sender(&api, senders, upload_ticket.as_ref(), &req) {
        Ok(s) => s,
        Err(refused) => return *refused,
    };
    // Uploads wait for one of a few slots (memory stays bounded), and every body must
    // arrive in time: a JSON body within `body_timeout`, an upload at no less than
    // 16 KiB/s on top of that.
    let _slot = match &upload_ticket {
        Some(_) => match tokio::time::timeout(limits.body_timeout, uploads.acquire()).await {
            Ok(Ok(p)) => Some(p),
            _ => return busy(),
        },
        None => None,
    };
    let deadline = limits.body_timeout + Duration::from_secs(limit as u64 / (16 * 1024));
    let (parts, body) = req.into_parts();
    let bytes = match read_body(body, limit, deadline).await {
        Ok(b) => b,
        Err(refused) => return refused,
    };
    // The sender's place is for sending: handling the request takes none.
    drop(sending);
    if let (Some(t), Some(b)) = (upload_ticket, blobs) {
        return upload(&api, &b, t, parts, bytes).await;
    }
    if parts.uri.path() == "/dev/token" && front.dev_login {
        if !front.host_is_bound(&parts) {
            return refuse(
                StatusCode::FORBIDDEN,
                "forbidden",
                "开发登录只接受以本机地址访问的请求",
            );
        }
        return front.dev_token(&api, &parts, &bytes);
    }
    api.handle(Request::from_parts(parts, bytes)).await
}

/// Who sends a body is known before a byte of it is read: an upload by its signed URL
/// (the case's guardian), anything else by a good token (the development sign-in aside),
/// else 401 at once. Each sender has a few bodies in flight at most, so that neither
/// strangers nor one caller hold the server's connections with slow bodies.
fn admit_sender<'s>(
    api: &api::Api,
    senders: &'s Senders,
    upload: Option<&Ticket>,
    req: &Request<Incoming>,
) -> Result<Option<Sending<'s>>, Box<Response<Bytes>>> {
    let (sender, most) = match upload {
        Some(t) => (format!("upload:{}", t.owner), UPLOADS_PER_GUARDIAN),
        None if carries_body(req) && req.uri().path() != "/dev/token" => {
            match api.caller(req.headers()) {
                Some(sub) => (format!("caller:{sub}"), BODIES_PER_CALLER),
                None => {
                    return Err(Box::new(refuse(
                        StatusCode::UNAUTHORIZED,
                        "unauthorized",
                        "请先登录",
                    )))
                }
            }
        }
        None => return Ok(None),
    };
    match senders.take(&sender, most) {
        Some(g) => Ok(Some(g)),
        None => {
            let mut r = refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "同时发送的请求过多，请稍后再试",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, http::HeaderValue::from_static("5"));
            Err(Box::new(r))
        }
    }
}

/// A request's body, at most `limit` bytes, arrived before `deadline`.
async fn read_body(
    body: Incoming,
    limit: usize,
    deadline: Duration,
) -> Result<Bytes, Response<Bytes>> {
    let collected = match tokio::time::timeout(deadline, Limited::new(body, limit).collect()).await
    {
        Ok(r) => r,
        Err(_) => {
            return Err(refuse(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "请求内容发送超时，请重试",
            ))
        }
    };
    match collected {
        Ok(b) => Ok(b.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_large())
        }
        Err(_) => Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "无法读取请求内容",
        )),
    }
}

/// Uploads one guardian may send at once (of the server's `concurrent_uploads`).
const UPLOADS_PER_GUARDIAN: usize = 2;
/// Request bodies one caller may send at once.
const BODIES_PER_CALLER: usize = 4;

/// The body's length as the request declares it.
fn declared_length(req: &Request<Incoming>) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

/// Whether a request comes with a body to read.
fn carries_body(req: &Request<Incoming>) -> bool {
    req.headers().contains_key(header::TRANSFER_ENCODING)
        || declared_length(req).is_some_and(|n| n > 0)
}

/// The bodies each sender has in flight.
#[derive(Default)]
pub(crate) struct Senders(Mutex<HashMap<String, usize>>);

/// One body in flight, given back when dropped.
pub(crate) struct Sending<'a> {
    senders: &'a Senders,
    key: String,
}

impl Senders {
    /// A place for one more body of `key`, if it has fewer than `most` in flight.
    fn take(&self, key: &str, most: usize) -> Option<Sending<'_>> {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(key.to_string()).or_insert(0);
        if *n >= most {
            return None;
        }
        *n += 1;
        Some(Sending {
            senders: self,
            key: key.to_string(),
        })
    }
}

impl Drop for Sending<'_> {
    fn drop(&mut self) {
        let mut m = self.senders.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = m.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.key);
            }
        }
    }
}

fn refuse(status: StatusCode, code: &str, msg: &str) -> Response<Bytes> {
    api::error_response(status, code, msg, vec![])
}
