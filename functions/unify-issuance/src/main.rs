//! Lambda entry point: SQS → `onething_unify_issuance::handle`, with partial batch failures.

#[tokio::main]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::run_sqs(onething_unify_issuance::handle).await
}
