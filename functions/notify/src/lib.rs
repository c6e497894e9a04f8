//! The `notify` function: tells the guardian of every event they must act on or learn
//! of, through the notification port (SMS or app push in production; recorded locally).

use application::message::Envelope;
use application::{App, HandlerError};

pub async fn handle(app: App, env: Envelope) -> Result<(), HandlerError> {
    match env {
        Envelope::Notify {
            case_id,
            notice,
            seq,
            note,
            archive_after,
        } => application::handlers::notify(&app, &case_id, notice, seq, note, archive_after).await,
        other => Err(HandlerError::Permanent(format!(
            "notify received a message for queue {}",
            other.queue()
        ))),
    }
}
