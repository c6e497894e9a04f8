//! Lambda entry point: SQS → `onething_register_household::handle`, with partial batch failures.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda::lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let app = lambda::app_from_env().await?;
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let app = app.clone();
        async move {
            Ok::<_, Error>(
                lambda::sqs_batch(&app, event.payload, onething_register_household::handle).await,
            )
        }
    }))
    .await
}
