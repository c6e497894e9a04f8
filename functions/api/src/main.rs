//! Lambda entry point: API Gateway HTTP API (payload v2) → `onething_api::Api::handle`,
//! with claims taken from the JWT authorizer's request context (`onething_api::apigw`).
//! Wiring: `onething_api::Api::compose` (DynamoDB, SQS, S3, KMS, data sharing, audit).

use lambda::lambda_runtime::{run, service_fn, Error, LambdaEvent};
use onething_api::Api;
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let api = Arc::new(Api::compose(|k| std::env::var(k).ok())?);
    run(service_fn(move |event: LambdaEvent<_>| {
        let api = api.clone();
        async move { Ok::<_, Error>(onething_api::apigw::handle(&api, event.payload).await) }
    }))
    .await
}
