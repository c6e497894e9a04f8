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

/// This function's composition root, as its `main` runs it: the adapters it uses, built
/// from the Lambda environment that `var` looks up (the process environment in `main`; the
/// deployed template's environment and the role's credentials in the tests).
pub fn compose(
    var: impl Fn(&str) -> Option<String> + 'static,
) -> Result<App, lambda::lambda_runtime::Error> {
    Ok(lambda::Init::from_lookup(var)?
        .with_s3()
        .with_documents(None)
        .app())
}
