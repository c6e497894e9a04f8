//! Messages between functions.

use domain::case::{Effect, NoticeKind};
use domain::flow::{self, Step};
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
    },
    /// Archive the finished case.
    Archive { case_id: String },
}

impl Envelope {
    pub fn case_id(&self) -> &str {
        match self {
            Envelope::Step { case_id, .. }
            | Envelope::Notify { case_id, .. }
            | Envelope::Archive { case_id } => case_id,
        }
    }
    pub fn queue(&self) -> &'static str {
        match self {
            Envelope::Step { step, .. } => step.queue(),
            Envelope::Notify { .. } => flow::NOTIFY_QUEUE,
            Envelope::Archive { .. } => flow::ARCHIVE_QUEUE,
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

/// Turn a transition's effects into messages.
pub fn outbox(case_id: &str, effects: &[Effect]) -> Vec<OutMessage> {
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
                },
            };
            env.to_out()
        })
        .collect()
}
