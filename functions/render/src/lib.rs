//! The `render` function: the PDFs of a case's newly issued certificates (A4, the signed
//! fields, a QR code of the verify_url, sealed with the certificate key), written once to
//! the materials bucket. Its own function because the font it sets them in (5 MB) does
//! not fit the other functions' packages.

use application::message::Envelope;
use application::{App, HandlerError};

pub async fn handle(app: App, env: Envelope) -> Result<(), HandlerError> {
    match env {
        Envelope::Render { case_id } => application::certs::render(&app, &case_id).await,
        other => Err(HandlerError::Permanent(format!(
            "render received a message for queue {}",
            other.queue()
        ))),
    }
}
