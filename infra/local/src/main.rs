//! `onething`: the local runtime CLI (see `../shared/API.md` and the README).

use clap::{Parser, Subcommand};
use domain::flow::Dept;
use onething::{Config, Running};
use ports::Queue;
use std::net::SocketAddr;
use std::path::PathBuf;

mod bench;

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
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        #[arg(long, default_value = ".onething")]
        data_dir: PathBuf,
        /// Data-sharing fixture (JSON); default: the built-in sample registry.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Departments on manual review, e.g. `police,hospital`.
        #[arg(long, value_delimiter = ',')]
        manual: Vec<String>,
        /// `embedded` (default), or `aws` with `--stack NAME`: DynamoDB, SQS and S3 of a
        /// deployed stack, through the standard AWS environment.
        #[arg(long, default_value = "embedded")]
        backend: String,
        #[arg(long)]
        stack: Option<String>,
        /// Extra holiday-calendar years (same format as the built-in data).
        #[arg(long)]
        calendar: Option<PathBuf>,
        /// Operator settings (JSON): premiums, unknown-year policy, follow-up limits.
        #[arg(long)]
        settings: Option<PathBuf>,
        /// `full` fsyncs every commit (survives power loss); `normal` survives a process crash.
        #[arg(long, default_value = "full")]
        durability: String,
    },
    /// Print a JWT that `serve` with the same data dir (or ONETHING_JWT_SECRET) accepts.
    Token {
        #[arg(long)]
        role: String,
        #[arg(long)]
        dept: Option<String>,
        #[arg(long)]
        sub: String,
        #[arg(long, default_value = ".onething")]
        data_dir: PathBuf,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 8 * 3600)]
        ttl: i64,
        /// `iss` claim (default: ONETHING_JWT_ISSUER, as `serve` expects).
        #[arg(long)]
        iss: Option<String>,
        /// `aud` claim (default: ONETHING_JWT_AUDIENCE, as `serve` expects).
        #[arg(long)]
        aud: Option<String>,
    },
    /// Inspect and redrive dead-lettered messages.
    Dlq {
        #[command(subcommand)]
        cmd: DlqCmd,
        #[arg(long, default_value = ".onething", global = true)]
        data_dir: PathBuf,
        #[arg(long, default_value = "embedded", global = true)]
        backend: String,
        #[arg(long, global = true)]
        stack: Option<String>,
    },
    /// Drive automated cases through a fresh local runtime over HTTP and report figures.
    Bench(bench::Args),
}

#[derive(Subcommand)]
enum DlqCmd {
    /// Every queue with its waiting and dead-lettered message counts.
    List,
    /// The dead letters of one queue.
    Show { queue: String },
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

fn backend_of(backend: &str, stack: Option<String>) -> Result<onething::Backend, String> {
    match (backend, stack) {
        ("embedded", None) => Ok(onething::Backend::Embedded),
        ("embedded", Some(_)) => Err("--stack goes with --backend aws".into()),
        ("aws", Some(stack)) => Ok(onething::Backend::Aws { stack }),
        ("aws", None) => Err("--backend aws needs --stack NAME".into()),
        (other, _) => Err(format!("--backend {other:?}: embedded or aws")),
    }
}

fn parse_manual(v: &[String]) -> Result<std::collections::HashSet<Dept>, String> {
    v.iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| Dept::parse(s.trim()).ok_or_else(|| format!(
            "unknown department {s:?}; one of hospital, police, medical_insurance, hrss, service_center, health",
        )))
        .collect()
}

async fn wait_for_signal() {
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

#[tokio::main]
async fn main() {
    init_logs();
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Serve {
            addr,
            data_dir,
            registry,
            manual,
            backend,
            stack,
            calendar,
            settings,
            durability,
        } => {
            serve(
                addr, data_dir, registry, manual, backend, stack, calendar, settings, durability,
            )
            .await
        }
        Cmd::Token {
            role,
            dept,
            sub,
            data_dir,
            ttl,
            iss,
            aud,
        } => token(role, dept, sub, data_dir, ttl, iss, aud),
        Cmd::Dlq {
            cmd,
            data_dir,
            backend,
            stack,
        } => dlq(cmd, data_dir, backend, stack).await,
        Cmd::Bench(args) => bench::run(args).await,
    };
    if let Err(e) = result {
        eprintln!("onething: {e}");
        std::process::exit(2);
    }
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    addr: SocketAddr,
    data_dir: PathBuf,
    registry: Option<PathBuf>,
    manual: Vec<String>,
    backend: String,
    stack: Option<String>,
    calendar: Option<PathBuf>,
    settings: Option<PathBuf>,
    durability: String,
) -> Result<(), String> {
    let mut cfg = Config::new(addr, data_dir);
    cfg.backend = backend_of(&backend, stack)?;
    cfg.registry = registry;
    cfg.manual = parse_manual(&manual)?;
    if cfg.manual.contains(&Dept::Health) {
        tracing::warn!("health is the lead unit and owns no step: --manual health has no effect");
    }
    cfg.calendar = calendar;
    cfg.settings = settings;
    cfg.durability = match durability.as_str() {
        "full" => embedded::Durability::Full,
        "normal" => embedded::Durability::Normal,
        other => return Err(format!("--durability {other:?}: full or normal")),
    };
    let running: Running = onething::start(cfg).await?;
    println!("onething listening on http://{}", running.addr);
    wait_for_signal().await;
    tracing::info!("stopping");
    running.shutdown().await;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn token(
    role: String,
    dept: Option<String>,
    sub: String,
    data_dir: PathBuf,
    ttl: i64,
    iss: Option<String>,
    aud: Option<String>,
) -> Result<(), String> {
    if domain::Role::parse(&role).is_none() {
        return Err(format!(
            "--role {role:?}: guardian, window_officer, dept_officer or supervisor"
        ));
    }
    if let Some(d) = &dept {
        if Dept::parse(d).is_none() {
            return Err(format!(
                "--dept {d:?}: hospital, police, medical_insurance, hrss, service_center or health"
            ));
        }
    }
    if matches!(role.as_str(), "window_officer" | "dept_officer") && dept.is_none() {
        return Err("officers need --dept".into());
    }
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
    let now = chrono::Utc::now().timestamp();
    let env = |k: &str| std::env::var(k).ok().filter(|s| !s.is_empty());
    let claims = api::auth::Claims {
        sub,
        role,
        dept,
        exp: now + ttl,
        iat: Some(now),
        iss: iss.or_else(|| env("ONETHING_JWT_ISSUER")),
        aud: aud.or_else(|| env("ONETHING_JWT_AUDIENCE")),
    };
    println!("{}", api::auth::sign(&secret, &claims));
    Ok(())
}

async fn dlq(
    cmd: DlqCmd,
    data_dir: PathBuf,
    backend: String,
    stack: Option<String>,
) -> Result<(), String> {
    if let DlqCmd::Show { queue } | DlqCmd::Redrive { queue, .. } = &cmd {
        let known: Vec<&str> = domain::flow::FLOW
            .iter()
            .map(|s| s.queue)
            .chain([domain::flow::NOTIFY_QUEUE, domain::flow::ARCHIVE_QUEUE])
            .collect();
        if !known.contains(&queue.as_str()) {
            return Err(format!(
                "no queue named {queue:?}; the queues are {}",
                known.join(", ")
            ));
        }
    }
    let mut cfg = Config::new("127.0.0.1:0".parse().expect("addr"), data_dir.clone());
    cfg.backend = backend_of(&backend, stack)?;
    // Keep the adapters alive while we use the queues.
    type Depths = Vec<(String, i64, i64)>;
    let (queues, depths): (std::sync::Arc<dyn Queue>, Depths) = match &cfg.backend {
        onething::Backend::Embedded => {
            if !data_dir.join("onething.db").exists() {
                return Err(format!("no onething data in {}", data_dir.display()));
            }
            let (_, e) = onething::build(&cfg)?;
            let d = if matches!(cmd, DlqCmd::List) {
                e.queues.depths().await.map_err(|e| e.to_string())?
            } else {
                vec![]
            };
            (e.queues.clone(), d)
        }
        onething::Backend::Aws { stack } => {
            let (_, a) = onething::build_aws(&cfg, stack).await?;
            let d = if matches!(cmd, DlqCmd::List) {
                a.queues.depths().await.map_err(|e| e.to_string())?
            } else {
                vec![]
            };
            (a.queues.clone(), d)
        }
    };
    match cmd {
        DlqCmd::List => {
            println!("{:<20} {:>8} {:>8}", "queue", "waiting", "dead");
            for q in domain::flow::all_queues() {
                let (w, d) = depths
                    .iter()
                    .find(|x| x.0 == q)
                    .map(|x| (x.1, x.2))
                    .unwrap_or((0, 0));
                println!("{q:<20} {w:>8} {d:>8}");
            }
        }
        DlqCmd::Show { queue } => {
            let dl = queues
                .dead_letters(&queue)
                .await
                .map_err(|e| e.to_string())?;
            println!("{}", serde_json::to_string_pretty(&dl).expect("json"));
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
