//! Lambda entry point: SQS → `onething_enrol_insurance::handle`, with partial batch failures.

#[tokio::main]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::run_sqs(onething_enrol_insurance::handle).await
}
