//! The local runtime: the same functions as in the cloud, hosted on one machine.
//!
//! ```text
//!  HTTP (hyper) ──> api ──> CaseStore ──(outbox, same transaction)──> queues
//!                                              │
//!        pollers (like Lambda event source mappings, one per queue)
//!          accept → certify-birth → register-household → enrol-insurance
//!          → issue-card → unify-issuance;  notify;  archive
//!        sla-monitor every `sla_interval`
//! ```
//! Storage is embedded (SQLite WAL + files under the data directory).

pub mod pollers;
pub mod server;

use application::App;
use application::FixtureSharing;
use domain::flow::Dept;
use domain::{Calendar, Settings};
use embedded::{Durability, Embedded};
use ports::{Clock, Queue};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Where the system's state lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite and files under the data directory.
    Embedded,
    /// DynamoDB, SQS and S3 of a deployed CloudFormation stack (named by its outputs),
    /// reached through the standard AWS environment (`AWS_ENDPOINT_URL`, region, credentials).
    Aws { stack: String },
}

/// Everything `onething serve` can be told.
#[derive(Clone)]
pub struct Config {
    pub backend: Backend,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// A data-sharing fixture file; None uses the built-in sample.
    pub registry: Option<PathBuf>,
    /// The operator's sites (`serve --sites FILE`); None uses the built-in sample.
    pub sites: Option<PathBuf>,
    pub manual: HashSet<Dept>,
    pub durability: Durability,
    /// Extra calendar years (same format as the built-in data).
    pub calendar: Option<PathBuf>,
    /// Operator settings (JSON); None uses the defaults.
    pub settings: Option<PathBuf>,
    pub workers_per_queue: usize,
    pub max_receive: u32,
    pub visibility: Duration,
    /// How long the render queue's poller gathers a batch, as its event source mapping
    /// does on AWS (10 s there): a case's rendering requests then come in one batch and
    /// are handled once.
    pub render_window: Duration,
    pub sla_interval: Duration,
    /// The SLA monitor re-drives work that has not moved for this long.
    pub redrive_after: Duration,
    /// When set, tokens must carry this `iss` (as the API Gateway authorizer checks).
    pub jwt_issuer: Option<String>,
    /// When set, tokens must carry this `aud`.
    pub jwt_audience: Option<String>,
    pub clock: Arc<dyn Clock>,
    /// Browser origins allowed by CORS (none unless configured).
    pub cors_origins: Vec<String>,
    /// The font certificates' PDFs are set in (CJK and Latin); None looks for Debian's
    /// fonts-wqy-microhei or fonts-noto-cjk.
    pub cjk_font: Option<PathBuf>,
    /// How the pages fit a portal (`serve --portal-config FILE`).
    pub portal: Option<web::Portal>,
    /// A renderer given by the program that embeds the runtime, in place of the font
    /// (tests: one that holds its pages back).
    pub renderer: Option<Arc<dyn ports::CertRenderer>>,
    /// The web pages' development sign-in (`serve --dev-login`): `POST /dev/token` signs
    /// a token of any role. Never on AWS.
    pub dev_login: bool,
}

impl Config {
    pub fn new(addr: SocketAddr, data_dir: PathBuf) -> Config {
        Config {
            backend: Backend::Embedded,
            addr,
            data_dir,
            registry: None,
            sites: None,
            cors_origins: vec![],
            cjk_font: None,
            renderer: None,
            portal: None,
            dev_login: false,
            manual: HashSet::new(),
            durability: Durability::Full,
            calendar: None,
            settings: None,
            workers_per_queue: 2,
            max_receive: 5,
            visibility: Duration::from_secs(30),
            render_window: Duration::from_secs(2),
            sla_interval: Duration::from_secs(
                std::env::var("ONETHING_SLA_INTERVAL_SECS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(30),
            ),
            redrive_after: Duration::from_secs(
                std::env::var("ONETHING_REDRIVE_AFTER_SECS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(sla_monitor::STALE_AFTER_SECS as u64),
            ),
            jwt_issuer: std::env::var("ONETHING_JWT_ISSUER")
                .ok()
                .filter(|s| !s.is_empty()),
            jwt_audience: std::env::var("ONETHING_JWT_AUDIENCE")
                .ok()
                .filter(|s| !s.is_empty()),
            clock: Arc::new(ports::SystemClock),
        }
    }
}

/// What a token is asked for: by `onething token`, or by the web pages' development
/// sign-in (`serve --dev-login`).
pub struct TokenAsk {
    pub role: String,
    pub dept: Option<String>,
    pub sub: String,
    pub scope: domain::case::Scope,
    /// Seconds from now until it expires.
    pub ttl: i64,
    pub iss: Option<String>,
    pub aud: Option<String>,
}

/// Why a token was not signed.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenRefused {
    /// The lifetime is outside 1 s ..= [`api::auth::MAX_TOKEN_LIFETIME_SECS`].
    Lifetime,
    /// A window or department officer without a department.
    NoDepartment,
    /// No subject.
    NoSubject,
    /// Claims `serve` would refuse (the reason, for the operator).
    Invalid(String),
}

/// Sign a token that `serve` with `secret` accepts, refusing here what it would refuse.
pub fn sign_token(secret: &[u8], ask: TokenAsk) -> Result<String, TokenRefused> {
    if !(1..=api::auth::MAX_TOKEN_LIFETIME_SECS).contains(&ask.ttl) {
        return Err(TokenRefused::Lifetime);
    }
    let officer = matches!(ask.role.as_str(), "window_officer" | "dept_officer");
    if officer && ask.dept.is_none() {
        return Err(TokenRefused::NoDepartment);
    }
    if ask.sub.trim().is_empty() {
        return Err(TokenRefused::NoSubject);
    }
    let now = chrono::Utc::now().timestamp();
    let claims = api::auth::Claims {
        sub: ask.sub.trim().to_string(),
        role: ask.role,
        dept: ask.dept,
        exp: now + ask.ttl,
        iat: Some(now),
        iss: ask.iss,
        aud: ask.aud,
        scope: ask.scope,
        ..Default::default()
    };
    api::auth::actor(&claims).map_err(|e| TokenRefused::Invalid(e.to_string()))?;
    Ok(api::auth::sign(secret, &claims))
}

/// The shortest secret accepted (HS256 keys and upload-URL keys).
pub const MIN_SECRET_BYTES: usize = 32;

/// The HS256 secret: `ONETHING_JWT_SECRET` (at least 32 bytes), or a random one kept in
/// the data directory.
pub fn jwt_secret(data_dir: &Path) -> std::io::Result<Vec<u8>> {
    if let Ok(s) = std::env::var("ONETHING_JWT_SECRET") {
        if !s.is_empty() {
            if s.len() < MIN_SECRET_BYTES {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "ONETHING_JWT_SECRET is {} bytes; at least {MIN_SECRET_BYTES} are needed \
                         (e.g. `openssl rand -hex 32`)",
                        s.len()
                    ),
                ));
            }
            return Ok(s.into_bytes());
        }
    }
    secret_file(data_dir, "jwt-secret")
}

fn refused(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::PermissionDenied, msg)
}

/// Files only their owner reads: from here on every file the process creates is 0600 and
/// every directory 0700 (umask 077); the data directory must be a real directory owned by
/// this user with no group or world access, and so must everything in it. Refuses to go on
/// otherwise, naming what to fix.
pub fn secure_data_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // SAFETY: umask only sets the process's file mode creation mask.
        unsafe {
            libc::umask(0o077);
        }
        std::fs::create_dir_all(dir)?;
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        let check = |p: &Path, what: &str| -> std::io::Result<()> {
            let m = std::fs::symlink_metadata(p)?;
            if m.file_type().is_symlink() {
                return Err(refused(format!(
                    "{what} {} is a symbolic link",
                    p.display()
                )));
            }
            if m.uid() != me {
                return Err(refused(format!(
                    "{what} {} belongs to another user (uid {})",
                    p.display(),
                    m.uid()
                )));
            }
            if m.permissions().mode() & 0o077 != 0 {
                return Err(refused(format!(
                    "{what} {} is readable or writable by others (mode {:o}): run \
                     `chmod -R go-rwx {}`",
                    p.display(),
                    m.permissions().mode() & 0o777,
                    p.display()
                )));
            }
            Ok(())
        };
        check(dir, "the data directory")?;
        for entry in std::fs::read_dir(dir)? {
            check(&entry?.path(), "the data file")?;
        }
    }
    Ok(())
}

/// A secret kept in the data directory: read without following a link; created (random,
/// 256 bits in hex) exclusively, 0600, never through a planted link.
fn secret_file(data_dir: &Path, name: &str) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    secure_data_dir(data_dir)?;
    let path = data_dir.join(name);
    if let Some(s) = read_secret(&path)? {
        return Ok(s);
    }
    let s = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut create = std::fs::OpenOptions::new();
    create.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        create.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    match create.open(&path) {
        Ok(mut f) => {
            f.write_all(s.as_bytes())?;
            f.sync_all()?;
            Ok(s.into_bytes())
        }
        // Another process created it first (or something was planted there): it must read
        // as a secret like any existing one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_secret(&path)?
            .ok_or_else(|| refused(format!("{} is not a usable secret", path.display()))),
        Err(e) => Err(e),
    }
}

/// An existing secret file, opened without following a link: None when there is none yet
/// (or it is empty); refused when it is a link or shorter than [`MIN_SECRET_BYTES`].
fn read_secret(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.custom_flags(libc::O_NOFOLLOW);
    }
    let mut s = String::new();
    match open.open(path) {
        Ok(mut f) => f.read_to_string(&mut s)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(refused(format!("{}: {e}", path.display()))),
    };
    match s.trim() {
        "" => Ok(None),
        t if t.len() < MIN_SECRET_BYTES => Err(refused(format!(
            "{} holds a secret shorter than {MIN_SECRET_BYTES} bytes",
            path.display()
        ))),
        t => Ok(Some(t.as_bytes().to_vec())),
    }
}

/// What both backends load the same way: the data-sharing fixture, the operator settings
/// and the calendar (warning about years whose holiday notice is missing).
fn load_inputs(cfg: &Config) -> Result<(Arc<FixtureSharing>, Calendar, Settings), String> {
    let registry = match &cfg.registry {
        Some(p) => {
            std::fs::read_to_string(p).map_err(|e| format!("registry {}: {e}", p.display()))?
        }
        None => application::sample_registry().to_string(),
    };
    let sharing = Arc::new(FixtureSharing::from_json(&registry)?);
    let settings: Settings = match &cfg.settings {
        Some(p) => serde_json::from_str(&std::fs::read_to_string(p).map_err(|e| e.to_string())?)
            .map_err(|e| format!("settings: {e}"))?,
        None => Settings::default(),
    };
    let mut calendar = Calendar::builtin(settings.unknown_year_policy);
    if let Some(p) = &cfg.calendar {
        calendar
            .extend_json(&std::fs::read_to_string(p).map_err(|e| e.to_string())?)
            .map_err(|e| format!("calendar {}: {e}", p.display()))?;
    }
    let today = cfg.clock.now().with_timezone(&domain::calendar::shanghai());
    use chrono::Datelike;
    for y in [today.year(), today.year() + 1] {
        if !calendar.is_known_year(y) {
            tracing::warn!(
                year = y,
                policy = ?calendar.policy(),
                "the holiday notice for this year is not in the calendar; deadlines use the operator's fallback. Add it with --calendar FILE"
            );
        }
    }
    Ok((sharing, calendar, settings))
}

/// The application with the operator's sites file, if one is configured.
pub fn with_operator_sites(app: App, cfg: &Config) -> Result<App, String> {
    match &cfg.sites {
        None => Ok(app),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|e| format!("sites {}: {e}", p.display()))?;
            let sites = domain::sites::Sites::from_json(&text)
                .map_err(|e| format!("sites {}: {e}", p.display()))?;
            Ok(app.with_sites(sites))
        }
    }
}

/// Build the application over the embedded adapters.
pub fn build(cfg: &Config) -> Result<(App, Embedded), String> {
    let upload_secret = secret_file(&cfg.data_dir, "upload-secret")
        .map_err(|e| format!("data dir {}: {e}", cfg.data_dir.display()))?;
    let e = Embedded::open(
        &cfg.data_dir,
        cfg.durability,
        cfg.max_receive,
        &upload_secret,
    )
    .map_err(|e| e.to_string())?;
    let (sharing, calendar, settings) = load_inputs(cfg)?;
    let app = with_operator_sites(embedded_app(&e, sharing, calendar, settings, cfg), cfg)?;
    Ok((app, e))
}

/// The application over the embedded adapters.
pub fn embedded_app(
    e: &Embedded,
    sharing: Arc<dyn ports::DataSharing>,
    calendar: Calendar,
    settings: Settings,
    cfg: &Config,
) -> App {
    App::new(
        e.store.clone(),
        e.queues.clone(),
        e.blobs.clone(),
        sharing,
        e.numbers.clone(),
        e.notifier.clone(),
        cfg.clock.clone(),
        calendar,
        settings,
        cfg.manual.clone(),
    )
    .with_appointments(e.appointments.clone())
    .with_catalogue(e.catalogue.clone())
}

/// The application over a deployed stack's adapters.
pub fn aws_app(
    a: &aws::Aws,
    sharing: Arc<dyn ports::DataSharing>,
    calendar: Calendar,
    settings: Settings,
    cfg: &Config,
) -> App {
    App::new(
        a.store.clone(),
        a.queues.clone(),
        a.blobs.clone(),
        sharing,
        a.numbers.clone(),
        a.notifier.clone(),
        cfg.clock.clone(),
        calendar,
        settings,
        cfg.manual.clone(),
    )
    .with_appointments(a.appointments.clone())
    .with_catalogue(a.catalogue.clone())
}

/// A running local runtime.
pub struct Running {
    pub addr: SocketAddr,
    pub app: App,
    /// The queues its pollers consume (and operators administer).
    pub queues: Arc<dyn Queue>,
    pub secret: Vec<u8>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stop the server and the pollers, and wait for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }

    /// Relay committed messages from a DynamoDB table's stream, as the `relay` function
    /// does on AWS (the AWS backend's commits send nothing themselves).
    pub fn relay_stream(&mut self, reader: aws::stream::StreamReader) {
        self.tasks.push(tokio::spawn(pollers::stream_relay(
            reader,
            self.app.queues.clone(),
            self.stop.subscribe(),
        )));
    }

    /// Stop without waiting for in-flight work (as close to a crash as a test can get
    /// in-process: messages in flight stay unacknowledged).
    pub fn abort(self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The resources of a deployed stack, from its CloudFormation outputs.
pub async fn stack_resources(
    config: &aws_config::SdkConfig,
    stack: &str,
) -> Result<aws::Resources, String> {
    let cfn = aws_sdk_cloudformation::Client::new(config);
    let r = cfn
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| format!("stack {stack}: {e:?}"))?;
    let st = r
        .stacks()
        .first()
        .ok_or_else(|| format!("no stack named {stack}"))?;
    let outputs: std::collections::HashMap<String, String> = st
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect();
    aws::Resources::from_outputs(&outputs)
}

/// Build the application over a deployed stack's DynamoDB, SQS and S3.
pub async fn build_aws(cfg: &Config, stack: &str) -> Result<(App, aws::Aws), String> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let resources = stack_resources(&config, stack).await?;
    let adapters = aws::Aws::new(&config, &resources, cfg.max_receive);
    let (sharing, calendar, settings) = load_inputs(cfg)?;
    let mut app = with_operator_sites(aws_app(&adapters, sharing, calendar, settings, cfg), cfg)?;
    // The stack's certificate key in KMS, as the Lambda functions sign with it.
    if let Some(key) = &resources.cert_key {
        app = app.with_signer(Arc::new(aws::KmsSigner::new(
            &config,
            key,
            resources.retired_cert_keys.clone(),
        )));
    }
    Ok((app, adapters))
}

/// Test runs only: `ONETHING_FAULTS` wraps the store and queues with injected faults
/// (see `faults`). Never set in production.
fn with_faults(mut app: App, queues: Arc<dyn Queue>) -> Result<(App, Arc<dyn Queue>), String> {
    if let Ok(spec) = std::env::var("ONETHING_FAULTS") {
        if !spec.trim().is_empty() {
            let faults = faults::Faults::parse(&spec)?;
            let seed = std::env::var("ONETHING_FAULT_SEED")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| std::process::id() as u64);
            tracing::warn!(?faults, seed, "FAULT INJECTION IS ON (test run)");
            let queues = faults::inject(&mut app, queues, faults, seed);
            return Ok((app, queues));
        }
    }
    Ok((app, queues))
}

/// Start the API, the pollers and the scheduled jobs.
pub async fn start(cfg: Config) -> Result<Running, String> {
    secure_data_dir(&cfg.data_dir)
        .map_err(|e| format!("data dir {}: {e}", cfg.data_dir.display()))?;
    match cfg.backend.clone() {
        Backend::Embedded => start_embedded(cfg).await,
        Backend::Aws { stack } => {
            let (app, adapters) = build_aws(&cfg, &stack).await?;
            // A stack without a certificate key (older templates): the data directory's.
            let app = match app.signer {
                Some(_) => app,
                None => with_local_signer(app, &cfg)?,
            };
            let secret = jwt_secret(&cfg.data_dir).map_err(|e| e.to_string())?;
            let (app, queues) = with_faults(app, adapters.queues.clone())?;
            let audit = adapters.audit.clone();
            let mut running = launch(cfg, app, queues, secret, None, audit).await?;
            running.relay_stream(adapters.stream_reader());
            Ok(running)
        }
    }
}

/// The running system signs certificates with a key in its data directory (made on the
/// first start; on AWS the stack's KMS key signs instead). Only `start` attaches it: the
/// operator commands (`dlq`, `audit`) make no key.
fn with_local_signer(app: App, cfg: &Config) -> Result<App, String> {
    let signer = embedded::LocalSigner::open(&cfg.data_dir).map_err(|e| e.to_string())?;
    Ok(app.with_signer(Arc::new(signer)))
}

/// Certificates' PDFs, set in the configured font or the first CJK font Debian's packages
/// put in the usual place, with QR codes pointing at this server. Without a font the
/// system runs and signs certificates, but their `document_url` is null (and says so).
fn with_documents(app: App, cfg: &Config, public_base: &str) -> Result<App, String> {
    if app.signer.is_none() {
        return Ok(app);
    }
    let renderer: Arc<dyn ports::CertRenderer> = match (&cfg.renderer, &cfg.cjk_font) {
        (Some(given), _) => given.clone(),
        (None, Some(path)) => Arc::new(
            documents::Renderer::from_file(path)
                .map_err(|e| format!("--cjk-font {}: {e}", path.display()))?,
        ),
        (None, None) => match documents::Renderer::find_default() {
            Some((r, path)) => {
                tracing::debug!(font = path, "certificate PDFs set in this font");
                Arc::new(r)
            }
            None => {
                tracing::warn!(
                    looked_in = ?documents::DEFAULT_FONT_PATHS,
                    "no CJK font: certificates are signed but have no PDF \
                     (install fonts-wqy-microhei, or pass --cjk-font FILE)"
                );
                return Ok(app);
            }
        },
    };
    let renderer = RenderThread::start(renderer)?;
    Ok(app.with_documents(Some(Arc::new(renderer)), public_base))
}

/// One page rendered at a time in this process, on a thread of its own at a lower CPU
/// priority: the API and the step workers share the machine's cores with it, and a case's
/// progress must not wait for PDFs (each page is about 10 ms of CPU). On AWS the render
/// function has its own.
struct RenderThread {
    pages: std::sync::mpsc::Sender<RenderJob>,
}

type RenderJob = (
    domain::certificate::DocumentPage,
    std::sync::mpsc::SyncSender<Result<Vec<u8>, String>>,
);

impl RenderThread {
    fn start(inner: Arc<dyn ports::CertRenderer>) -> Result<RenderThread, String> {
        let (tx, rx) = std::sync::mpsc::channel::<RenderJob>();
        std::thread::Builder::new()
            .name("render".into())
            .spawn(move || {
                // Linux keeps a nice value per thread: this one yields to the others.
                // SAFETY: setpriority reads no memory of ours.
                unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
                for (page, reply) in rx {
                    let _ = reply.send(inner.render(&page));
                }
            })
            .map_err(|e| format!("the render thread: {e}"))?;
        Ok(RenderThread { pages: tx })
    }
}

impl ports::CertRenderer for RenderThread {
    fn render(&self, page: &domain::certificate::DocumentPage) -> Result<Vec<u8>, String> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.pages
            .send((page.clone(), reply))
            .map_err(|_| "the render thread has stopped".to_string())?;
        answer
            .recv()
            .map_err(|_| "the render thread has stopped".to_string())?
    }
}

async fn start_embedded(cfg: Config) -> Result<Running, String> {
    let (app, e) = build(&cfg)?;
    let app = with_local_signer(app, &cfg)?;
    let secret = jwt_secret(&cfg.data_dir).map_err(|e| e.to_string())?;
    // Nothing else consumes these queues: whatever was in flight when the last process
    // died is ours to redo now (handlers are idempotent).
    let released = e
        .queues
        .release_in_flight()
        .await
        .map_err(|e| e.to_string())?;
    if released > 0 {
        tracing::info!(
            released,
            "messages in flight at the last stop are visible again"
        );
    }
    let (app, queues) = with_faults(app, e.queues.clone())?;
    let audit = e.audit.clone();
    launch(cfg, app, queues, secret, Some(e.blobs.clone()), audit).await
}

/// Serve a ready-made application whose messages `queues` carries (the tests use this to
/// observe the adapters).
pub async fn start_app(
    cfg: Config,
    app: App,
    queues: Arc<dyn Queue>,
    secret: Vec<u8>,
) -> Result<Running, String> {
    // The audit trail beside the data directory's other files.
    std::fs::create_dir_all(&cfg.data_dir).map_err(|e| e.to_string())?;
    let audit = Arc::new(
        embedded::JsonlAudit::open(&cfg.data_dir.join(embedded::AUDIT_FILE))
            .map_err(|e| e.to_string())?,
    );
    launch(cfg, app, queues, secret, None, audit).await
}

/// The base of the URLs this server hands out (upload URLs): `ONETHING_PUBLIC_URL`, or
/// the bound address (loopback when bound to every interface).
fn public_base_url(addr: SocketAddr) -> String {
    if let Ok(u) = std::env::var("ONETHING_PUBLIC_URL") {
        if u.starts_with("http://") || u.starts_with("https://") {
            return u.trim_end_matches('/').to_string();
        }
    }
    let mut a = addr;
    if a.ip().is_unspecified() {
        a.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    format!("http://{a}")
}

async fn launch(
    cfg: Config,
    app: App,
    queues: Arc<dyn Queue>,
    secret: Vec<u8>,
    uploads: Option<Arc<embedded::SqliteBlobs>>,
    audit: Arc<dyn ports::AuditLog>,
) -> Result<Running, String> {
    // The handlers record their own lookups in the same trail as the API.
    let app = app.with_audit(audit.clone());
    let (stop, stop_rx) = watch::channel(false);
    let listener = tokio::net::TcpListener::bind(cfg.addr)
        .await
        .map_err(|e| format!("bind {}: {e}", cfg.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = with_documents(app, &cfg, &public_base_url(addr))?;
    let api = Arc::new(api::Api {
        app: app.clone(),
        auth: api::auth::Auth::Hs256 {
            secret: secret.clone(),
            issuer: cfg.jwt_issuer.clone(),
            audience: cfg.jwt_audience.clone(),
        },
        // Upload URLs name this server as it was started, never a client's Host header.
        public_base_url: Some(public_base_url(addr)),
        audit,
        edge: None,
    });
    let mut tasks = vec![tokio::spawn(server::serve(
        listener,
        api,
        uploads,
        server::Limits::from_env(),
        Arc::new(cfg.cors_origins.clone()),
        Arc::new(server::Front {
            dev_login: cfg.dev_login,
            bound: addr,
            portal: cfg.portal.clone(),
        }),
        stop_rx.clone(),
    ))];
    tasks.extend(pollers::spawn_all(&app, &queues, &cfg, stop_rx.clone()));
    tasks.push(tokio::spawn(pollers::sla_loop(
        app.clone(),
        cfg.sla_interval,
        cfg.redrive_after,
        stop_rx,
    )));
    tracing::info!(
        %addr,
        backend = ?cfg.backend,
        data_dir = %cfg.data_dir.display(),
        manual = ?cfg.manual,
        "onething is serving",
    );
    Ok(Running {
        addr,
        app,
        queues,
        secret,
        stop,
        tasks,
    })
}
