//! Lambda entry point: SQS → `onething_register_household::handle`, with partial batch failures.
//! Uses DynamoDB and SQS, and KMS to sign the certificates of the results it issues.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::init_tracing();
    let app = lambda::Init::from_env()?.with_certificates().app();
    lambda::run_sqs(app, onething_register_household::handle).await
}
