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
    /// Sees only what supervision needs: an allow-list of fields without personal data
    /// ([`MaskedCaseView`]).
    Masked,
    /// A parent the case names who did not apply: the case in full but for the other
    /// parent's ID number and phone (masked), and the applicant's notifications.
    Parent(crate::form::ParentRole),
}

/// A case as those who may not see personal data see it (supervisors, the health unit).
/// An allow-list: only times, statuses, steps, material kinds and follow-up states.
/// No name, ID number, phone, address, birth time, weight, sex, result number, tracking
/// number, or free text (officers' reasons, complaints, comments, answers, timeline
/// details) — a field added to the case later is not shown here until it is listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskedCaseView {
    pub case_id: String,
    pub bundle: String,
    pub catalogue_version: u32,
    pub channel: Channel,
    pub status: CaseStatus,
    pub version: u64,
    pub masked: bool,
    pub submitted_at: Time,
    pub accepted_at: Option<Time>,
    pub due_at: Option<Time>,
    pub finished_at: Option<Time>,
    pub updated_at: Time,
    pub overdue: bool,
    pub current_step: Option<Step>,
    /// The newborn's birth date only (not the time).
    pub birth_date: chrono::NaiveDate,
    pub steps: Vec<MaskedStep>,
    pub materials: Vec<MaskedMaterial>,
    /// The kinds of material the one notice asked for.
    pub missing: Vec<String>,
    /// Which results were issued (not their numbers).
    pub results_issued: Vec<&'static str>,
    pub superseded: usize,
    pub ratings: Vec<MaskedRating>,
    pub complaints: Vec<MaskedComplaint>,
    pub timeline: Vec<MaskedEvent>,
    pub archived: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskedStep {
    pub step: Step,
    pub dept: Dept,
    pub status: StepStatus,
    pub round: u32,
    pub started_at: Option<Time>,
    pub due_at: Option<Time>,
    pub finished_at: Option<Time>,
    pub overdue: bool,
    /// How many reasons the department gave (their text may name people).
    pub reasons: usize,
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskedMaterial {
    pub kind: MaterialKind,
    pub status: MaterialStatus,
    pub created_at: Time,
    pub uploaded_at: Option<Time>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskedRating {
    pub level: u8,
    pub label: String,
    pub at: Time,
    pub has_comment: bool,
    pub responsible_dept: Option<Dept>,
    pub return_visit_due: Option<Time>,
    pub return_visit_at: Option<Time>,
    pub rectify_due: Option<Time>,
    pub rectified_at: Option<Time>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskedComplaint {
    pub complaint_id: String,
    pub at: Time,
    pub dept: Dept,
    pub status: crate::case::ComplaintStatus,
    pub answered_at: Option<Time>,
}

/// A timeline entry without its actor's identity or its detail text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskedEvent {
    pub at: Time,
    /// `guardian`, `system`, or the officer's role and department (`dept_officer:police`).
    pub actor: String,
    pub action: String,
}

impl MaskedCaseView {
    pub fn of(case: &Case) -> MaskedCaseView {
        MaskedCaseView {
            case_id: case.case_id.clone(),
            bundle: case.plan.bundle.clone(),
            catalogue_version: case.plan.catalogue_version,
            channel: case.channel,
            status: case.status,
            version: case.version,
            masked: true,
            submitted_at: case.submitted_at,
            accepted_at: case.accepted_at,
            due_at: case.due_at,
            finished_at: case.finished_at,
            updated_at: case.updated_at,
            overdue: case.overdue,
            current_step: case.current_step(),
            birth_date: case.form.newborn.birth_date(),
            steps: case.steps.iter().map(|s| MaskedStep::of(case, s)).collect(),
            materials: case
                .materials
                .iter()
                .map(|m| MaskedMaterial {
                    kind: m.kind,
                    status: m.status,
                    created_at: m.created_at,
                    uploaded_at: m.uploaded_at,
                })
                .collect(),
            missing: case.missing.iter().map(|m| m.material.clone()).collect(),
            results_issued: results_issued(&case.results),
            superseded: case.superseded.len(),
            ratings: case.ratings.iter().map(MaskedRating::of).collect(),
            complaints: case
                .complaints
                .iter()
                .map(|x| MaskedComplaint {
                    complaint_id: x.complaint_id.clone(),
                    at: x.at,
                    dept: x.dept,
                    status: x.status,
                    answered_at: x.answered_at,
                })
                .collect(),
            timeline: case
                .timeline
                .iter()
                .map(|e| MaskedEvent {
                    at: e.at,
                    actor: e.actor.kind(),
                    action: e.action.clone(),
                })
                .collect(),
            archived: case.archive.is_some(),
        }
    }
}

/// Which results were issued, by name (no values).
fn results_issued(r: &crate::steps::StepResults) -> Vec<&'static str> {
    [
        (r.birth.is_some(), "birth_certificate"),
        (r.household.is_some(), "household_registration"),
        (r.insurance.is_some(), "medical_insurance"),
        (r.card.is_some(), "social_security_card"),
        (r.issuance.is_some(), "issuance"),
    ]
    .into_iter()
    .filter_map(|(issued, name)| issued.then_some(name))
    .collect()
}

impl MaskedStep {
    fn of(case: &Case, s: &crate::case::StepState) -> MaskedStep {
        MaskedStep {
            step: s.step,
            dept: s.dept,
            status: s.status,
            round: s.round,
            started_at: s.started_at,
            due_at: s.due_at,
            finished_at: s.finished_at,
            overdue: s.overdue,
            reasons: s.reasons.len(),
            region: case.step_region(s.step),
        }
    }
}

impl MaskedRating {
    fn of(x: &crate::case::Rating) -> MaskedRating {
        MaskedRating {
            level: x.level,
            label: x.label.clone(),
            at: x.at,
            has_comment: x.comment.as_deref().is_some_and(|c| !c.is_empty()),
            responsible_dept: x.bad.as_ref().map(|b| b.responsible_dept),
            return_visit_due: x.bad.as_ref().map(|b| b.return_visit_due),
            return_visit_at: x.bad.as_ref().and_then(|b| b.return_visit_at),
            rectify_due: x.bad.as_ref().map(|b| b.rectify_due),
            rectified_at: x.bad.as_ref().and_then(|b| b.rectified_at),
        }
    }
}

/// The case as `viewer` may see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Shown {
    Full(Box<CaseView>),
    Masked(Box<MaskedCaseView>),
}

impl Shown {
    pub fn of(case: &Case, viewer: Viewer) -> Shown {
        match viewer {
            Viewer::Entitled => Shown::Full(Box::new(CaseView::of(case))),
            Viewer::Masked => Shown::Masked(Box::new(MaskedCaseView::of(case))),
            Viewer::Parent(me) => Shown::Full(Box::new(CaseView::for_parent(case, me))),
        }
    }
}

/// A case as the API shows it (and the archive keeps it). Fields in key order, so the
/// document reads as earlier versions wrote it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseView {
    pub acceptance_notice: Option<AcceptanceNotice>,
    pub accepted_at: Option<Time>,
    pub archive: Option<ArchiveRef>,
    /// The 一件事 (catalogue bundle id) applied for.
    pub bundle: String,
    pub case_id: String,
    /// The catalogue version the case keeps its items and limits from.
    pub catalogue_version: u32,
    pub channel: Channel,
    pub complaints: Vec<Complaint>,
    /// Corrections asked for after completion (absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub corrections: Vec<crate::case::Correction>,
    pub current_step: Option<Step>,
    pub due_at: Option<Time>,
    pub finished_at: Option<Time>,
    pub form: Form,
    /// Always false: the case in full ([`MaskedCaseView`] has true), so a client tells
    /// the two apart by this field.
    pub masked: bool,
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
    /// The case's deadlines crossed a year without its holiday notice (调休 not yet
    /// known): they are provisional, and `warnings` says so in Chinese.
    pub provisional: bool,
}

pub use crate::idnum::region_name;

impl CaseView {
    /// The case as a named parent who did not apply sees it: the other parent's ID number
    /// masked, and the applicant's phone when the applicant is that other parent.
    pub fn for_parent(case: &Case, me: crate::form::ParentRole) -> CaseView {
        use crate::form::{ParentRole, Relation};
        let mut v = CaseView::of(case);
        let f = &mut v.form;
        match me {
            ParentRole::Mother => {
                if let Some(father) = f.father.as_mut() {
                    father.id_number = father.id_number.masked_copy();
                }
            }
            ParentRole::Father => f.mother.id_number = f.mother.id_number.masked_copy(),
        }
        let applicant_is_me = matches!(
            (f.applicant.relation, me),
            (Relation::Mother, ParentRole::Mother) | (Relation::Father, ParentRole::Father)
        );
        if !applicant_is_me {
            f.applicant.id_number = f.applicant.id_number.masked_copy();
            f.applicant.phone = crate::idnum::mask_phone(&f.applicant.phone);
        }
        v
    }
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
    /// Where the step is handled (a county code), when known.
    pub region: Option<String>,
    /// The same by name (`杭州市西湖区`): what a page shows.
    pub region_name: Option<String>,
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
    /// The case in full (for those entitled to it; see [`Shown`]).
    pub fn of(case: &Case) -> CaseView {
        Self::document(case)
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
                region: case.step_region(s.step),
                region_name: case
                    .step_region(s.step)
                    .map(|r| region_name(&r))
                    .filter(|n| !n.is_empty()),
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
            bundle: case.plan.bundle.clone(),
            case_id: case.case_id.clone(),
            catalogue_version: case.plan.catalogue_version,
            channel: case.channel,
            complaints: case.complaints.clone(),
            corrections: case.corrections.clone(),
            current_step: case.current_step(),
            due_at: case.due_at,
            finished_at: case.finished_at,
            form: case.form.clone(),
            masked: false,
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
            provisional: !case.warnings.is_empty(),
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
    /// Who the caller is in the case: `owner` (who applied), or the `mother` or `father`
    /// it names.
    pub role: CaseRole,
    pub status: CaseStatus,
    pub submitted_at: Time,
    pub version: u64,
}

/// Who a guardian is in a case they can list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseRole {
    Owner,
    Mother,
    Father,
}

impl CaseRole {
    /// Who the guardian `id_number` is in `case`, if anyone.
    pub fn of(case: &Case, id_number: &str) -> Option<CaseRole> {
        if case.owner() == id_number {
            return Some(CaseRole::Owner);
        }
        match case.named_parent(id_number)? {
            crate::form::ParentRole::Mother => Some(CaseRole::Mother),
            crate::form::ParentRole::Father => Some(CaseRole::Father),
        }
    }
}

impl CaseSummary {
    /// The line of `case` for the guardian who is `role` in it.
    pub fn of(case: &Case, role: CaseRole) -> CaseSummary {
        CaseSummary {
            role,
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

/// An open manual-review task as the department's queue lists it (no personal data in its
/// summary). Kept with the case's index entry, so a queue is listed without reading cases.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TaskEntry {
    pub case_id: String,
    pub created_at: Time,
    pub dept: Dept,
    pub due_at: Time,
    pub findings: Vec<String>,
    /// The birth hospital (hospital officers see their own only).
    pub hospital_code: String,
    pub overdue: bool,
    /// Where the step is handled (a county code), when known.
    pub region: Option<String>,
    pub step: Step,
    pub summary: String,
    pub task_id: String,
    pub version: u64,
}

impl TaskEntry {
    /// Where the task stands in its department's queue: by region, then due time, then
    /// case (`{region or -}#{due ms, 13 digits}#{case_id}`). Both stores order a queue by
    /// this key and page after it, so that a county's queue is read a page at a time,
    /// oldest due first.
    pub fn queue_key(&self) -> String {
        format!(
            "{}#{:013}#{}",
            self.region.as_deref().unwrap_or("-"),
            self.due_at.timestamp_millis().max(0),
            self.case_id
        )
    }
}

/// A queue key's parts `(region, due ms, case_id)` (region `None` for `-`); None when it
/// is not one.
pub fn parse_queue_key(key: &str) -> Option<(Option<&str>, i64, &str)> {
    let mut parts = key.splitn(3, '#');
    let (region, due, case_id) = (parts.next()?, parts.next()?, parts.next()?);
    if due.len() != 13 || !due.bytes().all(|b| b.is_ascii_digit()) || case_id.is_empty() {
        return None;
    }
    let region = (region != "-").then_some(region);
    if region.is_some_and(|r| r.is_empty() || !r.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    Some((region, due.parse().ok()?, case_id))
}

impl Case {
    /// The case's open task, as its department's queue lists it.
    pub fn task_entry(&self) -> Option<TaskEntry> {
        let (s, t) = self.open_task()?;
        let summary = format!(
            "{}：新生儿{}，出生日期 {}，渠道 {}",
            s.step.name_zh(),
            if self.form.newborn.sex == crate::idnum::Sex::Male {
                "男"
            } else {
                "女"
            },
            self.form.newborn.birth_date(),
            self.channel.name_zh()
        );
        Some(TaskEntry {
            case_id: self.case_id.clone(),
            created_at: t.created_at,
            dept: s.dept,
            due_at: t.due_at,
            findings: t.findings.clone(),
            hospital_code: self.form.newborn.hospital_code.clone(),
            overdue: s.overdue,
            region: self.step_region(s.step),
            step: s.step,
            summary,
            task_id: t.task_id.clone(),
            version: self.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_queue_key;

    #[test]
    fn a_queue_key_is_read_back_and_anything_else_is_refused() {
        assert_eq!(
            parse_queue_key("330106#1764633600000#BC1"),
            Some((Some("330106"), 1_764_633_600_000, "BC1"))
        );
        assert_eq!(
            parse_queue_key("-#0000000000001#BC2"),
            Some((None, 1, "BC2"))
        );
        for bad in [
            "garbage",
            "330106#17#BC1",
            "330106#1764633600000#",
            "33a#1764633600000#B",
        ] {
            assert_eq!(parse_queue_key(bad), None, "{bad}");
        }
    }
}
