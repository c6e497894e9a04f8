//! Lambda entry point: the table's stream → every committed change's messages to their
//! queues, in order per case (see `aws::stream`). Wiring: `onething_relay::compose`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::init_tracing();
    let queues = onething_relay::compose(|k| std::env::var(k).ok())?;
    lambda::run_stream(queues).await
}
