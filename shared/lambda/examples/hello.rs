//! A bare `lambda_runtime` hello world, built with the same profile as the functions: the
//! floor that `infra/scripts/footprint.py` compares their size and init time with.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|e: LambdaEvent<serde_json::Value>| async move {
        Ok::<_, Error>(e.payload)
    }))
    .await
}
