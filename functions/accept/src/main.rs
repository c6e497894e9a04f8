//! Lambda entry point: SQS → `onething_accept::handle`, with partial batch failures.
//! Uses DynamoDB, SQS and the data-sharing client. Wiring: `onething_accept::compose`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::init_tracing();
    let app = onething_accept::compose(|k| std::env::var(k).ok())?;
    lambda::run_sqs(app, onething_accept::handle).await
}
