//! The audit trail of personal data (PIPL): who read or changed which case's personal
//! data, when, through which request. Kept apart from the application log, longer.

use crate::case::{Actor, Role};
use crate::flow::Dept;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Read,
    Write,
    /// A supervisor opened a case in full, with a reason code.
    BreakGlassRead,
}

/// One access to personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub at: DateTime<Utc>,
    pub request_id: String,
    /// The actor's label (a guardian's ID number masked; officers by their id).
    pub actor: String,
    /// The actor's role (none for a download by a signed link: whoever holds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept: Option<Dept>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub action: AuditAction,
    /// The API operation, e.g. `GET /v1/cases/{case_id}`.
    pub operation: String,
    pub status: u16,
    /// The cases whose personal data this was.
    pub cases: Vec<String>,
    /// What was read or written: parts of the case (`form`, `results`, ...) or a material
    /// (`material:M...`).
    pub fields: Vec<String>,
    /// A break-glass read's reason code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl AuditEvent {
    pub fn new(
        at: DateTime<Utc>,
        request_id: &str,
        actor: &Actor,
        action: AuditAction,
        operation: &str,
    ) -> AuditEvent {
        AuditEvent {
            at,
            request_id: request_id.to_string(),
            actor: actor.label(),
            role: Some(actor.role),
            dept: actor.dept,
            region: actor.scope.region.clone(),
            action,
            operation: operation.to_string(),
            status: 0,
            cases: vec![],
            fields: vec![],
            reason: None,
        }
    }

    /// A document downloaded by a signed link (the local server's stand-in for a
    /// presigned S3 GET): the link's holder, whom the event that handed it out names.
    pub fn link_download(at: DateTime<Utc>, request_id: &str, key: &str) -> AuditEvent {
        let mut parts = key.split('/');
        let (kind, case, doc) = (parts.next(), parts.next(), parts.next());
        let field = match kind {
            Some("materials") => format!("material:{}", doc.unwrap_or("")),
            _ => format!("certificate:{}", doc.unwrap_or("").trim_end_matches(".pdf")),
        };
        AuditEvent {
            at,
            request_id: request_id.to_string(),
            actor: "download_link".into(),
            role: None,
            dept: None,
            region: None,
            action: AuditAction::Read,
            operation: "GET /downloads/{key}".into(),
            status: 200,
            cases: case.map(str::to_string).into_iter().collect(),
            fields: vec![field],
            reason: None,
        }
    }

    /// An operator applied a new version of the 一件事 catalogue (no personal data: the
    /// trail keeps it with the accesses because it changes what every new case owes).
    pub fn catalogue_applied(at: crate::case::Time, operator: &str, version: u32) -> AuditEvent {
        AuditEvent {
            at: at.with_timezone(&Utc),
            request_id: format!("catalogue-v{version}"),
            actor: format!("operator:{operator}"),
            role: None,
            dept: None,
            region: None,
            action: AuditAction::Write,
            operation: "onething catalogue apply".into(),
            status: 200,
            cases: vec![],
            fields: vec![format!("catalogue:{version}")],
            reason: None,
        }
    }

    pub fn concerns(&self, case_id: &str) -> bool {
        self.cases.iter().any(|c| c == case_id)
    }
}

/// A supervisor's break-glass read, as `GET /v1/supervision/break-glass` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakGlassRead {
    pub entry_id: String,
    /// The supervisor's label (their staff id).
    pub supervisor: String,
    pub case_id: String,
    /// The county the case is counted in (where it was accepted).
    pub region: String,
    pub reason_code: String,
    pub at: DateTime<Utc>,
}

impl BreakGlassRead {
    /// The Beijing day the read counts against (`YYYYMMDD`).
    pub fn day(&self) -> String {
        self.at
            .with_timezone(&crate::calendar::shanghai())
            .format("%Y%m%d")
            .to_string()
    }
    /// Newest first: the list's order key.
    pub fn order_key(&self) -> String {
        format!("{:013}#{}", self.at.timestamp_millis(), self.entry_id)
    }
}
