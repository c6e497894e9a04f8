//! Lambda entry point: SQS → `onething_render::handle`, with partial batch failures.
//! Wiring: `onething_render::compose` (DynamoDB, SQS, S3, KMS and the packaged font).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::init_tracing();
    let app = onething_render::compose(|k| std::env::var(k).ok())?;
    lambda::run_sqs(app, onething_render::handle).await
}
