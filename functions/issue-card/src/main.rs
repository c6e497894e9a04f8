//! Lambda entry point: SQS → `onething_issue_card::handle`, with partial batch failures.

#[tokio::main]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::run_sqs(onething_issue_card::handle).await
}
