//! The `certify-birth` function: consumes its SQS queue and performs the `BirthCertificate` step
//! (see `domain::flow::FLOW` for its department, time limit and materials).

use application::{App, Envelope, HandlerError};
use domain::flow::Step;

/// The step this function performs.
pub const STEP: Step = Step::BirthCertificate;

/// Handle one message from this function's queue.
pub async fn handle(app: App, env: Envelope) -> Result<(), HandlerError> {
    application::handlers::handle_for_step(&app, STEP, &env).await
}
