//! The case as the API shows it, in full for those whose work needs it and masked for
//! everyone else (supervisors, reports).

use crate::case::Case;
use crate::idnum::{mask_address, mask_id, mask_name, mask_phone};
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
            json!({"material_id": m.material_id, "kind": m.kind, "content_type": m.content_type, "size": m.size,
                   "status": m.status, "created_at": m.created_at, "uploaded_at": m.uploaded_at, "sha256": m.sha256})
        })
        .collect();
    let mut v = json!({
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
    });
    if viewer == Viewer::Masked {
        mask_json(&mut v);
    }
    v
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

/// Mask personal data anywhere in a JSON document, by field name.
pub fn mask_json(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if let Value::String(s) = val {
                    let masked = match k.as_str() {
                        "name" | "newborn_name" => Some(mask_name(s)),
                        "id_number" | "newborn_id_number" | "insurance_number" | "number"
                        | "household_number" | "husband_id_number" | "wife_id_number"
                        | "head_id_number" | "owner" => Some(mask_id(s)),
                        "phone" => Some(mask_phone(s)),
                        "address" => Some(mask_address(s)),
                        _ => None,
                    };
                    if let Some(m) = masked {
                        *s = m;
                    }
                } else {
                    mask_json(val);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mask_json),
        _ => {}
    }
}
