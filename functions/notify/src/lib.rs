//! The `notify` function: tells the guardian of every event they must act on or learn
//! of, through the notification port (SMS or app push in production; recorded locally).

use ports::message::Envelope;
use ports::{App, HandlerError};

pub async fn handle(app: App, body: String) -> Result<(), HandlerError> {
    match Envelope::parse(&body).map_err(HandlerError::Permanent)? {
        Envelope::Notify {
            case_id,
            notice,
            seq,
        } => ports::steps::notify(&app, &case_id, notice, seq).await,
        other => Err(HandlerError::Permanent(format!(
            "notify received a message for queue {}",
            other.queue()
        ))),
    }
}
