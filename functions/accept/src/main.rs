//! Lambda entry point: SQS → `onething_accept::handle`, with partial batch failures.
//! Uses DynamoDB, SQS and the data-sharing client.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::init_tracing();
    let app = lambda::Init::from_env()?.with_data_sharing()?.app();
    lambda::run_sqs(app, onething_accept::handle).await
}
