//! The case as the API shows it, in full for those whose work needs it and masked for
//! everyone else (supervisors, reports).

use crate::case::Case;
use crate::form::{Applicant, Delivery, Form, Newborn, Parent};
use crate::idnum::{mask_address, mask_id, mask_name, mask_phone};
use crate::steps::StepResults;
use serde_json::{json, Value};

/// Who is looking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// The guardian who owns the case, or an officer whose step needs the data.
    Entitled,
    /// Sees the case with personal data masked.
    Masked,
}

pub fn case_json(case: &Case, viewer: Viewer) -> Value {
    match viewer {
        Viewer::Entitled => case_document(case),
        Viewer::Masked => case_document(&case.masked()),
    }
}

fn case_document(case: &Case) -> Value {
    let steps: Vec<Value> = case
        .steps
        .iter()
        .map(|s| {
            json!({
                "step": s.step, "dept": s.dept, "status": s.status,
                "started_at": s.started_at, "due_at": s.due_at, "finished_at": s.finished_at,
                "reasons": s.reasons, "results": s.results, "overdue": s.overdue,
                "task_id": s.task.as_ref().map(|t| t.task_id.clone()),
                "round": s.round,
            })
        })
        .collect();
    let materials: Vec<Value> = case
        .materials
        .iter()
        .map(|m| {
            json!({
                "material_id": m.material_id,
                "kind": m.kind,
                "content_type": m.content_type,
                "size": m.size,
                "status": m.status,
                "created_at": m.created_at,
                "uploaded_at": m.uploaded_at,
                "sha256": m.sha256,
            })
        })
        .collect();
    json!({
        "case_id": case.case_id,
        "status": case.status,
        "channel": case.channel,
        "version": case.version,
        "submitted_at": case.submitted_at,
        "accepted_at": case.accepted_at,
        "due_at": case.due_at,
        "finished_at": case.finished_at,
        "updated_at": case.updated_at,
        "overdue": case.overdue,
        "acceptance_notice": case.acceptance_notice,
        "missing": case.missing,
        "steps": steps,
        "results": case.results,
        "timeline": case.timeline,
        "form": case.form.to_json(),
        "materials": materials,
        "ratings": case.ratings,
        "complaints": case.complaints,
        "archive": case.archive,
        "warnings": case.warnings,
        "current_step": case.current_step(),
    })
}

/// A line of a case list.
pub fn case_summary(case: &Case) -> Value {
    json!({
        "case_id": case.case_id, "status": case.status, "channel": case.channel, "version": case.version,
        "submitted_at": case.submitted_at, "accepted_at": case.accepted_at, "due_at": case.due_at,
        "finished_at": case.finished_at, "current_step": case.current_step(),
        "newborn_name": case.form.newborn.name,
    })
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
        c
    }
}
