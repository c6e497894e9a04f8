//! The records a case keeps: its steps' states, materials, corrections, the guardian's
//! ratings and complaints, the archive's reference.

use super::*;

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Which of the newborn's numbers a superseded one was (stored by these names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupersededKind {
    BirthCertificateNumber,
    VaccinationCertificateNumber,
    NewbornIdNumber,
    HouseholdNumber,
    SocialSecurityCardSerial,
}

impl SupersededKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SupersededKind::BirthCertificateNumber => "birth_certificate_number",
            SupersededKind::VaccinationCertificateNumber => "vaccination_certificate_number",
            SupersededKind::NewbornIdNumber => "newborn_id_number",
            SupersededKind::HouseholdNumber => "household_number",
            SupersededKind::SocialSecurityCardSerial => "social_security_card_serial",
        }
    }
}

/// A result replaced by a correction: never issued again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Superseded {
    pub kind: SupersededKind,
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
pub(super) struct DeliveryWire {
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
    pub actor: ActorLabel,
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

/// Where a complaint stands (stored and shown as `open` or `answered`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStatus {
    Open,
    Answered,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Complaint {
    pub complaint_id: String,
    pub text: String,
    pub at: Time,
    pub dept: Dept,
    pub status: ComplaintStatus,
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
