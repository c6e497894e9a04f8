//! The case aggregate and its state machine.
//!
//! Every transition is a method that checks the current state, changes the case, appends
//! to the timeline and returns the [`Effect`]s the caller must carry out (dispatch the next
//! step, notify the guardian, archive). The caller saves the case with a conditional write
//! on `version` and sends the effects in the same commit, so a transition happens once.

use crate::calendar::{Calendar, CalendarError};
use crate::flow::{
    self, Channel, Dept, MaterialKind, Step, TimeLimit, CASE_TIME_LIMIT_WORKING_DAYS,
};
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
    Submitted,
    Incomplete,
    NotAccepted,
    InProgress,
    Returned,
    Rejected,
    Completed,
    Withdrawn,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Submitted => "submitted",
            CaseStatus::Incomplete => "incomplete",
            CaseStatus::NotAccepted => "not_accepted",
            CaseStatus::InProgress => "in_progress",
            CaseStatus::Returned => "returned",
            CaseStatus::Rejected => "rejected",
            CaseStatus::Completed => "completed",
            CaseStatus::Withdrawn => "withdrawn",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            CaseStatus::Submitted => "已提交",
            CaseStatus::Incomplete => "待补正材料",
            CaseStatus::NotAccepted => "不予受理",
            CaseStatus::InProgress => "办理中",
            CaseStatus::Returned => "退回修改",
            CaseStatus::Rejected => "审查不通过",
            CaseStatus::Completed => "已办结",
            CaseStatus::Withdrawn => "已撤回",
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
        )
    }
    /// A case that ends this way frees its newborn for a new application.
    pub fn releases_newborn(self) -> bool {
        matches!(
            self,
            CaseStatus::NotAccepted | CaseStatus::Rejected | CaseStatus::Withdrawn
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Guardian,
    WindowOfficer,
    DeptOfficer,
    Supervisor,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "guardian" => Role::Guardian,
            "window_officer" => Role::WindowOfficer,
            "dept_officer" => Role::DeptOfficer,
            "supervisor" => Role::Supervisor,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guardian => "guardian",
            Role::WindowOfficer => "window_officer",
            Role::DeptOfficer => "dept_officer",
            Role::Supervisor => "supervisor",
        }
    }
}

/// Who did something. For guardians `sub` is a citizen ID number: use [`Actor::label`]
/// wherever it is shown or logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub sub: String,
    pub role: Role,
    pub dept: Option<Dept>,
    /// Where an officer or supervisor works (from the token's optional claims).
    #[serde(default, skip_serializing_if = "Scope::is_everywhere")]
    pub scope: Scope,
}

/// The optional claims that narrow what an officer or supervisor works on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// An administrative division code prefix (`33`, `3301`, `330106`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A hospital officer's or window's institution code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hospital: Option<String>,
    /// A window officer's site (its `site_id` or exact name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
}

impl Scope {
    pub fn is_everywhere(&self) -> bool {
        *self == Scope::default()
    }
    /// Whether work of `dept` handled in `region` (for the birth hospital
    /// `hospital_code`) is within this scope: the region under the scope's prefix, and a
    /// hospital step at the scope's hospital.
    pub fn admits(&self, region: Option<&str>, dept: Dept, hospital_code: &str) -> bool {
        let region_ok = match &self.region {
            None => true,
            Some(prefix) => region.is_some_and(|r| r.starts_with(prefix.as_str())),
        };
        let hospital_ok = match (&self.hospital, dept) {
            (Some(h), Dept::Hospital) => hospital_code == h,
            _ => true,
        };
        region_ok && hospital_ok
    }
}

impl Actor {
    /// An actor with no narrowing claims.
    pub fn new(sub: impl Into<String>, role: Role, dept: Option<Dept>) -> Actor {
        Actor {
            sub: sub.into(),
            role,
            dept,
            scope: Scope::default(),
        }
    }
    pub fn system(dept: Dept) -> Actor {
        Actor::new(
            format!("system:{}", dept.as_str()),
            Role::DeptOfficer,
            Some(dept),
        )
    }
    /// The automated system acting for a department (never a person whose id happens to
    /// start with `system:`: the API refuses such subjects).
    pub fn is_system(&self) -> bool {
        self.role == Role::DeptOfficer && self.dept.is_some_and(|d| *self == Actor::system(d))
    }
    /// A label fit for timelines and logs: guardians are masked.
    pub fn label(&self) -> String {
        match self.role {
            Role::Guardian => format!("guardian:{}", crate::idnum::mask_id(&self.sub)),
            r => match self.dept {
                Some(d) if self.is_system() => format!("system:{}", d.as_str()),
                Some(d) => format!("{}:{}:{}", r.as_str(), d.as_str(), self.sub),
                None => format!("{}:{}", r.as_str(), self.sub),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub task_id: String,
    pub created_at: Time,
    pub due_at: Time,
    /// What the rules found, for the officer.
    pub findings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepState {
    pub step: Step,
    pub dept: Dept,
    pub status: StepStatus,
    pub started_at: Option<Time>,
    pub due_at: Option<Time>,
    pub finished_at: Option<Time>,
    pub reasons: Vec<String>,
    pub results: StepResults,
    /// How many times the step has been (re)started.
    pub round: u32,
    pub task: Option<Task>,
    /// An officer approved the step; the step function issues without asking again.
    pub approved_by: Option<String>,
    /// Data an officer supplied with an approval (e.g. the household address code).
    #[serde(default)]
    pub approval_data: ApprovalData,
    #[serde(default)]
    pub overdue: bool,
    /// The round in which the step was escalated (督办), if it was.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub escalated_round: u32,
    /// How many times the SLA monitor re-sent the step in round `redrive_round`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub redrives: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub redrive_round: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Missing {
    /// The form field to correct, when the problem is with the form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub material: String,
    /// The material's Chinese name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub reason: String,
    /// Material kinds that may stand in for this one (e.g. a written commitment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<String>,
}

impl Missing {
    pub fn new(material: &str, name: &str, reason: impl Into<String>) -> Missing {
        Missing {
            field: None,
            material: material.into(),
            name: name.into(),
            reason: reason.into(),
            alternatives: vec![],
        }
    }
}

/// A result replaced by a correction: never issued again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Superseded {
    pub kind: String,
    pub value: String,
    pub superseded_at: Time,
    pub reason: String,
}

/// A correction asked for after completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub correction_id: String,
    pub status: CorrectionStatus,
    pub requested_at: Time,
    #[serde(default)]
    pub finished_at: Option<Time>,
    /// The form fields it changes (dotted paths).
    pub changes: Vec<String>,
    pub reason: String,
    /// Materials the guardian gave for it (ids on the case).
    #[serde(default)]
    pub materials: Vec<String>,
    /// The earliest step done again (none: no result depended on what changed).
    #[serde(default)]
    pub from_step: Option<Step>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionStatus {
    /// The departments whose results depend on the change review and reissue.
    InReview,
    Completed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialSource {
    DataSharing,
    Upload,
    Form,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceivedMaterial {
    pub material: String,
    pub source: MaterialSource,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcceptanceNotice {
    pub notice_number: String,
    pub received_materials: Vec<ReceivedMaterial>,
    pub accepted_by: String,
    pub window: Option<Window>,
    pub time_limit_working_days: u32,
    pub accepted_at: Time,
    pub due_at: Time,
    pub delivery: DeliverySummary,
}

/// How the results will be handed over, as the acceptance notice states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "DeliveryWire", try_from = "DeliveryWire")]
pub enum DeliverySummary {
    /// By mail to this address (masked) or for pick-up at this site, as the form asks.
    AsAsked {
        method: crate::form::DeliveryMethod,
        address: Option<String>,
        pickup_site: Option<String>,
    },
    /// At the window that took the offline application.
    Window { site: String, window: String },
    /// Nothing asked and no window: pick-up.
    Pickup,
}

/// The stored shape (as earlier versions wrote it).
#[derive(Serialize, Deserialize)]
struct DeliveryWire {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::wire::present"
    )]
    address: Option<Option<String>>,
    method: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::wire::present"
    )]
    pickup_site: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<String>,
}

impl From<DeliverySummary> for DeliveryWire {
    fn from(d: DeliverySummary) -> Self {
        match d {
            DeliverySummary::AsAsked {
                method,
                address,
                pickup_site,
            } => DeliveryWire {
                address: Some(address),
                method: method.as_str().into(),
                pickup_site: Some(pickup_site),
                site: None,
                window: None,
            },
            DeliverySummary::Window { site, window } => DeliveryWire {
                address: None,
                method: "window".into(),
                pickup_site: None,
                site: Some(site),
                window: Some(window),
            },
            DeliverySummary::Pickup => DeliveryWire {
                address: None,
                method: "pickup".into(),
                pickup_site: None,
                site: None,
                window: None,
            },
        }
    }
}

impl TryFrom<DeliveryWire> for DeliverySummary {
    type Error = String;
    fn try_from(w: DeliveryWire) -> Result<Self, String> {
        use crate::form::DeliveryMethod;
        Ok(match (w.method.as_str(), w.address, w.pickup_site) {
            ("window", _, _) => DeliverySummary::Window {
                site: w.site.ok_or("window delivery without a site")?,
                window: w.window.ok_or("window delivery without a window")?,
            },
            ("pickup", None, None) => DeliverySummary::Pickup,
            (m, address, pickup_site) => DeliverySummary::AsAsked {
                method: match m {
                    "mail" => DeliveryMethod::Mail,
                    "pickup" => DeliveryMethod::Pickup,
                    other => return Err(format!("unknown delivery method {other}")),
                },
                address: address.flatten(),
                pickup_site: pickup_site.flatten(),
            },
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialStatus {
    AwaitingUpload,
    Uploaded,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Material {
    pub material_id: String,
    pub kind: MaterialKind,
    pub content_type: String,
    pub size: u64,
    pub status: MaterialStatus,
    pub created_at: Time,
    pub expires_at: Time,
    pub uploaded_at: Option<Time>,
    pub sha256: Option<String>,
    /// The SHA-256 the uploader declared at registration, if any: only those bytes count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_sha256: Option<String>,
    pub blob_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: Time,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BadRatingFollowUp {
    pub responsible_dept: Dept,
    pub return_visit_due: Time,
    pub rectify_due: Time,
    pub return_visit_at: Option<Time>,
    pub rectified_at: Option<Time>,
    /// The step the rating concerns (its department follows it up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_visit_summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    pub level: u8,
    pub label: String,
    pub comment: Option<String>,
    pub at: Time,
    pub follow_up: bool,
    pub bad: Option<BadRatingFollowUp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Complaint {
    pub complaint_id: String,
    pub text: String,
    pub at: Time,
    pub dept: Dept,
    pub status: String,
    pub answer: Option<String>,
    pub answered_at: Option<Time>,
    pub answered_by: Option<String>,
    /// The step the complaint concerns (its department answers it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_visit_due: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectify_due: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_visit_at: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_visit_summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectified_at: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectification: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveRef {
    pub location: String,
    pub manifest_sha256: String,
    pub files: usize,
    pub archived_at: Time,
}

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
        crate::sharing::hex_sha256(&self.newborn_key())
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
        }
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

impl Case {
    /// A new case, as submitted. Acceptance starts at once.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        case_id: String,
        now: Time,
        owner: String,
        created_by: Actor,
        form: Form,
        idempotency_key: String,
        request_hash: String,
        cal: &Calendar,
    ) -> Result<(Case, Vec<Effect>), DomainError> {
        let steps = flow::FLOW
            .iter()
            .map(|s| StepState {
                step: s.step,
                // Acceptance and issuance belong to the unit that took the application.
                dept: match s.step {
                    Step::Acceptance | Step::UnifiedIssuance => {
                        crate::steps::issuance::accepting_unit(form.channel)
                    }
                    _ => s.dept,
                },
                status: StepStatus::Pending,
                started_at: None,
                due_at: None,
                finished_at: None,
                reasons: vec![],
                results: StepResults::default(),
                round: 0,
                task: None,
                approved_by: None,
                approval_data: ApprovalData::default(),
                overdue: false,
                escalated_round: 0,
                redrives: 0,
                redrive_round: 0,
            })
            .collect();
        let mut case = Case {
            case_id,
            version: 0,
            status: CaseStatus::Submitted,
            channel: form.channel,
            owner,
            created_by: created_by.clone(),
            idempotency_key,
            request_hash,
            form,
            submitted_at: now,
            accepted_at: None,
            due_at: None,
            finished_at: None,
            updated_at: now,
            acceptance_notice: None,
            missing: vec![],
            steps,
            results: StepResults::default(),
            timeline: vec![],
            materials: vec![],
            shared: SharedFacts::default(),
            ratings: vec![],
            complaints: vec![],
            archive: None,
            warnings: vec![],
            notice_seq: 0,
            notices: vec![],
            overdue: false,
            newborn_released_in: None,
            grant_only_versions: vec![],
            deliveries: vec![],
            superseded: vec![],
            certificates: vec![],
            corrections: vec![],
            earlier_archives: vec![],
            clock_stopped_at: None,
            guardian_working_days: 0,
            premium_reminded: false,
            monitored_at: None,
            next_check: None,
            indexed: Default::default(),
            pending: Default::default(),
        };
        case.log(
            now,
            &created_by.label(),
            "submitted",
            &format!("提交申请（{}）", case.channel.name_zh()),
        );
        let effects = case.start_step(Step::Acceptance, now, cal)?;
        Ok((case, effects))
    }

    /// Before a commit: the next version, and the read models recomputed (see
    /// [`crate::projection`]). Returns the version the commit expects to replace.
    pub fn prepare_commit(
        &mut self,
        cal: &crate::calendar::Calendar,
        settings: &crate::settings::Settings,
    ) -> u64 {
        let expected = self.version;
        self.version = expected + 1;
        self.refresh_projections(cal);
        self.next_check = self.compute_next_check(crate::supervision::LOOK_AFTER, settings, cal);
        expected
    }

    /// Acceptance asked data sharing: keep what it found on the case (later steps read
    /// it instead of asking again) and assess the application against it.
    pub fn assess_acceptance(
        &mut self,
        facts: SharedFacts,
        settings: &crate::settings::Settings,
    ) -> AcceptanceOutcome {
        self.shared = facts;
        crate::steps::acceptance::assess(self, &self.shared, settings)
    }

    /// A material registered for upload.
    pub fn register_material(
        &mut self,
        m: Material,
        actor: &Actor,
        now: Time,
    ) -> Result<(), DomainError> {
        self.require(!self.status.is_finished(), "adding a material")?;
        if self.materials.len() >= MAX_MATERIALS_PER_CASE {
            return Err(DomainError::Limit(format!(
                "每件申请最多登记 {MAX_MATERIALS_PER_CASE} 份材料"
            )));
        }
        let bytes: u64 = self.materials.iter().map(|x| x.size).sum();
        if bytes + m.size > MAX_MATERIAL_BYTES_PER_CASE {
            return Err(DomainError::Limit(format!(
                "每件申请的材料合计不能超过 {} MiB",
                MAX_MATERIAL_BYTES_PER_CASE / 1024 / 1024
            )));
        }
        let kind = m.kind;
        self.materials.push(m);
        self.log(now, &actor.label(), "material_registered", kind.name_zh());
        Ok(())
    }

    /// The bytes of a registered material arrived and were checked; true if this changed
    /// the case.
    pub fn confirm_material(&mut self, material_id: &str, sha256: String, now: Time) -> bool {
        let Some(m) = self
            .materials
            .iter_mut()
            .find(|m| m.material_id == material_id && m.status != MaterialStatus::Uploaded)
        else {
            return false;
        };
        m.status = MaterialStatus::Uploaded;
        m.uploaded_at = Some(now);
        m.sha256 = Some(sha256);
        let kind = m.kind;
        self.log(now, "system:materials", "material_uploaded", kind.name_zh());
        true
    }

    /// Twins: materials uploaded for a sibling's application (same owner, mother and birth
    /// date, another birth order) count for this one, so nothing is uploaded twice.
    pub fn reuse_sibling_materials(&mut self, sibling: &Case, now: Time) {
        let same_birth = sibling.case_id != self.case_id
            && sibling.owner == self.owner
            && sibling.form.mother.id_number == self.form.mother.id_number
            && sibling.form.newborn.birth_time.date_naive()
                == self.form.newborn.birth_time.date_naive()
            && sibling.form.newborn.birth_order != self.form.newborn.birth_order;
        if !same_birth {
            return;
        }
        for m in &sibling.materials {
            let shared_kind = !matches!(m.kind, MaterialKind::Other);
            if shared_kind
                && m.status == MaterialStatus::Uploaded
                && !self.has_upload(m.kind)
                && !self.materials.iter().any(|x| x.blob_key == m.blob_key)
            {
                self.materials.push(m.clone());
                self.log(
                    now,
                    "system:materials",
                    "material_reused",
                    &format!("{}（同胎申请 {}）", m.kind.name_zh(), sibling.case_id),
                );
            }
        }
    }

    /// The finished case was archived.
    pub fn record_archive(&mut self, archive: ArchiveRef) -> Result<(), DomainError> {
        self.require(self.status.is_finished(), "archiving")?;
        let now = archive.archived_at;
        let files = archive.files;
        self.archive = Some(archive);
        self.log(
            now,
            "system:archive",
            "archived",
            &format!("已归档 {files} 个文件"),
        );
        Ok(())
    }

    pub fn step(&self, step: Step) -> &StepState {
        &self.steps[step.index()]
    }

    /// Where a step is handled: a county code (A.5.1, 8.1.1). The hospital: the birth
    /// hospital's county. The police, medical security and HR&SS: the registering
    /// household's county (the code a police officer supplied, if any). The service
    /// centre: its window's county (named in the site), or online the household's. Until
    /// the household is known, the hospital's county stands in; None when nothing says.
    pub fn step_region(&self, step: Step) -> Option<String> {
        let divisions = crate::idnum::Divisions::current();
        let hospital = self
            .shared
            .institution
            .as_ref()
            .map(|i| i.county_code.clone())
            .or_else(|| {
                let code = self.form.newborn.hospital_code.get(1..7)?;
                code.bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| code.to_string())
            });
        let household = self
            .step(Step::HouseholdRegistration)
            .approval_data
            .address_code
            .clone()
            .or_else(|| {
                self.shared
                    .household
                    .as_ref()
                    .map(|h| h.address_code.clone())
            });
        let window = self.form.window.as_ref().and_then(|w| {
            w.county
                .clone()
                .or_else(|| divisions.county_named_in(&w.site).map(str::to_string))
        });
        match self.step(step).dept {
            Dept::Hospital => hospital,
            Dept::Police | Dept::MedicalInsurance | Dept::Hrss => household.or(hospital),
            Dept::ServiceCenter => window.or(household).or(hospital),
            Dept::Health => None,
        }
    }

    /// Whether a step is handled within `scope` (a region prefix; for hospital steps also
    /// the `hospital` institution code). No region claim means the whole province.
    pub fn step_in_scope(&self, step: Step, scope: &Scope) -> bool {
        scope.admits(
            self.step_region(step).as_deref(),
            self.step(step).dept,
            &self.form.newborn.hospital_code,
        )
    }

    /// Whether any step of the case is handled within `scope` (supervisors).
    pub fn in_scope(&self, scope: &Scope) -> bool {
        scope.region.is_none() || self.steps.iter().any(|s| self.step_in_scope(s.step, scope))
    }

    pub(crate) fn mark_escalated(&mut self, step: Step, round: u32) {
        self.step_mut(step).escalated_round = round;
    }

    /// How many times a material was given to an officer (timeline `material_viewed`).
    fn material_grants(&self) -> usize {
        self.timeline
            .iter()
            .filter(|e| e.action == MATERIAL_VIEWED)
            .count()
    }

    /// Refused once the case holds [`MAX_MATERIAL_GRANTS_PER_CASE`] grants.
    pub fn check_material_grant(&self) -> Result<(), DomainError> {
        if self.material_grants() >= MAX_MATERIAL_GRANTS_PER_CASE {
            return Err(DomainError::Limit(format!(
                "本件申请的材料已调阅 {MAX_MATERIAL_GRANTS_PER_CASE} 次，已达上限，如需继续调阅请联系系统运维人员"
            )));
        }
        Ok(())
    }

    /// Record that an officer was given a material (who, which, when); `Ok(false)` when
    /// the case has no such material.
    pub fn record_material_grant(
        &mut self,
        material_id: &str,
        actor: &Actor,
        now: Time,
    ) -> Result<bool, DomainError> {
        let Some(kind) = self
            .materials
            .iter()
            .find(|m| m.material_id == material_id)
            .map(|m| m.kind)
        else {
            return Ok(false);
        };
        self.check_material_grant()?;
        self.log(
            now,
            &actor.label(),
            MATERIAL_VIEWED,
            &format!("{}（{material_id}）", kind.name_zh()),
        );
        // The commit that records this takes the next version (see `prepare_commit`).
        self.grant_only_versions.push(self.version + 1);
        let keep = self
            .grant_only_versions
            .len()
            .saturating_sub(MAX_GRANT_ONLY_VERSIONS);
        self.grant_only_versions.drain(..keep);
        Ok(true)
    }

    /// True when `version` is the case's version, or every change after it only recorded
    /// a material given to an officer.
    fn current_for_decision(&self, version: u64) -> bool {
        version == self.version
            || (version < self.version
                && (version + 1..=self.version).all(|v| self.grant_only_versions.contains(&v)))
    }

    pub(crate) fn step_mut(&mut self, step: Step) -> &mut StepState {
        &mut self.steps[step.index()]
    }

    /// The step the case is at: the first one that is not done.
    pub fn current_step(&self) -> Option<Step> {
        self.steps
            .iter()
            .find(|s| s.status != StepStatus::Done)
            .map(|s| s.step)
    }

    /// The open manual-review task, if any.
    pub fn open_task(&self) -> Option<(&StepState, &Task)> {
        self.steps
            .iter()
            .find(|s| s.status == StepStatus::AwaitingReview)
            .and_then(|s| s.task.as_ref().map(|t| (s, t)))
    }

    pub(crate) fn log(&mut self, at: Time, actor: &str, action: &str, detail: &str) {
        self.timeline.push(Event {
            at,
            actor: actor.into(),
            action: action.into(),
            detail: detail.into(),
        });
        self.updated_at = at;
    }

    fn notify(&mut self, kind: NoticeKind) -> Effect {
        self.notice_seq += 1;
        self.notices.push(kind);
        Effect::Notify {
            kind,
            seq: self.notice_seq,
        }
    }

    fn warn_calendar(&mut self, warnings: Vec<crate::calendar::CalendarWarning>) {
        for w in warnings {
            if !self.warnings.contains(&w.message) {
                self.warnings.push(w.message);
            }
        }
    }

    fn step_deadline(
        &mut self,
        step: Step,
        now: Time,
        cal: &Calendar,
    ) -> Result<Time, DomainError> {
        match flow::time_limit(step, self.channel) {
            TimeLimit::Immediate => Ok(crate::calendar::end_of_day(now.date_naive())),
            TimeLimit::CaseLimit => match self.due_at {
                Some(d) => Ok(d),
                None => {
                    let (due, w) =
                        cal.deadline_after(now.with_timezone(&Utc), CASE_TIME_LIMIT_WORKING_DAYS)?;
                    self.warn_calendar(w);
                    Ok(due)
                }
            },
            TimeLimit::WorkingDays(n) => {
                let (due, w) = cal.deadline_after(now.with_timezone(&Utc), n)?;
                self.warn_calendar(w);
                Ok(due)
            }
        }
    }

    /// Start (or restart) a step: in progress, with its deadline; dispatch it.
    fn start_step(
        &mut self,
        step: Step,
        now: Time,
        cal: &Calendar,
    ) -> Result<Vec<Effect>, DomainError> {
        let due = self.step_deadline(step, now, cal)?;
        let s = self.step_mut(step);
        s.status = StepStatus::InProgress;
        s.started_at = Some(now);
        s.due_at = Some(due);
        s.finished_at = None;
        s.round += 1;
        s.task = None;
        s.approved_by = None;
        s.approval_data = ApprovalData::default();
        s.overdue = false;
        Ok(vec![Effect::Dispatch { step }])
    }

    fn require(&self, ok: bool, action: &'static str) -> Result<(), DomainError> {
        if ok {
            Ok(())
        } else {
            Err(DomainError::InvalidState {
                status: self.status.as_str(),
                action,
            })
        }
    }

    /// Whether a message for `step` should be worked on now.
    pub fn is_actionable(&self, step: Step) -> bool {
        let s = self.step(step);
        !self.status.is_finished()
            && s.status == StepStatus::InProgress
            && self.current_step() == Some(step)
    }

    /// Acceptance concluded (by rules, or an officer's approval at the window).
    pub fn conclude_acceptance(
        &mut self,
        outcome: AcceptanceOutcome,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(self.is_actionable(Step::Acceptance), "acceptance")?;
        let who = actor.label();
        let mut effects = vec![];
        match outcome {
            AcceptanceOutcome::Accept { received } => {
                let (due, w) =
                    cal.deadline_after(now.with_timezone(&Utc), CASE_TIME_LIMIT_WORKING_DAYS)?;
                self.warn_calendar(w);
                self.accepted_at = Some(now);
                self.due_at = Some(due);
                self.missing.clear();
                let accepted_by = match (self.channel.is_offline(), &self.created_by) {
                    (true, officer) if officer.role == Role::WindowOfficer => officer.label(),
                    _ if actor.is_system() => "联办系统自动受理".to_string(),
                    _ => who.clone(),
                };
                self.acceptance_notice = Some(AcceptanceNotice {
                    notice_number: format!("SL{}", &self.case_id),
                    received_materials: received,
                    accepted_by,
                    window: self.form.window.clone(),
                    time_limit_working_days: CASE_TIME_LIMIT_WORKING_DAYS,
                    accepted_at: now,
                    due_at: due,
                    delivery: self.delivery_summary(),
                });
                self.status = CaseStatus::InProgress;
                let s = self.step_mut(Step::Acceptance);
                s.status = StepStatus::Done;
                s.finished_at = Some(now);
                s.reasons.clear();
                self.log(
                    now,
                    &who,
                    "accepted",
                    &format!("已受理，应于 {} 前办结", due.format("%Y-%m-%d")),
                );
                effects.push(self.notify(NoticeKind::Accepted));
                effects.extend(self.start_step(Step::BirthCertificate, now, cal)?);
            }
            AcceptanceOutcome::Incomplete { missing } => {
                let list: Vec<String> = missing.iter().map(|m| m.name.clone()).collect();
                self.status = CaseStatus::Incomplete;
                let s = self.step_mut(Step::Acceptance);
                s.status = StepStatus::Returned;
                s.reasons = missing.iter().map(|m| m.reason.clone()).collect();
                self.missing = missing;
                self.log(
                    now,
                    &who,
                    "incomplete",
                    &format!("需补充：{}", list.join("、")),
                );
                effects.push(self.notify(NoticeKind::Incomplete));
            }
            AcceptanceOutcome::NotAccepted { reasons } => {
                self.status = CaseStatus::NotAccepted;
                self.finished_at = Some(now);
                self.newborn_released_in = Some(self.version + 1);
                let s = self.step_mut(Step::Acceptance);
                s.status = StepStatus::Rejected;
                s.finished_at = Some(now);
                s.reasons = reasons.clone();
                self.log(now, &who, "not_accepted", &reasons.join("; "));
                effects.push(self.notify(NoticeKind::NotAccepted));
            }
        }
        Ok(effects)
    }

    fn delivery_summary(&self) -> DeliverySummary {
        use crate::form::DeliveryMethod;
        match (&self.form.window, &self.form.delivery) {
            (Some(w), Some(d)) if d.method == DeliveryMethod::Window => DeliverySummary::Window {
                site: w.site.clone(),
                window: w.number.clone(),
            },
            (_, Some(d)) => DeliverySummary::AsAsked {
                method: d.method,
                address: d.address.as_deref().map(crate::idnum::mask_address),
                pickup_site: d.pickup_site.clone(),
            },
            (Some(w), None) => DeliverySummary::Window {
                site: w.site.clone(),
                window: w.number.clone(),
            },
            (None, None) => DeliverySummary::Pickup,
        }
    }

    /// The rules want an officer to look (or the department is on manual review).
    pub fn await_review(
        &mut self,
        step: Step,
        findings: Vec<String>,
        now: Time,
        cal: &Calendar,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(self.is_actionable(step), "review")?;
        let due = match self.step(step).due_at {
            Some(d) => d,
            None => self.step_deadline(step, now, cal)?,
        };
        let task_id = format!(
            "{}.{}.{}",
            self.case_id,
            step.as_str(),
            self.step(step).round
        );
        let s = self.step_mut(step);
        s.status = StepStatus::AwaitingReview;
        s.task = Some(Task {
            task_id,
            created_at: now,
            due_at: due,
            findings: findings.clone(),
        });
        let detail = if findings.is_empty() {
            "人工审核".to_string()
        } else {
            findings.join("；")
        };
        self.log(
            now,
            &format!("system:{}", self.step(step).dept.as_str()),
            "awaiting_review",
            &format!("{}：{detail}", step.name_zh()),
        );
        Ok(vec![])
    }

    /// The step is done with these results; the next step starts (or the case completes).
    pub fn complete_step(
        &mut self,
        step: Step,
        results: StepResults,
        delivery: Option<crate::steps::issuance::DeliveryRecord>,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(
            self.is_actionable(step) && step != Step::Acceptance,
            "completing a step",
        )?;
        let mut effects = vec![];
        for (kind, old, new) in crate::steps::numbers_replaced(&self.results, &results) {
            self.supersede(kind, old, now, "更正后重新出具");
            let _ = new;
        }
        if let Some(d) = delivery {
            let online = !self.channel.is_offline() && step != Step::UnifiedIssuance;
            self.log(
                now,
                &actor.label(),
                "delivered",
                &format!("{}：{}", d.method.name_zh(), d.items.join("、")),
            );
            self.deliveries.push(d);
            if online {
                effects.push(self.notify(NoticeKind::Delivered));
            }
        }
        {
            let s = self.step_mut(step);
            s.status = StepStatus::Done;
            s.finished_at = Some(now);
            s.reasons.clear();
            s.results.merge(results.clone());
        }
        let premium_due = results
            .insurance
            .as_ref()
            .is_some_and(|i| i.medical_insurance.premium_notice.is_some());
        self.results.merge(results);
        self.log(now, &actor.label(), "step_done", step.name_zh());
        if premium_due {
            effects.push(self.notify(NoticeKind::PremiumDue));
        }
        match step.next() {
            Some(next) => effects.extend(self.start_step(next, now, cal)?),
            None => {
                self.status = CaseStatus::Completed;
                self.finished_at = Some(now);
                if let Some(c) = self
                    .corrections
                    .iter_mut()
                    .find(|c| c.status == CorrectionStatus::InReview)
                {
                    c.status = CorrectionStatus::Completed;
                    c.finished_at = Some(now);
                }
                self.log(now, &actor.label(), "completed", "全部结果已出具，办结");
                effects.push(self.notify(NoticeKind::Completed));
            }
        }
        Ok(effects)
    }

    /// Return for correction: the guardian fixes what the reasons name and resubmits.
    pub fn return_step(
        &mut self,
        step: Step,
        reasons: Vec<String>,
        actor: &Actor,
        now: Time,
    ) -> Result<Vec<Effect>, DomainError> {
        let s = self.step(step);
        self.require(
            !self.status.is_finished()
                && matches!(
                    s.status,
                    StepStatus::InProgress | StepStatus::AwaitingReview
                ),
            "return",
        )?;
        let s = self.step_mut(step);
        s.status = StepStatus::Returned;
        s.reasons = reasons.clone();
        s.task = None;
        self.status = CaseStatus::Returned;
        self.clock_stopped_at = Some(now);
        self.log(
            now,
            &actor.label(),
            "returned",
            &format!("{}：{}", step.name_zh(), reasons.join("；")),
        );
        Ok(vec![self.notify(NoticeKind::Returned)])
    }

    /// Not pass: the case ends with reasons; results already issued stay valid.
    pub fn reject_step(
        &mut self,
        step: Step,
        reasons: Vec<String>,
        handover: Option<crate::steps::issuance::DeliveryRecord>,
        actor: &Actor,
        now: Time,
    ) -> Result<Vec<Effect>, DomainError> {
        let s = self.step(step);
        self.require(
            !self.status.is_finished()
                && matches!(
                    s.status,
                    StepStatus::InProgress | StepStatus::AwaitingReview
                ),
            "reject",
        )?;
        let s = self.step_mut(step);
        s.status = StepStatus::Rejected;
        s.reasons = reasons.clone();
        s.finished_at = Some(now);
        s.task = None;
        self.finished_at = Some(now);
        self.newborn_released_in = Some(self.version + 1);
        if let Some(d) = handover {
            self.log(
                now,
                &actor.label(),
                "delivered",
                &format!(
                    "已出具的结果照常交付（{}）：{}",
                    d.method.name_zh(),
                    d.items.join("、")
                ),
            );
            self.deliveries.push(d);
        }
        if step == Step::Acceptance {
            self.status = CaseStatus::NotAccepted;
            self.log(now, &actor.label(), "not_accepted", &reasons.join("；"));
            Ok(vec![self.notify(NoticeKind::NotAccepted)])
        } else {
            self.status = CaseStatus::Rejected;
            self.log(
                now,
                &actor.label(),
                "rejected",
                &format!("{}：{}", step.name_zh(), reasons.join("；")),
            );
            Ok(vec![self.notify(NoticeKind::Rejected)])
        }
    }

    /// An officer's decision on the open task. `version` must be the case's version.
    /// Approval puts the step back in progress with the approval recorded; the step
    /// function then issues its results.
    pub fn decide(
        &mut self,
        d: OfficerDecision,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
    ) -> Result<Vec<Effect>, DomainError> {
        let OfficerDecision {
            task_id,
            decision,
            reasons,
            data,
            version,
            handover,
        } = d;
        let task_id = task_id.as_str();

        let Some((s, _)) = self.open_task().filter(|(_, t)| t.task_id == task_id) else {
            return Err(DomainError::TaskNotOpen);
        };
        let step = s.step;
        if !self.current_for_decision(version) {
            return Err(DomainError::Stale {
                current: self.version,
            });
        }
        match decision {
            Decision::Approve => {
                if step == Step::Acceptance {
                    // The acceptance officer approved: accept with what rules collected.
                    let received = self.received_materials();
                    let st = self.step_mut(step);
                    st.status = StepStatus::InProgress;
                    st.task = None;
                    return self.conclude_acceptance(
                        AcceptanceOutcome::Accept { received },
                        actor,
                        now,
                        cal,
                    );
                }
                let st = self.step_mut(step);
                st.status = StepStatus::InProgress;
                st.task = None;
                st.approved_by = Some(actor.label());
                st.approval_data = data;
                self.log(now, &actor.label(), "approved", step.name_zh());
                Ok(vec![Effect::Dispatch { step }])
            }
            Decision::Return => {
                if step == Step::Acceptance {
                    let missing: Vec<Missing> = reasons
                        .iter()
                        .map(|r| crate::steps::acceptance::form_reason(r.clone()))
                        .collect();
                    let st = self.step_mut(step);
                    st.status = StepStatus::InProgress;
                    st.task = None;
                    return self.conclude_acceptance(
                        AcceptanceOutcome::Incomplete { missing },
                        actor,
                        now,
                        cal,
                    );
                }
                self.return_step(step, reasons, actor, now)
            }
            Decision::Reject => self.reject_step(step, reasons, handover, actor, now),
        }
    }

    /// What the acceptance notice lists as received.
    pub fn received_materials(&self) -> Vec<ReceivedMaterial> {
        let mut out = vec![ReceivedMaterial {
            material: "registration_form".into(),
            source: MaterialSource::Form,
        }];
        let mut add = |kind: MaterialKind, shared: bool| {
            let source = if shared {
                MaterialSource::DataSharing
            } else {
                MaterialSource::Upload
            };
            out.push(ReceivedMaterial {
                material: kind.as_str().into(),
                source,
            });
        };
        if self.shared.mother.is_some() {
            add(MaterialKind::MotherIdCard, true);
        } else if self.has_upload(MaterialKind::MotherIdCard) {
            add(MaterialKind::MotherIdCard, false);
        }
        if self.form.father.is_some() {
            if self.shared.father.is_some() {
                add(MaterialKind::FatherIdCard, true);
            } else if self.has_upload(MaterialKind::FatherIdCard) {
                add(MaterialKind::FatherIdCard, false);
            }
        }
        if self.shared.household.is_some() {
            add(MaterialKind::HouseholdRegister, true);
        } else if self.has_upload(MaterialKind::HouseholdRegister) {
            add(MaterialKind::HouseholdRegister, false);
        }
        if self.shared.marriage.is_some() {
            add(MaterialKind::MarriageCertificate, true);
        } else if self.has_upload(MaterialKind::MarriageCertificate) {
            add(MaterialKind::MarriageCertificate, false);
        }
        for kind in [
            MaterialKind::Commitment,
            MaterialKind::GuardianshipProof,
            MaterialKind::Other,
        ] {
            if self.has_upload(kind) {
                add(kind, false);
            }
        }
        out
    }

    pub fn has_upload(&self, kind: MaterialKind) -> bool {
        self.materials
            .iter()
            .any(|m| m.kind == kind && m.status == MaterialStatus::Uploaded)
    }

    /// The guardian (or the window officer) resubmits after `incomplete` or `returned`,
    /// with corrections applied and data sharing asked again (`facts`). A case never
    /// accepted goes back to acceptance. An accepted case is assessed again at once (one
    /// notice if anything is now missing); otherwise it resumes at the earliest of the
    /// returned step and the earliest step whose result depends on a corrected field, and
    /// that step and every later one are done again. The clock stopped while the case
    /// waited on the guardian; the remaining working days run on.
    #[allow(clippy::too_many_arguments)]
    pub fn resubmit(
        &mut self,
        form: Option<Form>,
        facts: Option<SharedFacts>,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
        settings: &crate::settings::Settings,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(
            matches!(self.status, CaseStatus::Incomplete | CaseStatus::Returned),
            "resubmission",
        )?;
        let changed = match &form {
            Some(f) => self.form.changed_fields(f),
            None => vec![],
        };
        if let Some(f) = form {
            self.form = f;
        }
        self.restart_clock(now, cal);
        let returned = self
            .steps
            .iter()
            .find(|s| s.status == StepStatus::Returned && s.step != Step::Acceptance)
            .map(|s| s.step);
        if self.accepted_at.is_none() {
            self.status = CaseStatus::Submitted;
            self.missing.clear();
            self.step_mut(Step::Acceptance).reasons.clear();
            self.log(now, &actor.label(), "resubmitted", "重新提交，重新受理审查");
            return self.start_step(Step::Acceptance, now, cal);
        }
        // Accepted before: everything acceptance decides is decided again now.
        if let Some(facts) = facts {
            self.shared = facts;
        }
        let outcome = crate::steps::acceptance::assess(self, &self.shared, settings);
        let missing = match outcome {
            AcceptanceOutcome::Accept { received } => {
                if let Some(n) = self.acceptance_notice.as_mut() {
                    n.received_materials = received;
                }
                vec![]
            }
            AcceptanceOutcome::Incomplete { missing } => missing,
            AcceptanceOutcome::NotAccepted { reasons } => reasons
                .into_iter()
                .map(crate::steps::acceptance::form_reason)
                .collect(),
        };
        if !missing.is_empty() {
            self.status = CaseStatus::Incomplete;
            self.clock_stopped_at = Some(now);
            self.missing = missing;
            let list: Vec<String> = self.missing.iter().map(|m| m.name.clone()).collect();
            self.log(
                now,
                &actor.label(),
                "incomplete",
                &format!("更正后仍需补充：{}", list.join("、")),
            );
            return Ok(vec![self.notify(NoticeKind::Incomplete)]);
        }
        self.missing.clear();
        let affected = crate::steps::earliest_affected(&changed)
            .filter(|s| self.step(*s).status != StepStatus::Pending);
        let resume = [returned, affected, self.current_step()]
            .into_iter()
            .flatten()
            .filter(|s| *s != Step::Acceptance)
            .min()
            .unwrap_or(Step::BirthCertificate);
        self.redo_from(resume, affected, now);
        self.status = CaseStatus::InProgress;
        self.step_mut(resume).reasons.clear();
        let detail = if changed.is_empty() {
            format!("从{}继续办理", resume.name_zh())
        } else {
            format!("更正 {} 项，从{}重新办理", changed.len(), resume.name_zh())
        };
        self.log(now, &actor.label(), "resubmitted", &detail);
        self.start_step(resume, now, cal)
    }

    /// Every step after `resume` that already ran goes back to pending; if the certified
    /// birth content changed, the hospital's numbers are superseded (never reused).
    fn redo_from(&mut self, resume: Step, affected: Option<Step>, now: Time) {
        for s in Step::ALL.into_iter().filter(|s| *s > resume) {
            let st = self.step_mut(s);
            if st.status != StepStatus::Pending {
                st.status = StepStatus::Pending;
                st.task = None;
                st.reasons.clear();
                st.finished_at = None;
            }
        }
        if resume == Step::BirthCertificate
            && affected == Some(Step::BirthCertificate)
            && self.step(Step::BirthCertificate).status == StepStatus::Done
        {
            // The certified content changed: the certificates are reissued, never reused.
            if let Some(b) = self.results.birth.clone() {
                self.supersede(
                    "birth_certificate_number",
                    b.birth_certificate_number,
                    now,
                    "出生信息更正，重新签发",
                );
                self.supersede(
                    "vaccination_certificate_number",
                    b.vaccination_certificate_number,
                    now,
                    "出生信息更正，重新签发",
                );
            }
        }
    }

    /// The open correction (asked for after completion, not yet reissued), if any.
    pub fn open_correction(&self) -> Option<&Correction> {
        self.corrections
            .iter()
            .find(|c| c.status == CorrectionStatus::InReview)
    }
    pub fn corrections(&self) -> &[Correction] {
        &self.corrections
    }
    pub fn earlier_archives(&self) -> &[ArchiveRef] {
        &self.earlier_archives
    }

    /// A correction after completion: the corrected form (immutable fields already
    /// checked) replaces the old; the earliest step whose result depends on what changed
    /// and every later one are done again, each reviewed by its department's officer
    /// (see [`Case::open_correction`]); the case is archived again when it completes.
    /// A change no result depends on (a phone number) is recorded and done at once.
    #[allow(clippy::too_many_arguments)]
    pub fn request_correction(
        &mut self,
        correction_id: String,
        form: Form,
        facts: Option<SharedFacts>,
        reason: String,
        materials: Vec<String>,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(
            self.status == CaseStatus::Completed && self.open_correction().is_none(),
            "correction after completion",
        )?;
        let changes = self.form.changed_fields(&form);
        let from = crate::steps::earliest_affected(&changes).filter(|s| *s != Step::Acceptance);
        self.form = form;
        if let Some(f) = facts {
            self.shared = f;
        }
        let mut correction = Correction {
            correction_id,
            status: CorrectionStatus::InReview,
            requested_at: now,
            finished_at: None,
            changes,
            reason,
            materials,
            from_step: from,
        };
        let Some(resume) = from else {
            correction.status = CorrectionStatus::Completed;
            correction.finished_at = Some(now);
            let n = correction.changes.len();
            self.corrections.push(correction);
            self.log(
                now,
                &actor.label(),
                "corrected",
                &format!("更正 {n} 项（不影响已出具的结果）"),
            );
            return Ok(vec![]);
        };
        let (due, w) = cal.deadline_after(now.with_timezone(&Utc), CASE_TIME_LIMIT_WORKING_DAYS)?;
        self.warn_calendar(w);
        self.redo_from(resume, Some(resume), now);
        self.status = CaseStatus::InProgress;
        self.finished_at = None;
        self.due_at = Some(due);
        self.overdue = false;
        if let Some(a) = self.archive.take() {
            self.earlier_archives.push(a);
        }
        let detail = format!(
            "办结后申请更正 {} 项（{}），从{}起由各部门审核后重新出具",
            correction.changes.len(),
            correction.reason,
            resume.name_zh()
        );
        self.corrections.push(correction);
        self.log(now, &actor.label(), "correction_requested", &detail);
        self.start_step(resume, now, cal)
    }

    /// Record a result replaced by a correction (once per value).
    fn supersede(&mut self, kind: &str, value: String, now: Time, reason: &str) {
        if self
            .superseded
            .iter()
            .any(|s| s.kind == kind && s.value == value)
        {
            return;
        }
        self.superseded.push(Superseded {
            kind: kind.into(),
            value,
            superseded_at: now,
            reason: reason.into(),
        });
    }

    /// The guardian is back: the case's working days that were left when it stopped run
    /// on from today; the days the guardian held it are counted apart.
    fn restart_clock(&mut self, now: Time, cal: &Calendar) {
        let Some(stopped) = self.clock_stopped_at.take() else {
            return;
        };
        let held = cal.workdays_between(stopped.date_naive(), now.date_naive());
        self.guardian_working_days += held;
        if let Some(due) = self.due_at {
            let left = cal.workdays_between(stopped.date_naive(), due.date_naive());
            if let Ok((new_due, w)) = cal.deadline_after(now.with_timezone(&Utc), left) {
                self.warn_calendar(w);
                if new_due > due {
                    self.due_at = Some(new_due);
                    self.overdue = false;
                }
            }
        }
    }

    /// Withdraw the application (by the guardian or the window officer, or by the system
    /// after the configured limit): the case ends and the newborn is free again.
    pub fn withdraw(
        &mut self,
        reason: String,
        actor: &Actor,
        now: Time,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(
            matches!(
                self.status,
                CaseStatus::Submitted | CaseStatus::Incomplete | CaseStatus::Returned
            ),
            "withdrawal",
        )?;
        for s in self.steps.iter_mut() {
            if matches!(
                s.status,
                StepStatus::InProgress | StepStatus::AwaitingReview
            ) {
                s.status = StepStatus::Returned;
                s.task = None;
                s.reasons = vec![reason.clone()];
            }
        }
        self.status = CaseStatus::Withdrawn;
        self.finished_at = Some(now);
        self.clock_stopped_at = None;
        self.newborn_released_in = Some(self.version + 1);
        self.log(now, &actor.label(), "withdrawn", &reason);
        Ok(vec![self.notify(NoticeKind::Withdrawn)])
    }

    /// A case left incomplete or returned longer than `days`: the system withdraws it.
    pub fn withdraw_if_abandoned(&mut self, now: Time, days: i64) -> Option<Vec<Effect>> {
        let waiting = matches!(self.status, CaseStatus::Incomplete | CaseStatus::Returned);
        if !waiting || now - self.updated_at < chrono::Duration::days(days) {
            return None;
        }
        let actor = Actor::system(Dept::ServiceCenter);
        self.withdraw(
            format!("超过 {days} 天未补正或更正，系统自动撤回"),
            &actor,
            now,
        )
        .ok()
    }

    /// The newborn's premium was paid (recorded by medical security or the payment platform).
    pub fn record_premium_payment(
        &mut self,
        payment: crate::steps::insurance::PremiumPayment,
        actor: &Actor,
    ) -> Result<(), DomainError> {
        use crate::steps::insurance::PremiumStatus;
        let now = payment.recorded_at;
        let Some(ins) = self.results.insurance.as_mut() else {
            return Err(DomainError::Rule("新生儿尚未办理医保参保登记".into()));
        };
        let mi = &mut ins.medical_insurance;
        if !mi.enrolled {
            return Err(DomainError::Rule("新生儿未办理医保参保登记".into()));
        }
        if mi.status == Some(PremiumStatus::Paid) {
            return Err(DomainError::InvalidState {
                status: "paid",
                action: "recording the payment again",
            });
        }
        mi.status = Some(PremiumStatus::Paid);
        let amount = payment.amount_cny;
        mi.payment = Some(payment);
        let mi = mi.clone();
        let updated = mi;
        if let Some(si) = self
            .step_mut(Step::MedicalInsurance)
            .results
            .insurance
            .as_mut()
        {
            si.medical_insurance = updated;
        }
        self.log(
            now,
            &actor.label(),
            "premium_paid",
            &format!("已缴纳 {amount} 元"),
        );
        Ok(())
    }

    /// Whether the premium reminder is still owed (enrolled, unpaid, not yet reminded).
    pub fn premium_reminder_owed(&self) -> bool {
        use crate::steps::insurance::PremiumStatus;
        !self.premium_reminded
            && self
                .results
                .insurance
                .as_ref()
                .is_some_and(|i| i.medical_insurance.status == Some(PremiumStatus::PendingPayment))
    }

    /// The day the newborn's premium must be paid by, if a premium notice was issued.
    pub fn premium_pay_by(&self) -> Option<chrono::NaiveDate> {
        Some(
            self.results
                .insurance
                .as_ref()?
                .medical_insurance
                .premium_notice
                .as_ref()?
                .pay_by,
        )
    }

    /// Remind the guardian `days` before `pay_by` when the premium is still unpaid.
    pub fn remind_premium_if_due(&mut self, now: Time, days: i64) -> Option<Vec<Effect>> {
        if !self.premium_reminder_owed() {
            return None;
        }
        let pay_by = self
            .results
            .insurance
            .as_ref()?
            .medical_insurance
            .premium_notice
            .as_ref()?
            .pay_by;
        if now.date_naive() < pay_by - chrono::Duration::days(days) {
            return None;
        }
        self.premium_reminded = true;
        self.log(
            now,
            "system:medical_insurance",
            "premium_reminder",
            &pay_by.to_string(),
        );
        Some(vec![self.notify(NoticeKind::PremiumReminder)])
    }

    /// Nothing more will happen to the case by itself: it is finished and archived. Until
    /// then the SLA monitor keeps an eye on it (stalled steps, lost notifications, a
    /// missing archive).
    pub fn is_settled(&self) -> bool {
        self.status.is_finished() && self.archive.is_some() && !self.premium_reminder_owed()
    }

    /// Mark overdue steps and the case; returns true if anything changed.
    pub fn mark_overdue(&mut self, now: Time) -> bool {
        let mut changed = false;
        let mut newly = vec![];
        for s in self.steps.iter_mut() {
            if matches!(
                s.status,
                StepStatus::InProgress | StepStatus::AwaitingReview
            ) && !s.overdue
                && s.due_at.is_some_and(|d| now > d)
            {
                s.overdue = true;
                changed = true;
                newly.push(s.step);
            }
        }
        for step in newly {
            self.log(now, "system:sla-monitor", "step_overdue", step.name_zh());
        }
        if !self.overdue && !self.status.is_finished() && self.due_at.is_some_and(|d| now > d) {
            self.overdue = true;
            changed = true;
            self.log(
                now,
                "system:sla-monitor",
                "case_overdue",
                "已超过 4 个工作日办结时限",
            );
        }
        changed
    }

    /// Completed within the time limit (None while unfinished or never accepted).
    pub fn on_time(&self) -> Option<bool> {
        match (self.status, self.finished_at, self.due_at) {
            (CaseStatus::Completed, Some(f), Some(d)) => Some(f <= d),
            _ => None,
        }
    }

    /// Where a complaint or bad rating goes: the department of the step it concerns, by
    /// default the step the case is at or ended at (its last started step).
    pub fn route_feedback(&self, step: Option<Step>) -> (Dept, Step) {
        let step = step.unwrap_or_else(|| {
            self.steps
                .iter()
                .rev()
                .find(|s| s.status != StepStatus::Pending)
                .map(|s| s.step)
                .unwrap_or(Step::Acceptance)
        });
        (self.step(step).dept, step)
    }

    /// Rate the finished case: one rating plus one follow-up rating (追评).
    #[allow(clippy::too_many_arguments)]
    pub fn rate(
        &mut self,
        level: u8,
        comment: Option<String>,
        step: Option<Step>,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
        settings: &crate::settings::Settings,
    ) -> Result<&Rating, DomainError> {
        self.require(self.status.is_finished(), "rating")?;
        if self.ratings.len() >= 2 {
            return Err(DomainError::Rule(
                "the case already has a rating and a follow-up rating".into(),
            ));
        }
        if !(1..=5).contains(&level) {
            return Err(DomainError::Rule("level must be 1 to 5".into()));
        }
        let label = ["非常不满意", "不满意", "基本满意", "满意", "非常满意"][(level - 1) as usize]
            .to_string();
        let bad = if level <= 2 {
            let (dept, step) = self.route_feedback(step);
            let (visit, w1) = cal.deadline_after(
                now.with_timezone(&Utc),
                settings.bad_rating_return_visit_days,
            )?;
            let (rectify, w2) =
                cal.deadline_after(now.with_timezone(&Utc), settings.bad_rating_rectify_days)?;
            self.warn_calendar(w1);
            self.warn_calendar(w2);
            Some(BadRatingFollowUp {
                responsible_dept: dept,
                return_visit_due: visit,
                rectify_due: rectify,
                return_visit_at: None,
                rectified_at: None,
                step: Some(step),
                return_visit_summary: None,
                rectification: None,
                answer: None,
            })
        } else {
            None
        };
        let follow_up = !self.ratings.is_empty();
        self.ratings.push(Rating {
            level,
            label,
            comment,
            at: now,
            follow_up,
            bad,
        });
        self.log(
            now,
            &actor.label(),
            if follow_up {
                "follow_up_rating"
            } else {
                "rated"
            },
            &format!("{level} 星"),
        );
        Ok(self.ratings.last().expect("just pushed"))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn complain(
        &mut self,
        complaint_id: String,
        text: String,
        step: Option<Step>,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
        settings: &crate::settings::Settings,
    ) -> Result<&Complaint, DomainError> {
        if self.complaints.len() >= MAX_COMPLAINTS_PER_CASE {
            return Err(DomainError::Limit(format!(
                "每件申请最多提交 {MAX_COMPLAINTS_PER_CASE} 次投诉，请通过 12345 热线反映"
            )));
        }
        // Routed to the department of the step it concerns (never to a window officer:
        // only department officers answer).
        let (dept, step) = self.route_feedback(step);
        let (visit, w1) = cal.deadline_after(
            now.with_timezone(&Utc),
            settings.bad_rating_return_visit_days,
        )?;
        let (rectify, w2) =
            cal.deadline_after(now.with_timezone(&Utc), settings.bad_rating_rectify_days)?;
        self.warn_calendar(w1);
        self.warn_calendar(w2);
        self.complaints.push(Complaint {
            complaint_id,
            text,
            at: now,
            dept,
            status: "open".into(),
            answer: None,
            answered_at: None,
            answered_by: None,
            step: Some(step),
            return_visit_due: Some(visit),
            rectify_due: Some(rectify),
            return_visit_at: None,
            return_visit_summary: None,
            rectified_at: None,
            rectification: None,
        });
        self.log(
            now,
            &actor.label(),
            "complaint",
            &format!("转{}处理", dept.name_zh()),
        );
        Ok(self.complaints.last().expect("just pushed"))
    }

    pub fn answer_complaint(
        &mut self,
        complaint_id: &str,
        answer: String,
        actor: &Actor,
        now: Time,
    ) -> Result<&Complaint, DomainError> {
        let id = format!("{}.{complaint_id}", self.case_id);
        self.follow_up(&id, crate::feedback::FollowUp::Answer(answer), actor, now)?;
        Ok(self
            .complaints
            .iter()
            .find(|c| c.complaint_id == complaint_id)
            .expect("answered above"))
    }
}
