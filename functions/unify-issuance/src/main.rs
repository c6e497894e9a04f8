//! Lambda entry point: SQS → `onething_unify_issuance::handle`, with partial batch failures.
//! Uses DynamoDB and SQS only. Wiring: `onething_unify_issuance::compose`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::init_tracing();
    let app = onething_unify_issuance::compose(|k| std::env::var(k).ok())?;
    lambda::run_sqs(app, onething_unify_issuance::handle).await
}
