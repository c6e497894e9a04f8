//! Lambda entry point: SQS → `onething_register_household::handle`, with partial batch failures.

#[tokio::main]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::run_sqs(onething_register_household::handle).await
}
