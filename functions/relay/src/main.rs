//! Lambda entry point: the table's stream → every committed change's messages to their
//! queues, in order per case (see `aws::stream`). Uses SQS only.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::init_tracing();
    let init = lambda::Init::from_env()?;
    lambda::run_stream(init.queues()).await
}
