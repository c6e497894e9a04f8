//! Lambda entry point: SQS → `onething_enrol_insurance::handle`, with partial batch failures.
//! Uses DynamoDB and SQS, and KMS to sign the certificates of the results it issues.
//! Wiring: `onething_enrol_insurance::compose`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::init_tracing();
    let app = onething_enrol_insurance::compose(|k| std::env::var(k).ok())?;
    lambda::run_sqs(app, onething_enrol_insurance::handle).await
}
