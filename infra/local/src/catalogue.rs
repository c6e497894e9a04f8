//! `onething catalogue check FILE | diff FILE | apply FILE | history`: the operator's
//! dynamic management (动态管理) of the 一件事 catalogue, on the embedded data dir or a
//! deployed stack's table.

use crate::BackendArgs;
use application::service::Applied;
use clap::{Args, Subcommand};
use domain::catalogue::Catalogue;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct CatalogueArgs {
    #[command(subcommand)]
    cmd: CatalogueCmd,
    #[arg(long, default_value = ".onething", global = true)]
    data_dir: PathBuf,
    #[command(flatten)]
    backend: BackendArgs,
}

#[derive(Subcommand)]
enum CatalogueCmd {
    /// Check a catalogue file: every problem at once (exit 1 if any).
    Check { file: PathBuf },
    /// What the file changes against the version in force.
    Diff { file: PathBuf },
    /// Make the file the next version: in force for new cases at once; cases already
    /// made keep their own.
    Apply {
        file: PathBuf,
        /// Who applies it (the audit event names them); default: $USER.
        #[arg(long)]
        operator: Option<String>,
    },
    /// Every version applied, oldest first.
    History {
        #[arg(long)]
        json: bool,
    },
}

/// The file, checked. With problems: each printed on a line (path, code, message) and
/// the process ends with status 1 (the contract's "exit 1 if any"); nothing is applied.
fn read(file: &Path) -> Result<Catalogue, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    match Catalogue::parse(&text) {
        Ok(c) => Ok(c),
        Err(problems) => {
            for p in &problems {
                println!("{}\t{}\t{}", p.field, p.code, p.message);
            }
            eprintln!("onething: {} 处问题，目录未通过检查", problems.len());
            std::process::exit(1);
        }
    }
}

async fn app(args: &CatalogueArgs) -> Result<application::App, String> {
    let mut cfg =
        onething::Config::new("127.0.0.1:0".parse().expect("addr"), args.data_dir.clone());
    cfg.backend = args.backend.clone().backend()?;
    Ok(match &cfg.backend {
        onething::Backend::Embedded => {
            let (app, e) = onething::build(&cfg)?;
            app.with_audit(e.audit.clone())
        }
        onething::Backend::Aws { stack } => {
            let (app, a) = onething::build_aws(&cfg, stack).await?;
            app.with_audit(a.audit.clone())
        }
    })
}

pub async fn run(args: CatalogueArgs) -> Result<(), String> {
    match &args.cmd {
        CatalogueCmd::Check { file } => {
            let c = read(file)?;
            println!(
                "目录检查通过：{} 个主项（{}）",
                c.bundles.len(),
                c.bundles
                    .iter()
                    .map(|b| b.name.as_str())
                    .collect::<Vec<_>>()
                    .join("、")
            );
            Ok(())
        }
        CatalogueCmd::Diff { file } => {
            let new = read(file)?;
            let current = app(&args)
                .await?
                .catalogue()
                .await
                .map_err(|e| e.to_string())?;
            let changes = current.catalogue.diff(&new);
            if changes.is_empty() {
                println!("与现行第 {} 版相同", current.version);
            }
            for c in changes {
                let show = |v: &Option<serde_json::Value>| {
                    v.as_ref().map_or("（无）".to_string(), |v| v.to_string())
                };
                println!("{}\t{} → {}", c.path, show(&c.before), show(&c.after));
            }
            Ok(())
        }
        CatalogueCmd::Apply { file, operator } => {
            let new = read(file)?;
            let by = operator
                .clone()
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "ops".into());
            let app = app(&args).await?;
            let aws = args.backend.clone().backend()? != onething::Backend::Embedded;
            match application::service::apply_catalogue(&app, new, &by)
                .await
                .map_err(|e| e.to_string())?
            {
                Applied::New(v) if aws => println!(
                    "已施行目录第 {v} 版：此后受理的申请按此版办理（各 API 实例在 {} 秒内生效）",
                    aws::CATALOGUE_CACHE_TTL.as_secs()
                ),
                Applied::New(v) => println!("已施行目录第 {v} 版：此后受理的申请按此版办理"),
                Applied::Unchanged(v) => println!("与现行第 {v} 版相同，未生成新版本"),
            }
            Ok(())
        }
        CatalogueCmd::History { json } => history(&args, *json).await,
    }
}

/// `catalogue history`: the built-in version, then every applied one.
async fn history(args: &CatalogueArgs, json: bool) -> Result<(), String> {
    let app = app(args).await?;
    let mut versions = vec![domain::catalogue::Version::builtin()];
    versions.extend(
        app.catalogues
            .catalogue_history()
            .await
            .map_err(|e| e.to_string())?,
    );
    for v in versions {
        if json {
            let line = serde_json::json!({"version": v.version, "applied_at": v.applied_at,
                "applied_by": v.applied_by});
            println!("{line}");
        } else {
            let at = if v.applied_at.is_empty() {
                "（随系统发布）"
            } else {
                &v.applied_at
            };
            println!("{}\t{}\t{}", v.version, at, v.applied_by);
        }
    }
    Ok(())
}
