//! Messages between functions.

use domain::case::{Case, Effect, NoticeKind};
use domain::flow::{self, Step};
use domain::notice::Notification;
use ports::OutMessage;
use serde::{Deserialize, Serialize};

/// The body of every queue message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Envelope {
    /// Work on this step of the case.
    Step { case_id: String, step: Step },
    /// Tell the guardian about an event.
    Notify {
        case_id: String,
        notice: NoticeKind,
        seq: u32,
        /// The notification as composed from the case its change committed, so that
        /// delivering it reads no case. (Absent in re-sends by the SLA monitor and in
        /// messages from before this field: composed from the case on delivery.)
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<Notification>,
        /// Set when that change finished the case: how many notifications it has had by
        /// then. The delivery that finds them all delivered asks for the archive.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        archive_after: Option<u32>,
    },
    /// Archive the finished case.
    Archive { case_id: String },
    /// Render and store the PDFs of the case's certificates that have none.
    Render { case_id: String },
}

impl Envelope {
    pub fn case_id(&self) -> &str {
        match self {
            Envelope::Step { case_id, .. }
            | Envelope::Notify { case_id, .. }
            | Envelope::Archive { case_id }
            | Envelope::Render { case_id } => case_id,
        }
    }
    pub fn queue(&self) -> &'static str {
        match self {
            Envelope::Step { step, .. } => step.queue(),
            Envelope::Notify { .. } => flow::NOTIFY_QUEUE,
            Envelope::Archive { .. } => flow::ARCHIVE_QUEUE,
            Envelope::Render { .. } => flow::RENDER_QUEUE,
        }
    }
    pub fn parse(body: &str) -> Result<Envelope, String> {
        serde_json::from_str(body).map_err(|e| format!("not a message: {e}"))
    }
    pub fn to_out(&self) -> OutMessage {
        OutMessage {
            queue: self.queue().to_string(),
            body: serde_json::to_string(self).expect("serialises"),
        }
    }
}

/// Turn a transition's effects into messages (`case` as the transition left it).
pub fn outbox(case: &Case, effects: &[Effect]) -> Vec<OutMessage> {
    let case_id = case.case_id();
    let finished = case.status().is_finished() && case.archive().is_none();
    effects
        .iter()
        .map(|e| {
            let env = match e {
                Effect::Dispatch { step } => Envelope::Step {
                    case_id: case_id.into(),
                    step: *step,
                },
                Effect::Notify { kind, seq } => Envelope::Notify {
                    case_id: case_id.into(),
                    notice: *kind,
                    seq: *seq,
                    note: Some(domain::notice::compose(case, *kind, *seq)),
                    archive_after: finished.then(|| case.notice_seq()),
                },
                Effect::RenderDocuments => Envelope::Render {
                    case_id: case_id.into(),
                },
            };
            env.to_out()
        })
        .collect()
}
