//! Application services behind the HTTP API: each checks who is asking, drives the
//! domain, and commits with a conditional write (retrying a lost race by re-reading,
//! unless the caller named a version, which makes a lost race a 409).

use crate::authz::{load_changeable, load_visible, officer_dept, valid_identifier, Changer};
use crate::body;
use crate::repo::Change;
use crate::response::{CaseList, Decided, TaskLine, TaskList, UploadTicket};
use crate::{App, ServiceError};
use chrono::{Duration, Utc};
use domain::case::{Actor, Case, Material, MaterialStatus, Role};
use domain::case::{Complaint, Rating};
use domain::feedback::FollowUp;
use domain::flow::{Dept, MaterialKind, Step};
use domain::problem::{Problem, Problems};
use domain::text::free_text_problem;
use domain::view::{CaseRole, CaseSummary, NotificationView, Shown, Viewer};
use domain::{Decision, Form};
use ports::{Created, StoreError};
use serde_json::{json, Value};

mod birth_record;
mod break_glass;
mod case_view;
mod catalogue;
mod correction;
mod decide;
mod feedback;
mod guide;
mod materials;
mod parentage;
mod premium;
mod resubmit;
mod submit;
mod task_view;
mod tasks;
mod withdraw;

pub use birth_record::*;
pub use break_glass::{break_glass_reads, reason_name};
pub use case_view::*;
pub use catalogue::*;
pub use correction::*;
pub use decide::*;
pub use feedback::*;
pub use guide::*;
pub use materials::*;
pub use parentage::{confirm_parent, decline, object, void};
pub use premium::*;
pub use resubmit::*;
pub use submit::*;
pub use task_view::*;
pub use tasks::*;
pub use withdraw::*;

/// Largest material upload.
pub const MAX_MATERIAL_BYTES: u64 = 10 * 1024 * 1024;
pub const MATERIAL_TYPES: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];
/// How long an upload URL stays valid.
pub const UPLOAD_URL_MINUTES: i64 = 15;

fn new_id(prefix: &str, app: &App) -> String {
    let day = app.now().format("%Y%m%d");
    let r = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{day}{}", &r[..12].to_uppercase())
}

pub use crate::digest::sha256_hex;

fn domain_err(e: domain::DomainError) -> ServiceError {
    match e {
        domain::DomainError::InvalidState { status, .. } => {
            let name = domain::CaseStatus::ALL
                .into_iter()
                .find(|s| s.as_str() == status)
                .map_or("当前", |s| s.name_zh());
            ServiceError::Conflict(format!("办件处于“{name}”状态，不能进行此项操作").into())
        }
        domain::DomainError::TaskNotOpen => {
            ServiceError::Conflict("该任务已处理或已不在待办中，请刷新后查看".into())
        }
        domain::DomainError::Stale { .. } => {
            ServiceError::Conflict("办件已被他人更新，请刷新后重试".into())
        }
        domain::DomainError::Calendar(c) => ServiceError::Unavailable(c.to_string()),
        domain::DomainError::Rule(m) => ServiceError::Conflict(m.into()),
        domain::DomainError::Limit(m) => ServiceError::Limit(m.into()),
        domain::DomainError::Missing(missing) => ServiceError::Invalid(
            missing
                .into_iter()
                .map(|m| {
                    let field = m
                        .field
                        .unwrap_or_else(|| format!("materials.{}", m.material));
                    Problem::new(field, "missing", m.reason)
                })
                .collect(),
        ),
    }
}
