//! Lambda entry point: SQS → `onething_notify::handle`, with partial batch failures.
//! Uses DynamoDB and SQS only. Wiring: `onething_notify::compose`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::init_tracing();
    let app = onething_notify::compose(|k| std::env::var(k).ok())?;
    lambda::run_sqs(app, onething_notify::handle).await
}
