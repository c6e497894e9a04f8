//! Lambda entry point: SQS → `onething_archive::handle`, with partial batch failures.
//! Uses DynamoDB, SQS and S3. Wiring: `onething_archive::compose`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::init_tracing();
    let app = onething_archive::compose(|k| std::env::var(k).ok())?;
    lambda::run_sqs(app, onething_archive::handle).await
}
