//! Lambda entry point: SQS → `onething_issue_card::handle`, with partial batch failures.
//! Uses DynamoDB and SQS only.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::init_tracing();
    let app = lambda::Init::from_env()?.app();
    lambda::run_sqs(app, onething_issue_card::handle).await
}
