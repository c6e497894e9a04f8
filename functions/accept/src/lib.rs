//! The `accept` function: consumes its SQS queue and performs the `Acceptance` step
//! (see `domain::flow::FLOW` for its department, time limits and what it may do).

use application::{App, Envelope, HandlerError};
use domain::flow::Step;

/// The step this function performs.
pub const STEP: Step = Step::Acceptance;

/// Handle one message from this function's queue.
pub async fn handle(app: App, env: Envelope) -> Result<(), HandlerError> {
    application::handlers::handle_for_step(&app, STEP, &env).await
}

/// This function's composition root, as its `main` runs it: the adapters its step needs
/// by the flow table ([`lambda::Init::for_step`]), built from the Lambda environment
/// that `var` looks up (the process environment in `main`; the deployed template's
/// environment and the role's credentials in the tests).
pub fn compose(
    var: impl Fn(&str) -> Option<String> + 'static,
) -> Result<App, lambda::lambda_runtime::Error> {
    Ok(lambda::Init::from_lookup(var)?.for_step(STEP)?.app())
}
