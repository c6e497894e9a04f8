//! `GET /v1/tasks/{task_id}`: what a department's officer decides on — the form fields the
//! step decides on (unmasked for that department), the records it matched with what did
//! not match, why the task exists, the materials with their source, and the checklist.

use super::*;
use domain::steps::checks::{CheckItem, TaskRecords};
use serde::Serialize;

/// The officer's task view.
#[derive(Debug, Serialize)]
pub struct TaskView {
    pub task_id: String,
    pub case_id: String,
    pub step: Step,
    pub dept: Dept,
    pub region: Option<String>,
    pub due_at: Option<domain::case::Time>,
    /// The case version a decision on this view names.
    pub version: u64,
    /// Whether the task still waits for a decision.
    pub open: bool,
    /// Why the task exists (Chinese, for the officer).
    pub reasons: Vec<String>,
    /// The form fields the step decides on, in the form's shape.
    pub facts: Value,
    pub records: TaskRecords,
    pub materials: Vec<TaskMaterial>,
    pub checklist: &'static [CheckItem],
}

/// A material the step's officer checks.
#[derive(Debug, Serialize)]
pub struct TaskMaterial {
    /// The uploaded file's id (None: the data-sharing record stands for it).
    pub material_id: Option<String>,
    pub kind: MaterialKind,
    pub name: &'static str,
    /// `data_sharing`, `upload`, or `commitment` (a 书面告知承诺书 in place of a proof).
    pub source: &'static str,
}

/// `GET /v1/tasks/{task_id}`: a task of the officer's department, region (and hospital);
/// any other is not found.
pub async fn task_view(app: &App, actor: &Actor, task_id: &str) -> Result<TaskView, ServiceError> {
    let dept = officer_dept(actor)?;
    if !valid_identifier(task_id) {
        return Err(ServiceError::NotFound);
    }
    let case_id = task_id.split('.').next().unwrap_or_default();
    let case = app
        .store
        .get(case_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let step = super::decide::task_step(&case, task_id, dept, actor)?;
    let rules = domain::steps::of(step);
    let state = case.step(step);
    let task = state.task.as_ref().filter(|t| t.task_id == task_id);
    let reasons = match task {
        Some(t) if t.findings.is_empty() => vec!["本部门对该环节设为人工审核".to_string()],
        Some(t) => t.findings.clone(),
        None => vec![],
    };
    Ok(TaskView {
        task_id: task_id.to_string(),
        case_id: case.case_id().to_string(),
        step,
        dept,
        region: case.step_region(step),
        due_at: task.map(|t| t.due_at).or(state.due_at),
        version: case.version(),
        open: task.is_some(),
        reasons,
        facts: facts(&case, rules.facts()),
        records: rules.records(&case),
        materials: materials(&case, rules.materials_checked()),
        checklist: rules.checklist(),
    })
}

/// The form's fields at these paths (`newborn` or `newborn.name`), in the form's shape.
fn facts(case: &Case, paths: &[&str]) -> Value {
    let form = serde_json::to_value(case.form()).unwrap_or_default();
    let mut out = json!({});
    for path in paths {
        let keys: Vec<&str> = path.split('.').collect();
        let Some(value) = keys.iter().try_fold(&form, |v, k| v.get(k)) else {
            continue;
        };
        let mut at = &mut out;
        for k in &keys[..keys.len() - 1] {
            at = at
                .as_object_mut()
                .expect("an object")
                .entry(k.to_string())
                .or_insert_with(|| json!({}));
        }
        at[keys[keys.len() - 1]] = value.clone();
    }
    out
}

/// The data-sharing records standing for materials, then the uploads, of the kinds the
/// step checks.
fn materials(case: &Case, kinds: Option<&[MaterialKind]>) -> Vec<TaskMaterial> {
    let checked = |k: MaterialKind| kinds.is_none_or(|ks| ks.contains(&k));
    let shared = case.shared();
    let mut out: Vec<TaskMaterial> = [
        (MaterialKind::MotherIdCard, shared.mother.is_some()),
        (MaterialKind::FatherIdCard, shared.father.is_some()),
        (MaterialKind::HouseholdRegister, shared.household.is_some()),
        (MaterialKind::MarriageCertificate, shared.marriage.is_some()),
    ]
    .into_iter()
    .filter(|(k, held)| *held && checked(*k))
    .map(|(kind, _)| TaskMaterial {
        material_id: None,
        kind,
        name: kind.name_zh(),
        source: "data_sharing",
    })
    .collect();
    out.extend(
        case.materials()
            .iter()
            .filter(|m| m.status == MaterialStatus::Uploaded && checked(m.kind))
            .map(|m| TaskMaterial {
                material_id: Some(m.material_id.clone()),
                kind: m.kind,
                name: m.kind.name_zh(),
                source: if m.kind == MaterialKind::Commitment {
                    "commitment"
                } else {
                    "upload"
                },
            }),
    );
    out
}
