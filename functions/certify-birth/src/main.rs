//! Lambda entry point: SQS → `onething_certify_birth::handle`, with partial batch failures.

#[tokio::main]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::run_sqs(onething_certify_birth::handle).await
}
