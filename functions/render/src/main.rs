//! Lambda entry point: SQS → `onething_render::handle`, with partial batch failures.
//! Uses DynamoDB, SQS and S3, KMS to seal the PDFs, and the font packaged beside the
//! bootstrap (`CJK_FONT`, default `$LAMBDA_TASK_ROOT/wqy-microhei.ttc`).

use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda::lambda_runtime::Error> {
    lambda::init_tracing();
    let font = std::env::var("CJK_FONT").unwrap_or_else(|_| {
        let root = std::env::var("LAMBDA_TASK_ROOT").unwrap_or_else(|_| "/var/task".into());
        format!("{root}/wqy-microhei.ttc")
    });
    let renderer = documents::Renderer::from_file(std::path::Path::new(&font))
        .map_err(|e| format!("the font {font}: {e}"))?;
    let init = lambda::Init::from_env()?.with_s3().with_certificates();
    let app = init.with_documents(Some(Arc::new(renderer))).app();
    lambda::run_sqs(app, onething_render::handle).await
}
