//! Lambda entry point: SQS → `onething_archive::handle`, with partial batch failures.
//! Uses DynamoDB, SQS and S3.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::init_tracing();
    let app = lambda::Init::from_env()?
        .with_s3()
        .with_documents(None)
        .app();
    lambda::run_sqs(app, onething_archive::handle).await
}
