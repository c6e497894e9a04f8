//! The case as the API shows it, in full for those whose work needs it and masked for
//! everyone else (supervisors, reports).

use crate::case::Superseded;
use crate::case::{
    AcceptanceNotice, ArchiveRef, Case, CaseStatus, Complaint, Event, MaterialStatus, Missing,
    NoticeKind, Rating, StepStatus, Time,
};
use crate::flow::{Channel, Dept, MaterialKind, Step};
use crate::form::{Applicant, Delivery, Form, Newborn, Parent};
use crate::idnum::{mask_address, mask_id, mask_name, mask_phone};
use crate::steps::issuance::DeliveryRecord;
use crate::steps::StepResults;
use serde::Serialize;

/// Who is looking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// The guardian who owns the case, or an officer whose step needs the data.
    Entitled,
    /// Sees the case with personal data masked.
    Masked,
}

/// A case as the API shows it (and the archive keeps it). Fields in key order, so the
/// document reads as earlier versions wrote it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseView {
    pub acceptance_notice: Option<AcceptanceNotice>,
    pub accepted_at: Option<Time>,
    pub archive: Option<ArchiveRef>,
    pub case_id: String,
    pub channel: Channel,
    pub complaints: Vec<Complaint>,
    pub current_step: Option<Step>,
    pub due_at: Option<Time>,
    pub finished_at: Option<Time>,
    pub form: Form,
    pub materials: Vec<MaterialView>,
    pub missing: Vec<Missing>,
    /// What the guardian was told (for those who see the case in full).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Vec<NotificationView>>,
    pub overdue: bool,
    pub ratings: Vec<Rating>,
    pub results: ResultsView,
    pub status: CaseStatus,
    pub steps: Vec<StepView>,
    pub submitted_at: Time,
    pub timeline: Vec<Event>,
    pub updated_at: Time,
    pub version: u64,
    pub warnings: Vec<String>,
}

/// The results of a case: every step's, every hand-over, and what corrections replaced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultsView {
    #[serde(flatten)]
    pub steps: StepResults,
    pub deliveries: Vec<DeliveryRecord>,
    pub superseded: Vec<Superseded>,
}

/// A step of a case, as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepView {
    pub dept: Dept,
    pub due_at: Option<Time>,
    pub finished_at: Option<Time>,
    pub overdue: bool,
    pub reasons: Vec<String>,
    pub results: StepResults,
    pub round: u32,
    pub started_at: Option<Time>,
    pub status: StepStatus,
    pub step: Step,
    pub task_id: Option<String>,
}

/// A material of a case, as shown (its storage key stays inside).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaterialView {
    pub content_type: String,
    pub created_at: Time,
    pub kind: MaterialKind,
    pub material_id: String,
    pub sha256: Option<String>,
    pub size: u64,
    pub status: MaterialStatus,
    pub uploaded_at: Option<Time>,
}

/// A notification the guardian received.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotificationView {
    pub body: String,
    pub channel: String,
    pub kind: NoticeKind,
    pub sent_at: chrono::DateTime<chrono::Utc>,
    pub seq: u32,
    pub title: String,
}

impl CaseView {
    /// The case as `viewer` may see it.
    pub fn of(case: &Case, viewer: Viewer) -> CaseView {
        match viewer {
            Viewer::Entitled => Self::document(case),
            Viewer::Masked => Self::document(&case.masked()),
        }
    }

    fn document(case: &Case) -> CaseView {
        let steps = case
            .steps
            .iter()
            .map(|s| StepView {
                dept: s.dept,
                due_at: s.due_at,
                finished_at: s.finished_at,
                overdue: s.overdue,
                reasons: s.reasons.clone(),
                results: s.results.clone(),
                round: s.round,
                started_at: s.started_at,
                status: s.status,
                step: s.step,
                task_id: s.task.as_ref().map(|t| t.task_id.clone()),
            })
            .collect();
        let materials = case
            .materials
            .iter()
            .map(|m| MaterialView {
                content_type: m.content_type.clone(),
                created_at: m.created_at,
                kind: m.kind,
                material_id: m.material_id.clone(),
                sha256: m.sha256.clone(),
                size: m.size,
                status: m.status,
                uploaded_at: m.uploaded_at,
            })
            .collect();
        CaseView {
            acceptance_notice: case.acceptance_notice.clone(),
            accepted_at: case.accepted_at,
            archive: case.archive.clone(),
            case_id: case.case_id.clone(),
            channel: case.channel,
            complaints: case.complaints.clone(),
            current_step: case.current_step(),
            due_at: case.due_at,
            finished_at: case.finished_at,
            form: case.form.clone(),
            materials,
            missing: case.missing.clone(),
            notifications: None,
            overdue: case.overdue,
            ratings: case.ratings.clone(),
            results: ResultsView {
                steps: case.results.clone(),
                deliveries: case.deliveries.clone(),
                superseded: case.superseded.clone(),
            },
            status: case.status,
            steps,
            submitted_at: case.submitted_at,
            timeline: case.timeline.clone(),
            updated_at: case.updated_at,
            version: case.version,
            warnings: case.warnings.clone(),
        }
    }
}

/// A line of a case list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseSummary {
    pub accepted_at: Option<Time>,
    pub case_id: String,
    pub channel: Channel,
    pub current_step: Option<Step>,
    pub due_at: Option<Time>,
    pub finished_at: Option<Time>,
    pub newborn_name: String,
    pub status: CaseStatus,
    pub submitted_at: Time,
    pub version: u64,
}

impl CaseSummary {
    pub fn of(case: &Case) -> CaseSummary {
        CaseSummary {
            accepted_at: case.accepted_at,
            case_id: case.case_id.clone(),
            channel: case.channel,
            current_step: case.current_step(),
            due_at: case.due_at,
            finished_at: case.finished_at,
            newborn_name: case.form.newborn.name.clone(),
            status: case.status,
            submitted_at: case.submitted_at,
            version: case.version,
        }
    }
}

/// Personal data (names, ID numbers, phones, addresses) replaced by masked forms. Each
/// type that holds personal data says which of its fields are personal.
pub trait Mask {
    fn masked(&self) -> Self;
}

impl Mask for Parent {
    fn masked(&self) -> Parent {
        Parent {
            name: mask_name(&self.name),
            id_number: self.id_number.masked_copy(),
        }
    }
}

impl Mask for Form {
    fn masked(&self) -> Form {
        Form {
            newborn: Newborn {
                name: mask_name(&self.newborn.name),
                ..self.newborn.clone()
            },
            mother: self.mother.masked(),
            father: self.father.as_ref().map(Mask::masked),
            delivery: self.delivery.as_ref().map(|d| Delivery {
                address: d.address.as_deref().map(mask_address),
                ..d.clone()
            }),
            applicant: Applicant {
                name: mask_name(&self.applicant.name),
                id_number: self.applicant.id_number.masked_copy(),
                phone: mask_phone(&self.applicant.phone),
                ..self.applicant.clone()
            },
            ..self.clone()
        }
    }
}

impl Mask for StepResults {
    fn masked(&self) -> StepResults {
        StepResults::masked(self)
    }
}

impl Mask for Case {
    /// The case as those who may not see personal data see it. (The acceptance notice
    /// and the issuance hold addresses masked already.)
    fn masked(&self) -> Case {
        let mut c = self.clone();
        c.form = self.form.masked();
        c.results = self.results.masked();
        for s in c.steps.iter_mut() {
            s.results = s.results.masked();
        }
        c.owner = mask_id(&self.owner);
        for x in c.superseded.iter_mut() {
            x.value = mask_id(&x.value);
        }
        c
    }
}
