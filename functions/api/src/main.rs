//! Lambda entry point: API Gateway HTTP API (payload v2) → `onething_api::Api::handle`,
//! with claims taken from the JWT authorizer's request context (`onething_api::apigw`).
//! Uses DynamoDB, SQS and S3, and KMS for the certificates' public keys.

use lambda::lambda_runtime::{run, service_fn, Error, LambdaEvent};
use onething_api::auth::Auth;
use onething_api::Api;
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let init = lambda::Init::from_env()?
        .with_s3()
        .with_certificates()
        .with_documents(None);
    let audit = init.audit();
    let api = Arc::new(Api {
        app: init.app(),
        auth: Auth::Upstream,
        public_base_url: std::env::var("ONETHING_PUBLIC_URL").ok(),
        audit,
    });
    run(service_fn(move |event: LambdaEvent<_>| {
        let api = api.clone();
        async move { Ok::<_, Error>(onething_api::apigw::handle(&api, event.payload).await) }
    }))
    .await
}
