//! The `render` function: the PDFs of a case's newly issued certificates (A4, the signed
//! fields and the facts their paper forms carry, a QR code of the short verify_url,
//! sealed with the certificate key), written once to the materials bucket. Its own function because the font it sets them in (5 MB) does
//! not fit the other functions' packages.

use application::message::Envelope;
use application::{App, HandlerError};

pub async fn handle(app: App, env: Envelope) -> Result<(), HandlerError> {
    match env {
        Envelope::Render { case_id } => application::certs::render(&app, &case_id).await,
        other => Err(HandlerError::Permanent(format!(
            "render received a message for queue {}",
            other.queue()
        ))),
    }
}

/// This function's composition root, as its `main` runs it, from the Lambda environment
/// that `var` looks up: DynamoDB, SQS, S3, KMS to seal the PDFs, and the font packaged
/// beside the bootstrap (`CJK_FONT`, default `$LAMBDA_TASK_ROOT/wqy-microhei.ttc`).
pub fn compose(
    var: impl Fn(&str) -> Option<String> + 'static,
) -> Result<App, lambda::lambda_runtime::Error> {
    let font = var("CJK_FONT").unwrap_or_else(|| {
        let root = var("LAMBDA_TASK_ROOT").unwrap_or_else(|| "/var/task".into());
        format!("{root}/wqy-microhei.ttc")
    });
    let renderer = documents::Renderer::from_file(std::path::Path::new(&font))
        .map_err(|e| format!("the font {font}: {e}"))?;
    let init = lambda::Init::from_lookup(var)?
        .with_s3()
        .with_certificates();
    Ok(init
        .with_documents(Some(std::sync::Arc::new(renderer)))
        .app())
}
