//! What the use cases answer, typed (the API serialises these as they are).

use domain::case::{CaseStatus, Time};
use domain::flow::{Channel, MaterialKind, Step};
use domain::view::CaseSummary;
use domain::Decision;
use serde::Serialize;

/// `GET /v1/cases`: the guardian's own cases, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct CaseList {
    pub cases: Vec<CaseSummary>,
    pub next_cursor: Option<String>,
}

/// `POST /v1/applications` (202).
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    pub case_id: String,
    pub channel: Channel,
    pub links: Links,
    pub status: CaseStatus,
    pub submitted_at: Time,
    pub version: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Links {
    #[serde(rename = "self")]
    pub this: String,
}

/// `POST /v1/cases/{id}/resubmit` (202).
#[derive(Debug, Clone, Serialize)]
pub struct Resubmitted {
    pub case_id: String,
    pub current_step: Option<Step>,
    pub status: CaseStatus,
    pub version: u64,
}

/// `POST /v1/cases/{id}/materials` (201): where to upload the bytes.
#[derive(Debug, Clone, Serialize)]
pub struct UploadTicket {
    pub content_type: String,
    pub expires_at: Time,
    pub kind: MaterialKind,
    pub material_id: String,
    pub size: u64,
    pub upload_method: &'static str,
    pub upload_url: String,
    /// The headers the `PUT` must send as they are (on AWS they are signed into the URL:
    /// `If-None-Match: *` makes the URL write-once).
    pub upload_headers: std::collections::BTreeMap<String, String>,
}

/// `GET /v1/cases/{id}/materials/{mid}`.
#[derive(Debug, Clone, Serialize)]
pub struct MaterialDownload {
    pub material_id: String,
    pub kind: domain::flow::MaterialKind,
    pub content_type: String,
    pub size: u64,
    pub sha256: Option<String>,
    pub download_url: String,
    pub expires_at: Time,
}

/// `GET /v1/supervision/escalations`.
#[derive(Debug, Clone, Serialize)]
pub struct EscalationList {
    pub items: Vec<domain::supervision::Escalation>,
    pub next_cursor: Option<String>,
}

/// `GET /v1/feedback`.
#[derive(Debug, Clone, Serialize)]
pub struct FeedbackList {
    pub items: Vec<domain::feedback::FeedbackItem>,
    pub next_cursor: Option<String>,
}

/// `GET /v1/tasks`.
#[derive(Debug, Clone, Serialize)]
pub struct TaskList {
    pub tasks: Vec<TaskLine>,
    pub next_cursor: Option<String>,
}

/// An open task, oldest due first; no personal data in its summary.
pub type TaskLine = domain::view::TaskEntry;

/// `POST /v1/tasks/{task_id}/decision`.
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    pub case_id: String,
    pub decision: Decision,
    pub status: CaseStatus,
    pub task_id: String,
    pub version: u64,
}
