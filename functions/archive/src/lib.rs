//! The `archive` function: writes every finished case's electronic archive (form,
//! materials, results, history, and a manifest of SHA-256 checksums), write-once.

use application::message::Envelope;
use application::{App, HandlerError};

pub async fn handle(app: App, env: Envelope) -> Result<(), HandlerError> {
    match env {
        Envelope::Archive { case_id } => application::handlers::archive(&app, &case_id).await,
        other => Err(HandlerError::Permanent(format!(
            "archive received a message for queue {}",
            other.queue()
        ))),
    }
}
