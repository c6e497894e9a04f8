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

/// This function's composition root, as its `main` runs it: the adapters it uses, built
/// from the Lambda environment that `var` looks up (the process environment in `main`; the
/// deployed template's environment and the role's credentials in the tests).
pub fn compose(
    var: impl Fn(&str) -> Option<String> + 'static,
) -> Result<App, lambda::lambda_runtime::Error> {
    Ok(lambda::Init::from_lookup(var)?.app())
}
