//! `onething`: the local runtime CLI (see `../shared/API.md` and the README).

use clap::{Args, Parser, Subcommand, ValueEnum};
use domain::flow::Dept;
use onething::{Config, Running};
use ports::Queue;
use std::net::SocketAddr;
use std::path::PathBuf;

mod bench;
mod catalogue;

#[derive(Parser)]
#[command(
    name = "onething",
    version,
    about = "Zhejiang birth one-thing (出生“一件事”): the local runtime"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the API, every step function and the scheduled jobs, on embedded storage.
    Serve(ServeArgs),
    /// Print a JWT that `serve` with the same data dir (or ONETHING_JWT_SECRET) accepts.
    Token(TokenArgs),
    /// Inspect and redrive dead-lettered messages.
    Dlq(DlqArgs),
    /// The audit trail of one case: who read or changed its personal data, when.
    Audit(AuditArgs),
    /// Drive automated cases through a fresh local runtime over HTTP and report figures.
    Bench(bench::Args),
    /// Check a certificate offline, with the published keys: a token, a file holding one,
    /// or the certificate's PDF (its seal and the certificate inside). A verify_url (the
    /// QR code) holds only a short check code, which is checked online. Exit 0 when
    /// valid, 1 when not.
    Verify(VerifyArgs),
    /// Certificate signing keys of a data directory.
    Keys(KeysArgs),
    /// The flow: each step's department, queue and time limit, and every queue and
    /// function (`--json`: as `infra/flow.json` holds it for the infrastructure scripts).
    Flow(FlowArgs),
    /// The API's routes: method, path and who may call (`--json`: as `infra/routes.json`
    /// holds it for the template generator and the OpenAPI generator).
    Routes(FlowArgs),
    /// The 一件事 catalogue: check, diff, apply a file (a new version for new cases) and
    /// list the versions.
    Catalogue(catalogue::CatalogueArgs),
}

#[derive(Args)]
struct FlowArgs {
    /// Print the JSON the template generator and the build scripts read.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct VerifyArgs {
    /// The token, a file holding it, or a certificate's PDF.
    what: String,
    /// The key set (`GET /.well-known/onething-keys.json`, saved).
    #[arg(long)]
    keys: PathBuf,
}

#[derive(Args)]
struct KeysArgs {
    #[command(subcommand)]
    cmd: KeysCmd,
    #[arg(long, default_value = ".onething", global = true)]
    data_dir: PathBuf,
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Make a new signing key; the old ones stay published, so what they signed verifies.
    Rotate,
    /// Print the key set (as `/.well-known/onething-keys.json` serves it).
    Show,
}

/// Where the runtime keeps its state.
#[derive(Args, Clone)]
struct BackendArgs {
    /// `embedded` (SQLite in the data dir), or `aws` with `--stack NAME`: DynamoDB, SQS
    /// and S3 of a deployed stack, through the standard AWS environment.
    #[arg(long, value_enum, default_value_t = BackendKind::Embedded, global = true)]
    backend: BackendKind,
    /// The CloudFormation stack, with `--backend aws`.
    #[arg(long, global = true)]
    stack: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendKind {
    Embedded,
    Aws,
}

impl BackendArgs {
    fn backend(self) -> Result<onething::Backend, String> {
        match (self.backend, self.stack) {
            (BackendKind::Embedded, None) => Ok(onething::Backend::Embedded),
            (BackendKind::Embedded, Some(_)) => Err("--stack goes with --backend aws".into()),
            (BackendKind::Aws, Some(stack)) => Ok(onething::Backend::Aws { stack }),
            (BackendKind::Aws, None) => Err("--backend aws needs --stack NAME".into()),
        }
    }
}

/// A department, as the CLI names it.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
enum DeptArg {
    Hospital,
    Police,
    MedicalInsurance,
    Hrss,
    ServiceCenter,
    Health,
}

impl From<DeptArg> for Dept {
    fn from(d: DeptArg) -> Dept {
        match d {
            DeptArg::Hospital => Dept::Hospital,
            DeptArg::Police => Dept::Police,
            DeptArg::MedicalInsurance => Dept::MedicalInsurance,
            DeptArg::Hrss => Dept::Hrss,
            DeptArg::ServiceCenter => Dept::ServiceCenter,
            DeptArg::Health => Dept::Health,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
enum RoleArg {
    Guardian,
    WindowOfficer,
    DeptOfficer,
    Supervisor,
}

impl RoleArg {
    fn as_str(self) -> &'static str {
        match self {
            RoleArg::Guardian => "guardian",
            RoleArg::WindowOfficer => "window_officer",
            RoleArg::DeptOfficer => "dept_officer",
            RoleArg::Supervisor => "supervisor",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DurabilityArg {
    /// fsync every commit: survives power loss.
    Full,
    /// survives a process crash.
    Normal,
}

impl DurabilityArg {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DurabilityArg::Full => "full",
            DurabilityArg::Normal => "normal",
        }
    }
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    #[arg(long, default_value = ".onething")]
    data_dir: PathBuf,
    /// Data-sharing fixture (JSON); default: the built-in sample registry.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// The operator's sites (JSON: `{"sites": [...]}`, see `GET /v1/sites`); default: a
    /// service centre per county and a site per midwifery institution of the registry.
    #[arg(long)]
    sites: Option<PathBuf>,
    /// Departments on manual review, e.g. `police,hospital`.
    #[arg(long, value_enum, value_delimiter = ',')]
    manual: Vec<DeptArg>,
    #[command(flatten)]
    backend: BackendArgs,
    /// Extra holiday-calendar years (same format as the built-in data).
    #[arg(long)]
    calendar: Option<PathBuf>,
    /// Operator settings (JSON): premiums, unknown-year policy, follow-up limits.
    #[arg(long)]
    settings: Option<PathBuf>,
    /// How durable each commit is.
    #[arg(long, value_enum, default_value_t = DurabilityArg::Full)]
    durability: DurabilityArg,
    /// A browser portal's origin (e.g. `https://portal.example.gov.cn`) allowed to call
    /// the API and upload; repeatable. No origin is allowed unless given.
    #[arg(long = "cors-origin")]
    cors_origins: Vec<String>,
    /// The font certificates' PDFs are set in (TrueType/OpenType with Chinese and Latin);
    /// default: Debian's fonts-wqy-microhei or fonts-noto-cjk where installed.
    #[arg(long)]
    cjk_font: Option<PathBuf>,
    /// How the pages fit a portal (JSON: `script_src`, `connect_src`, `frame_ancestors`,
    /// `oidc`, `prefill`, `payment_url`); without it the strict CSP holds.
    #[arg(long)]
    portal_config: Option<PathBuf>,
    /// Offer a development sign-in on the web pages: anyone who reaches the server may
    /// take a token of any role. For trying the system on one's own machine only; refused
    /// with `--backend aws`.
    #[arg(long)]
    dev_login: bool,
}

#[derive(Args)]
struct TokenArgs {
    #[arg(long, value_enum)]
    role: RoleArg,
    /// The officer's department (window and department officers).
    #[arg(long, value_enum)]
    dept: Option<DeptArg>,
    /// The subject: a guardian's citizen ID number, or an officer's id.
    #[arg(long)]
    sub: String,
    /// The data dir of the `serve` that will check the token (its signing secret).
    #[arg(long, default_value = ".onething")]
    data_dir: PathBuf,
    /// Officers and supervisors: the administrative division code prefix they work in
    /// (`33`, `3301`, `330106`; absent = the whole province).
    #[arg(long)]
    region: Option<String>,
    /// Hospital officers and windows: their institution code.
    #[arg(long)]
    hospital: Option<String>,
    /// Window officers: their site (`site_id` or exact name).
    #[arg(long)]
    site: Option<String>,
    /// Lifetime in seconds (at most 24 hours).
    #[arg(long, default_value_t = 8 * 3600)]
    ttl: i64,
    /// `iss` claim (default: ONETHING_JWT_ISSUER, as `serve` expects).
    #[arg(long)]
    iss: Option<String>,
    /// `aud` claim (default: ONETHING_JWT_AUDIENCE, as `serve` expects).
    #[arg(long)]
    aud: Option<String>,
}

#[derive(Args)]
struct AuditArgs {
    /// The case.
    #[arg(long = "case")]
    case_id: String,
    /// One JSON line per event instead of a table.
    #[arg(long)]
    json: bool,
    #[arg(long, default_value = ".onething")]
    data_dir: PathBuf,
    #[command(flatten)]
    backend: BackendArgs,
}

#[derive(Args)]
struct DlqArgs {
    #[command(subcommand)]
    cmd: DlqCmd,
    #[arg(long, default_value = ".onething", global = true)]
    data_dir: PathBuf,
    #[command(flatten)]
    backend: BackendArgs,
}

#[derive(Subcommand)]
enum DlqCmd {
    /// Every queue with its waiting and dead-lettered message counts.
    List {
        /// One JSON document instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The dead letters of one queue.
    Show {
        queue: String,
        /// One entry per case (its messages' ids, count and last error) instead of one per
        /// message: a case whose step kept failing shows once.
        #[arg(long)]
        by_case: bool,
    },
    /// Put dead letters back on their queue (all, or one by --id).
    Redrive {
        queue: String,
        #[arg(long)]
        id: Option<String>,
    },
}

fn init_logs() {
    let json = std::env::var("ONETHING_LOG_FORMAT")
        .map(|v| v == "json")
        .unwrap_or(false);
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // Colour only on a terminal, and never with NO_COLOR (https://no-color.org).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    if json {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .json()
            .with_env_filter(filter)
            .try_init();
    } else {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(filter)
            .with_target(false)
            .with_ansi(ansi)
            .try_init();
    }
}

pub(crate) async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("signal handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// The token in a verify_url (`...?t=TOKEN`), or the text itself.
fn token_in(text: &str) -> String {
    let t = text.trim();
    match t.split_once("?t=").or_else(|| t.split_once("&t=")) {
        Some((_, rest)) => rest.split('&').next().unwrap_or("").to_string(),
        None => t.to_string(),
    }
}

fn verify(args: VerifyArgs) -> Result<(), String> {
    let keys: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&args.keys)
            .map_err(|e| format!("keys {}: {e}", args.keys.display()))?,
    )
    .map_err(|e| format!("keys {}: {e}", args.keys.display()))?;
    let path = std::path::Path::new(&args.what);
    let text = if args.what.len() < 4096 && path.is_file() {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if bytes.starts_with(b"%PDF-") {
            return verify_pdf(&bytes, &keys);
        }
        String::from_utf8(bytes)
            .map_err(|_| format!("{}: neither a PDF nor text", path.display()))?
    } else {
        args.what.clone()
    };
    let token = token_in(&text);
    if !token.contains('.') && text.contains("/v1/verify/") {
        let note =
            "核验链接只含核验码，须在线核验（打开该链接）；离线核验请提供证照 PDF 或证照令牌";
        println!("{}", serde_json::json!({"valid": false, "note": note}));
        std::process::exit(1);
    }
    match application::certs::verify_token(&token, &keys) {
        Some(claims) => {
            let mut v = serde_json::to_value(&claims).expect("claims serialise");
            v["valid"] = true.into();
            v["note"] = "签名有效；是否已被更正替代（superseded）须在线查询".into();
            println!("{v}");
            Ok(())
        }
        None => {
            println!("{}", serde_json::json!({"valid": false}));
            std::process::exit(1);
        }
    }
}

/// A certificate's PDF: its seal covers every byte, and the certificate inside verifies.
fn verify_pdf(bytes: &[u8], keys: &serde_json::Value) -> Result<(), String> {
    use application::certs::DocumentVerdict;
    match application::certs::verify_document(bytes, keys) {
        DocumentVerdict::Intact(claims) => {
            let mut v = serde_json::to_value(&claims).expect("claims serialise");
            v["valid"] = true.into();
            v["document"] = "intact".into();
            v["note"] = "文件完好，签名有效；是否已被更正替代（superseded）须在线查询".into();
            println!("{v}");
            Ok(())
        }
        verdict => {
            let (code, note) = match verdict {
                DocumentVerdict::NotSealed => ("not_sealed", "该文件不是本系统签发的电子证照"),
                _ => ("altered", "文件已被改动或签名无效，不能作为证照使用"),
            };
            println!(
                "{}",
                serde_json::json!({"valid": false, "document": code, "note": note})
            );
            std::process::exit(1);
        }
    }
}

async fn keys(args: KeysArgs) -> Result<(), String> {
    use ports::CertSigner;
    if let KeysCmd::Rotate = args.cmd {
        let kid = embedded::LocalSigner::rotate(&args.data_dir).map_err(|e| e.to_string())?;
        eprintln!("new signing key {kid}; restart serve to sign with it");
    }
    let signer = embedded::LocalSigner::open(&args.data_dir).map_err(|e| e.to_string())?;
    let set = signer.public_keys().await.map_err(|e| e.to_string())?;
    println!("{set}");
    Ok(())
}

fn flow(args: FlowArgs) {
    let d = domain::flow::describe();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&d).expect("json"));
        return;
    }
    for s in domain::flow::FLOW {
        println!(
            "{:<24} {:<10} {:<20} {}",
            s.name,
            s.dept.as_str(),
            s.queue,
            s.step.name_zh()
        );
    }
    println!("queues: {}", domain::flow::all_queues().join(" "));
    println!("functions: {}", domain::flow::all_functions().join(" "));
}

fn routes(args: FlowArgs) {
    let rows: Vec<serde_json::Value> = api::route::ROUTES
        .iter()
        .map(|r| {
            let mut row = serde_json::json!({"method": r.method, "path": r.pattern,
                                             "who": r.who.as_str()});
            match r.who {
                api::route::Who::Role(role, _) => row["role"] = role.as_str().into(),
                api::route::Who::Dept(dept, _) => row["dept"] = dept.as_str().into(),
                _ => {}
            }
            row
        })
        .collect();
    if args.json {
        let doc = serde_json::json!({ "routes": rows });
        println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
        return;
    }
    for r in rows {
        let who = [&r["who"], &r["role"], &r["dept"]]
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "{:<7} {:<56} {who}",
            r["method"].as_str().unwrap_or(""),
            r["path"].as_str().unwrap_or("")
        );
    }
}

#[tokio::main]
async fn main() {
    init_logs();
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Serve(args) => serve(args).await,
        Cmd::Token(args) => token(args),
        Cmd::Dlq(args) => dlq(args).await,
        Cmd::Audit(args) => audit(args).await,
        Cmd::Bench(args) => bench::run(args).await,
        Cmd::Verify(args) => verify(args),
        Cmd::Keys(args) => keys(args).await,
        Cmd::Catalogue(args) => catalogue::run(args).await,
        Cmd::Flow(args) => {
            flow(args);
            Ok(())
        }
        Cmd::Routes(args) => {
            routes(args);
            Ok(())
        }
    };
    if let Err(e) = result {
        eprintln!("onething: {e}");
        std::process::exit(2);
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let mut cfg = Config::new(args.addr, args.data_dir);
    cfg.backend = args.backend.backend()?;
    cfg.registry = args.registry;
    cfg.sites = args.sites;
    cfg.manual = args.manual.into_iter().map(Dept::from).collect();
    if cfg.manual.contains(&Dept::Health) {
        tracing::warn!("health is the lead unit and owns no step: --manual health has no effect");
    }
    cfg.calendar = args.calendar;
    cfg.settings = args.settings;
    for o in &args.cors_origins {
        if !(o.starts_with("https://") || o.starts_with("http://")) || o.ends_with('/') {
            return Err(format!(
                "--cors-origin {o:?}: an origin is scheme://host[:port], without a path"
            ));
        }
    }
    cfg.cors_origins = args.cors_origins;
    if args.dev_login && !matches!(cfg.backend, onething::Backend::Embedded) {
        return Err(
            "--dev-login is for the embedded backend only: on AWS the pages sign in \
                    through the provincial SSO"
                .into(),
        );
    }
    if args.dev_login && !args.addr.ip().is_loopback() {
        return Err(format!(
            "--dev-login signs tokens of any role for whoever reaches the server: it runs \
             only on a loopback address (127.0.0.1 or ::1), not {}",
            args.addr
        ));
    }
    cfg.dev_login = args.dev_login;
    if let Some(path) = &args.portal_config {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--portal-config {}: {e}", path.display()))?;
        cfg.portal = Some(
            web::Portal::from_json(&text)
                .map_err(|e| format!("--portal-config {}: {e}", path.display()))?,
        );
    }
    cfg.cjk_font = args.cjk_font;
    cfg.durability = match args.durability {
        DurabilityArg::Full => embedded::Durability::Full,
        DurabilityArg::Normal => embedded::Durability::Normal,
    };
    let running: Running = onething::start(cfg).await?;
    println!("onething listening on http://{}", running.addr);
    wait_for_signal().await;
    tracing::info!("stopping");
    running.shutdown().await;
    Ok(())
}

fn token(args: TokenArgs) -> Result<(), String> {
    let TokenArgs {
        role,
        dept,
        sub,
        data_dir,
        region,
        hospital,
        site,
        ttl,
        iss,
        aud,
    } = args;
    // A token is only useful to a `serve` that shares its secret: never invent one here.
    let has_env_secret = std::env::var("ONETHING_JWT_SECRET").is_ok_and(|s| !s.is_empty());
    if !has_env_secret && !data_dir.join("jwt-secret").exists() {
        return Err(format!(
            "no signing secret in {}: start `onething serve --data-dir {}` once first, \
             pass the --data-dir that serve uses, or set ONETHING_JWT_SECRET",
            data_dir.display(),
            data_dir.display()
        ));
    }
    let secret = onething::jwt_secret(&data_dir)
        .map_err(|e| format!("data dir {}: {e}", data_dir.display()))?;
    let env = |k: &str| std::env::var(k).ok().filter(|s| !s.is_empty());
    let ask = onething::TokenAsk {
        role: role.as_str().to_string(),
        dept: dept.map(|d| Dept::from(d).as_str().to_string()),
        sub,
        scope: domain::case::Scope {
            region,
            hospital,
            site,
        },
        ttl,
        iss: iss.or_else(|| env("ONETHING_JWT_ISSUER")),
        aud: aud.or_else(|| env("ONETHING_JWT_AUDIENCE")),
    };
    match onething::sign_token(&secret, ask) {
        Ok(token) => {
            println!("{token}");
            Ok(())
        }
        Err(onething::TokenRefused::Lifetime) => Err(format!(
            "--ttl must be between 1 and {} seconds",
            api::auth::MAX_TOKEN_LIFETIME_SECS
        )),
        Err(onething::TokenRefused::NoDepartment) => Err("officers need --dept".into()),
        Err(onething::TokenRefused::NoSubject) => Err("--sub must not be empty".into()),
        Err(onething::TokenRefused::Invalid(e)) => Err(format!("invalid claims: {e}")),
    }
}

async fn audit(args: AuditArgs) -> Result<(), String> {
    use ports::AuditLog;
    let AuditArgs {
        case_id,
        json,
        data_dir,
        backend,
    } = args;
    let mut cfg = Config::new("127.0.0.1:0".parse().expect("addr"), data_dir.clone());
    cfg.backend = backend.backend()?;
    let events = match &cfg.backend {
        onething::Backend::Embedded => {
            let path = data_dir.join(embedded::AUDIT_FILE);
            if !path.exists() {
                return Err(format!("no audit trail in {}", data_dir.display()));
            }
            embedded::JsonlAudit::read_all(&path)
                .map_err(|e| e.to_string())?
                .into_iter()
                .filter(|e| e.concerns(&case_id))
                .collect::<Vec<_>>()
        }
        onething::Backend::Aws { stack } => {
            let (_, a) = onething::build_aws(&cfg, stack).await?;
            a.audit
                .for_case(&case_id)
                .await
                .map_err(|e| e.to_string())?
        }
    };
    for e in &events {
        if json {
            println!("{}", serde_json::to_string(e).map_err(|e| e.to_string())?);
        } else {
            println!(
                "{}  {:<16} {:<6} {:<40} {:<45} {}{}",
                e.at.with_timezone(&domain::calendar::shanghai())
                    .format("%Y-%m-%d %H:%M:%S"),
                serde_json::to_value(e.action)
                    .map_err(|e| e.to_string())?
                    .as_str()
                    .unwrap_or(""),
                e.status,
                e.operation,
                e.actor,
                e.fields.join(","),
                e.reason
                    .as_deref()
                    .map(|r| format!("  reason={r}"))
                    .unwrap_or_default(),
            );
        }
    }
    if !json {
        eprintln!("{} audit events for case {case_id}", events.len());
    }
    Ok(())
}

/// A dead letter as ops may see it: a notification's text (which may hold a pick-up
/// code) and the guardian's phone are not shown.
fn redacted(d: &ports::DeadLetter) -> ports::DeadLetter {
    let mut d = d.clone();
    if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&d.body) {
        if let Some(note) = v.get_mut("note").and_then(|n| n.as_object_mut()) {
            if let Some(p) = note.get("phone").and_then(|p| p.as_str()) {
                let masked = domain::idnum::mask_phone(p);
                note.insert("phone".into(), masked.into());
            }
            if note.contains_key("body") {
                note.insert("body".into(), "(通知正文不显示)".into());
            }
            d.body = v.to_string();
        }
    }
    d
}

/// Dead letters grouped by the case their message names (in the order first seen); a
/// body that names none is its own group.
fn dead_letters_by_case(dl: &[ports::DeadLetter]) -> Vec<serde_json::Value> {
    let mut groups: Vec<(String, Vec<&ports::DeadLetter>)> = vec![];
    for d in dl {
        let case = serde_json::from_str::<serde_json::Value>(&d.body)
            .ok()
            .and_then(|v| v.get("case_id")?.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("(no case) {}", d.message_id));
        match groups.iter_mut().find(|(c, _)| *c == case) {
            Some((_, v)) => v.push(d),
            None => groups.push((case, vec![d])),
        }
    }
    groups
        .into_iter()
        .map(|(case_id, v)| {
            let last = v.last().expect("a group has a message");
            serde_json::json!({
                "case_id": case_id,
                "messages": v.len(),
                "message_ids": v.iter().map(|d| d.message_id.clone()).collect::<Vec<_>>(),
                "last_error": last.last_error,
                "dead_at": last.dead_at,
            })
        })
        .collect()
}

/// `dlq list`: each queue's waiting and dead messages.
fn print_depths(depths: &[(String, i64, i64)], json: bool) {
    let rows: Vec<(&str, i64, i64)> = domain::flow::all_queues()
        .into_iter()
        .map(|q| {
            let (w, d) = depths
                .iter()
                .find(|x| x.0 == q)
                .map(|x| (x.1, x.2))
                .unwrap_or((0, 0));
            (q, w, d)
        })
        .collect();
    if json {
        let doc: Vec<serde_json::Value> = rows
            .iter()
            .map(|(q, w, d)| serde_json::json!({"queue": q, "waiting": w, "dead": d}))
            .collect();
        println!("{}", serde_json::json!({ "queues": doc }));
    } else {
        println!("{:<20} {:>8} {:>8}", "queue", "waiting", "dead");
        for (q, w, d) in rows {
            println!("{q:<20} {w:>8} {d:>8}");
        }
    }
}

async fn dlq(args: DlqArgs) -> Result<(), String> {
    let DlqArgs {
        cmd,
        data_dir,
        backend,
    } = args;
    if let DlqCmd::Show { queue, .. } | DlqCmd::Redrive { queue, .. } = &cmd {
        // Every queue `dlq list` lists (the render queue too: the relay parks there what
        // it could not send).
        let known = domain::flow::all_queues();
        if !known.contains(&queue.as_str()) {
            return Err(format!(
                "no queue named {queue:?}; the queues are {}",
                known.join(", ")
            ));
        }
    }
    let mut cfg = Config::new("127.0.0.1:0".parse().expect("addr"), data_dir.clone());
    cfg.backend = backend.backend()?;
    // Keep the adapters alive while we use the queues.
    type Depths = Vec<(String, i64, i64)>;
    let (queues, depths): (std::sync::Arc<dyn Queue>, Depths) = match &cfg.backend {
        onething::Backend::Embedded => {
            if !data_dir.join("onething.db").exists() {
                return Err(format!("no onething data in {}", data_dir.display()));
            }
            let (_, e) = onething::build(&cfg)?;
            let d = if matches!(cmd, DlqCmd::List { .. }) {
                e.queues.depths().await.map_err(|e| e.to_string())?
            } else {
                vec![]
            };
            (e.queues.clone(), d)
        }
        onething::Backend::Aws { stack } => {
            let (_, a) = onething::build_aws(&cfg, stack).await?;
            let d = if matches!(cmd, DlqCmd::List { .. }) {
                a.queues.depths().await.map_err(|e| e.to_string())?
            } else {
                vec![]
            };
            (a.queues.clone(), d)
        }
    };
    match cmd {
        DlqCmd::List { json } => print_depths(&depths, json),
        DlqCmd::Show { queue, by_case } => {
            let dl: Vec<ports::DeadLetter> = queues
                .dead_letters(&queue)
                .await
                .map_err(|e| e.to_string())?
                .iter()
                .map(redacted)
                .collect();
            if by_case {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&dead_letters_by_case(&dl)).expect("json")
                );
            } else {
                println!("{}", serde_json::to_string_pretty(&dl).expect("json"));
            }
        }
        DlqCmd::Redrive { queue, id } => {
            let n = queues
                .redrive(&queue, id.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            println!("redrove {n} message(s) to {queue}");
        }
    }
    Ok(())
}
