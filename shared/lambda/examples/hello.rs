//! A bare `lambda_runtime` hello world on a current-thread runtime (as the functions run),
//! built with the same profile as the functions: the floor that
//! `infra/scripts/footprint.py` and `infra/scripts/arm64_run.py` compare their size and
//! init time with.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run(service_fn(|e: LambdaEvent<serde_json::Value>| async move {
        Ok::<_, Error>(e.payload)
    }))
    .await
}
