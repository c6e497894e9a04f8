//! The `unify-issuance` function: consumes its SQS queue and performs the `UnifiedIssuance` step
//! (see `domain::flow::FLOW` for its department, time limit and materials).

use domain::flow::Step;
use ports::{App, HandlerError};

/// The step this function performs.
pub const STEP: Step = Step::UnifiedIssuance;

/// Handle one message body from this function's queue.
pub async fn handle(app: App, body: String) -> Result<(), HandlerError> {
    ports::steps::handle_for_step(&app, STEP, &body).await
}
