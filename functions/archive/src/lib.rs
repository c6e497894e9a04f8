//! The `archive` function: writes every finished case's electronic archive (form,
//! materials, results, history, and a manifest of SHA-256 checksums), write-once.

use ports::message::Envelope;
use ports::{App, HandlerError};

pub async fn handle(app: App, body: String) -> Result<(), HandlerError> {
    match Envelope::parse(&body).map_err(HandlerError::Permanent)? {
        Envelope::Archive { case_id } => ports::steps::archive(&app, &case_id).await,
        other => Err(HandlerError::Permanent(format!(
            "archive received a message for queue {}",
            other.queue()
        ))),
    }
}
