//! The case aggregate and its state machine.
//!
//! Every transition is a method that checks the current state, changes the case, appends
//! to the timeline and returns the [`Effect`]s the caller must carry out (dispatch the next
//! step, notify the guardian, archive). The caller saves the case with a conditional write
//! on `version` and sends the effects in the same commit, so a transition happens once.

use crate::calendar::{Calendar, CalendarError};
use crate::flow::{self, Channel, Dept, MaterialKind, Step, TimeLimit};
use crate::form::{Form, Window};
use crate::sharing::SharedFacts;
pub use crate::steps::insurance::PremiumPayment;
use crate::steps::{ApprovalData, StepResults};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

pub type Time = DateTime<FixedOffset>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// An application by the father, waiting for the mother's confirmation in her own
    /// account (no marriage record binds them): it holds nothing and allocates nothing.
    AwaitingConfirmation,
    Submitted,
    Incomplete,
    NotAccepted,
    InProgress,
    Returned,
    Rejected,
    Completed,
    Withdrawn,
    /// Found fraudulent by the police or the accepting window: every effect revoked.
    Voided,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::AwaitingConfirmation => "awaiting_confirmation",
            CaseStatus::Submitted => "submitted",
            CaseStatus::Incomplete => "incomplete",
            CaseStatus::NotAccepted => "not_accepted",
            CaseStatus::InProgress => "in_progress",
            CaseStatus::Returned => "returned",
            CaseStatus::Rejected => "rejected",
            CaseStatus::Completed => "completed",
            CaseStatus::Withdrawn => "withdrawn",
            CaseStatus::Voided => "voided",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            CaseStatus::AwaitingConfirmation => "待母亲确认",
            CaseStatus::Submitted => "已提交",
            CaseStatus::Incomplete => "待补正材料",
            CaseStatus::NotAccepted => "不予受理",
            CaseStatus::InProgress => "办理中",
            CaseStatus::Returned => "退回修改",
            CaseStatus::Rejected => "审查不通过",
            CaseStatus::Completed => "已办结",
            CaseStatus::Withdrawn => "已撤回",
            CaseStatus::Voided => "已作废",
        }
    }
    /// Finished cases never change status again.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            CaseStatus::NotAccepted
                | CaseStatus::Rejected
                | CaseStatus::Completed
                | CaseStatus::Withdrawn
                | CaseStatus::Voided
        )
    }
    /// A case that ends this way frees its newborn for a new application.
    pub fn releases_newborn(self) -> bool {
        matches!(
            self,
            CaseStatus::NotAccepted
                | CaseStatus::Rejected
                | CaseStatus::Withdrawn
                | CaseStatus::Voided
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    InProgress,
    AwaitingReview,
    Done,
    Returned,
    Rejected,
    /// Not an item of the case's bundle or situation (its catalogue plan): never started.
    NotApplicable,
}

mod actor;
mod corrections;
mod feedback;
mod lifecycle;
mod machine;
mod materials;
mod parentage;
mod records;
mod transitions;

pub use actor::*;
pub use parentage::{parent_name_zh, Objection, Parentage, Voided, VOID_REASON};
pub use records::*;
pub use transitions::{next_status, CaseEvent, TRANSITIONS};

/// How many recent grant-only versions a case remembers (an officer opening every
/// material of a case, twice).
const MAX_GRANT_ONLY_VERSIONS: usize = 40;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub(crate) case_id: String,
    pub(crate) version: u64,
    pub(crate) status: CaseStatus,
    pub(crate) channel: Channel,
    /// The guardian who owns the case (their citizen ID number).
    pub(crate) owner: String,
    pub(crate) created_by: Actor,
    pub(crate) idempotency_key: String,
    pub(crate) request_hash: String,
    pub(crate) form: Form,
    pub(crate) submitted_at: Time,
    pub(crate) accepted_at: Option<Time>,
    pub(crate) due_at: Option<Time>,
    pub(crate) finished_at: Option<Time>,
    pub(crate) updated_at: Time,
    pub(crate) acceptance_notice: Option<AcceptanceNotice>,
    pub(crate) missing: Vec<Missing>,
    pub(crate) steps: Vec<StepState>,
    pub(crate) results: StepResults,
    pub(crate) timeline: Vec<Event>,
    pub(crate) materials: Vec<Material>,
    pub(crate) shared: SharedFacts,
    pub(crate) ratings: Vec<Rating>,
    pub(crate) complaints: Vec<Complaint>,
    pub(crate) archive: Option<ArchiveRef>,
    pub(crate) warnings: Vec<String>,
    /// Sequence of guardian notifications, for idempotent delivery.
    pub(crate) notice_seq: u32,
    /// The kind of every notification owed to the guardian, in order (index = seq - 1),
    /// so a lost one can be sent again.
    #[serde(default)]
    pub(crate) notices: Vec<NoticeKind>,
    #[serde(default)]
    pub(crate) overdue: bool,
    /// The version at which the case ended in a way that frees its newborn (the store
    /// releases the newborn's claim in that commit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) newborn_released_in: Option<u64>,
    /// The version at which the case took its newborn's claim after the mother's
    /// confirmation (the store takes the claim in that commit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) newborn_claimed_in: Option<u64>,
    /// When the family resubmitted (bounded by the settings' `max_resubmissions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) resubmitted_at: Vec<Time>,
    /// One notices that named entries disagreeing with the delivery record.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) record_mismatch_notices: u32,
    /// The applicant's phone before a resubmission changed it (told of the change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) previous_phone: Option<String>,
    /// The parents' consent (None: a case stored before these rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) parentage: Option<Parentage>,
    /// The catalogue version the case was accepted under, with the items, limits and
    /// correction table it keeps (a case stored before the catalogue: the built-in one,
    /// which is therefore left out when written).
    #[serde(default, skip_serializing_if = "crate::catalogue::Plan::is_builtin")]
    pub(crate) plan: crate::catalogue::Plan,
    /// The versions whose change only recorded that an officer was given a material
    /// (the most recent ones): a decision made on an earlier version is not stale for them,
    /// since opening the materials is how an officer reviews a case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) grant_only_versions: Vec<u64>,
    /// Every hand-over of result documents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) deliveries: Vec<crate::steps::issuance::DeliveryRecord>,
    /// Results replaced by corrections.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) superseded: Vec<Superseded>,
    /// Electronic certificates of the results (each signed when its step was done).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) certificates: Vec<crate::certificate::Certificate>,
    /// Corrections asked for after completion (each reviewed by the departments whose
    /// results it changes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) corrections: Vec<Correction>,
    /// Archives of the case before a correction reopened it (the next one holds both).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) earlier_archives: Vec<ArchiveRef>,
    /// While a returned case waits on the guardian its clock stops: when it stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) clock_stopped_at: Option<Time>,
    /// Working days the guardian held the case (returns), apart from departments' time.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) guardian_working_days: u32,
    /// The premium reminder (7 days before `pay_by`) was sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) premium_reminded: bool,
    /// When the SLA monitor last looked at the case without finding anything to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) monitored_at: Option<Time>,
    /// When the SLA monitor should look at the case next (see
    /// [`Case::next_check`]), as of its last commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) next_check: Option<Time>,
    /// What the stores' read models hold for this case as of its last commit.
    #[serde(default, skip_serializing_if = "crate::projection::Indexed::is_empty")]
    pub(crate) indexed: crate::projection::Indexed,
    /// What the commit being prepared changes in them.
    #[serde(skip)]
    pub(crate) pending: crate::projection::Pending,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Read access: the fields are the domain's; every change is a transition method.
impl Case {
    pub fn case_id(&self) -> &str {
        &self.case_id
    }
    pub fn version(&self) -> u64 {
        self.version
    }
    pub fn status(&self) -> CaseStatus {
        self.status
    }
    pub fn channel(&self) -> Channel {
        self.channel
    }
    /// The catalogue version, bundle and limits the case keeps.
    pub fn plan(&self) -> &crate::catalogue::Plan {
        &self.plan
    }
    pub fn owner(&self) -> &str {
        &self.owner
    }
    pub fn created_by(&self) -> &Actor {
        &self.created_by
    }
    pub fn idempotency_key(&self) -> &str {
        &self.idempotency_key
    }
    pub fn request_hash(&self) -> &str {
        &self.request_hash
    }
    pub fn form(&self) -> &Form {
        &self.form
    }
    pub fn submitted_at(&self) -> Time {
        self.submitted_at
    }
    pub fn accepted_at(&self) -> Option<Time> {
        self.accepted_at
    }
    pub fn due_at(&self) -> Option<Time> {
        self.due_at
    }
    pub fn finished_at(&self) -> Option<Time> {
        self.finished_at
    }
    pub fn updated_at(&self) -> Time {
        self.updated_at
    }
    pub fn acceptance_notice(&self) -> &Option<AcceptanceNotice> {
        &self.acceptance_notice
    }
    pub fn missing(&self) -> &[Missing] {
        &self.missing
    }
    pub fn steps(&self) -> &[StepState] {
        &self.steps
    }
    pub fn results(&self) -> &StepResults {
        &self.results
    }
    pub fn timeline(&self) -> &[Event] {
        &self.timeline
    }
    pub fn materials(&self) -> &[Material] {
        &self.materials
    }
    pub fn shared(&self) -> &SharedFacts {
        &self.shared
    }
    pub fn ratings(&self) -> &[Rating] {
        &self.ratings
    }
    pub fn complaints(&self) -> &[Complaint] {
        &self.complaints
    }
    pub fn archive(&self) -> &Option<ArchiveRef> {
        &self.archive
    }
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    pub fn notice_seq(&self) -> u32 {
        self.notice_seq
    }
    pub fn notices(&self) -> &[NoticeKind] {
        &self.notices
    }
    pub fn overdue(&self) -> bool {
        self.overdue
    }
    pub fn newborn_released_in(&self) -> Option<u64> {
        self.newborn_released_in
    }
    pub fn deliveries(&self) -> &[crate::steps::issuance::DeliveryRecord] {
        &self.deliveries
    }
    pub fn superseded(&self) -> &[Superseded] {
        &self.superseded
    }
    pub fn certificates(&self) -> &[crate::certificate::Certificate] {
        &self.certificates
    }
    /// Keep newly issued certificates; a valid one of the same kind with other content
    /// (a result a correction replaced) becomes superseded by the new one.
    pub fn record_certificates(&mut self, issued: Vec<crate::certificate::Certificate>) {
        use crate::certificate::CertStatus;
        for new in issued {
            if self
                .certificates
                .iter()
                .any(|c| c.claims.cert_id == new.claims.cert_id)
            {
                continue;
            }
            for old in self.certificates.iter_mut().filter(|c| {
                c.claims.kind == new.claims.kind
                    && c.status == CertStatus::Valid
                    && c.claims != new.claims
            }) {
                old.status = CertStatus::Superseded;
                old.superseded_by = Some(new.claims.cert_id.clone());
                old.superseded_at = Some(new.claims.issued_at);
            }
            self.certificates.push(new);
        }
    }
    /// One notices so far that named entries disagreeing with the delivery record.
    pub fn record_mismatch_notices(&self) -> u32 {
        self.record_mismatch_notices
    }
    /// Count a one notice about to be sent, if it names such entries.
    pub(crate) fn count_record_mismatch(&mut self, missing: &[Missing]) {
        let names_record = missing.iter().any(|m| {
            m.field
                .as_deref()
                .is_some_and(|f| crate::steps::acceptance::RECORD_FIELDS.contains(&f))
        });
        if names_record {
            self.record_mismatch_notices += 1;
        }
    }
    pub fn guardian_working_days(&self) -> u32 {
        self.guardian_working_days
    }
    pub fn premium_reminded(&self) -> bool {
        self.premium_reminded
    }

    /// The newborn this case is for: the mother's ID number, the birth date (Asia/Shanghai)
    /// and the birth order. Two live cases never share it.
    pub fn newborn_key(&self) -> String {
        self.form.newborn_key()
    }

    /// The key under which a store claims the newborn: a SHA-256 digest of
    /// [`Case::newborn_key`], so the mother's ID number never appears in a key.
    pub fn newborn_claim(&self) -> String {
        self.form.newborn_claim()
    }

    /// This commit frees the newborn (the case has just ended as not accepted, rejected
    /// or withdrawn).
    pub fn releases_newborn_now(&self) -> bool {
        self.newborn_released_in == Some(self.version)
    }
}

/// What the caller must do after a transition. A finished case is archived once the
/// guardian's last notification is delivered (the archive records them); the SLA monitor
/// re-drives an archive that did not happen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Send the case to the queue of this step.
    Dispatch { step: Step },
    /// Tell the guardian; `seq` makes the notification idempotent.
    Notify { kind: NoticeKind, seq: u32 },
    /// Make the documents (PDFs) of the certificates this change issued.
    RenderDocuments,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Accepted,
    Incomplete,
    NotAccepted,
    Returned,
    Rejected,
    PremiumDue,
    Completed,
    Withdrawn,
    PremiumReminder,
    Delivered,
    /// An appointment at a site tomorrow (a working day); not about a case.
    AppointmentReminder,
    /// To the applicant: the case waits for the mother's confirmation.
    AwaitingConfirmation,
    /// To the named parent who did not apply: confirm or decline in your own account.
    ConfirmationRequested,
    /// To the applicant: the other parent declined; the case is withdrawn.
    Declined,
    /// To the applicant: the case was voided.
    Voided,
    /// To the named parent who did not apply: the case naming them was voided.
    VoidedToParent,
    /// To the supervision lead: a second delivery record of one birth was refused; not
    /// about a case.
    ConflictingBirthRecord,
    /// To the applicant's previous phone: the case's contact number was changed.
    PhoneChanged,
    /// A supervisor's break-glass read, to the region's supervision lead; not sent to a
    /// family.
    BreakGlassAlert,
    /// To a phone whose messages of one day went over the daily caps: how many were held
    /// (sent the next day, once); not about a case.
    HeldSummary,
    /// To the applicant: a department answered their complaint, or visited back or
    /// rectified after their bad rating (read in the case).
    FeedbackFollowedUp,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Accepted => "accepted",
            NoticeKind::Incomplete => "incomplete",
            NoticeKind::NotAccepted => "not_accepted",
            NoticeKind::Returned => "returned",
            NoticeKind::Rejected => "rejected",
            NoticeKind::PremiumDue => "premium_due",
            NoticeKind::Completed => "completed",
            NoticeKind::Withdrawn => "withdrawn",
            NoticeKind::PremiumReminder => "premium_reminder",
            NoticeKind::Delivered => "delivered",
            NoticeKind::AppointmentReminder => "appointment_reminder",
            NoticeKind::AwaitingConfirmation => "awaiting_confirmation",
            NoticeKind::ConfirmationRequested => "confirmation_requested",
            NoticeKind::Declined => "declined",
            NoticeKind::Voided => "voided",
            NoticeKind::VoidedToParent => "voided_to_parent",
            NoticeKind::ConflictingBirthRecord => "conflicting_birth_record",
            NoticeKind::PhoneChanged => "phone_changed",
            NoticeKind::BreakGlassAlert => "break_glass_alert",
            NoticeKind::HeldSummary => "held_summary",
            NoticeKind::FeedbackFollowedUp => "feedback_followed_up",
        }
    }

    /// How a case ended: the last of a day's capped messages is kept for it, so the
    /// family is told the outcome the day it comes.
    pub fn is_outcome(self) -> bool {
        matches!(
            self,
            NoticeKind::Completed
                | NoticeKind::Rejected
                | NoticeKind::NotAccepted
                | NoticeKind::Withdrawn
                | NoticeKind::Voided
                | NoticeKind::Declined
        )
    }

    /// A message to a family (the daily caps apply); alerts to officials and the summary
    /// of held messages are not capped.
    pub fn is_capped(self) -> bool {
        !matches!(
            self,
            NoticeKind::ConflictingBirthRecord
                | NoticeKind::BreakGlassAlert
                | NoticeKind::HeldSummary
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("the case is {status}, which does not allow {action}")]
    InvalidState {
        status: &'static str,
        action: &'static str,
    },
    #[error("the task is not open")]
    TaskNotOpen,
    #[error("stale version: the case is at version {current}")]
    Stale { current: u64 },
    #[error("{0}")]
    Calendar(#[from] CalendarError),
    #[error("{0}")]
    Rule(String),
    /// A per-case cap was reached (the message is Chinese, fit to show).
    #[error("{0}")]
    Limit(String),
    /// What acceptance finds missing in a corrected form (everything at once).
    #[error("{} items missing", .0.len())]
    Missing(Vec<Missing>),
}

/// Materials a case may hold (registered, whether or not uploaded).
pub const MAX_MATERIALS_PER_CASE: usize = 20;
/// Declared bytes of all materials of a case.
pub const MAX_MATERIAL_BYTES_PER_CASE: u64 = 50 * 1024 * 1024;
/// Complaints about one case.
pub const MAX_COMPLAINTS_PER_CASE: usize = 10;
/// Materials given to officers, each a timeline entry in the case's own item: bounded so
/// that no case outgrows its store's item (DynamoDB: 400 KB). Twenty materials opened
/// twenty times each; the audit trail records every grant as well.
pub const MAX_MATERIAL_GRANTS_PER_CASE: usize = 400;
/// Materials given to one officer on one case.
pub const MAX_MATERIAL_GRANTS_PER_OFFICER: usize = 40;
/// The timeline action of a material given to an officer.
const MATERIAL_VIEWED: &str = "material_viewed";

/// An officer's decision on a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Return,
    Reject,
}

/// An officer's decision on a task, as submitted.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficerDecision {
    pub task_id: String,
    pub decision: Decision,
    pub reasons: Vec<String>,
    /// Data supplied with an approval (e.g. the household address code).
    pub data: ApprovalData,
    /// The case version the officer saw.
    pub version: u64,
    /// What the officer confirmed of the step's checklist (its texts, in its order),
    /// recorded in the timeline.
    pub checked: Vec<String>,
    /// On a rejection: the hand-over of results already issued (see
    /// [`crate::steps::issuance::undelivered_items`]).
    pub handover: Option<crate::steps::issuance::DeliveryRecord>,
}

/// What acceptance concluded.
#[derive(Debug, Clone, PartialEq)]
pub enum AcceptanceOutcome {
    Accept { received: Vec<ReceivedMaterial> },
    Incomplete { missing: Vec<Missing> },
    NotAccepted { reasons: Vec<String> },
}

pub fn shanghai_now(now: DateTime<Utc>) -> Time {
    now.with_timezone(&crate::calendar::shanghai())
}
