//! The `relay` function: every committed change's messages, read from the table's stream,
//! sent to their queues in order per case (see `aws::stream` and `lambda::stream_batch`).

use std::sync::Arc;

/// This function's composition root, as its `main` runs it: the step queues (SQS only),
/// from the Lambda environment that `var` looks up.
pub fn compose(
    var: impl Fn(&str) -> Option<String> + 'static,
) -> Result<Arc<dyn ports::QueueSender>, lambda::lambda_runtime::Error> {
    Ok(lambda::Init::from_lookup(var)?.queues())
}
