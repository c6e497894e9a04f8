//! Shared by every Lambda `main.rs`: build the [`App`] once at init (no network calls),
//! log JSON, and turn an SQS batch into a partial batch response: only the failed
//! messages return to the queue; messages that can never succeed are reported too, so
//! SQS moves them to the DLQ after `maxReceiveCount`.
//!

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use ports::{App, HandlerError};
use std::future::Future;
use std::sync::Arc;

pub use lambda_runtime;

/// JSON logs, level from `RUST_LOG` (default info).
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_current_span(false)
        .try_init();
}

/// Build the application context from the environment, once, at init. No network calls:
/// SDK clients resolve credentials lazily and the data-sharing key is fetched on first use.
///
/// `ONETHING_BACKEND=aws` (as the template sets it) uses DynamoDB, SQS and S3 named by
/// `TABLE_NAME`, `MATERIALS_BUCKET`, `ARCHIVE_BUCKET`, `QUEUE_URL_*`, `DLQ_URL_*`, and the
/// data-sharing platform at `DATA_SHARING_URL` (empty: the built-in fixture). Otherwise the
/// embedded adapters under `ONETHING_DATA_DIR`.
pub async fn app_from_env() -> Result<App, lambda_runtime::Error> {
    let manual = std::env::var("ONETHING_MANUAL")
        .unwrap_or_default()
        .split(',')
        .filter_map(|d| domain::Dept::parse(d.trim()))
        .collect();
    let settings = domain::Settings::default();
    let calendar = domain::Calendar::builtin(settings.unknown_year_policy);
    let clock = Arc::new(ports::SystemClock);
    if std::env::var("ONETHING_BACKEND").as_deref() == Ok("aws") {
        let config = sdk_config_from_lambda_env().await;
        let resources = aws::Resources::from_env();
        let adapters = aws::Aws::new(&config, &resources, 5);
        let sharing: Arc<dyn ports::DataSharing> =
            match std::env::var("DATA_SHARING_URL").unwrap_or_default() {
                url if url.is_empty() => Arc::new(embedded::FixtureSharing::from_json(
                    embedded::sample_registry(),
                )?),
                url => {
                    let secret_id = std::env::var("DATA_SHARING_SECRET_ARN").unwrap_or_default();
                    let key = aws::ApiKey::Secret {
                        client: aws_sdk_secretsmanager::Client::new(&config),
                        secret_id,
                    };
                    Arc::new(aws::HttpSharing::new(&url, key)?)
                }
            };
        return Ok(adapters.app(sharing, calendar, settings, manual, clock));
    }
    let dir = std::env::var("ONETHING_DATA_DIR").unwrap_or_else(|_| "/tmp/onething".into());
    let secret = std::env::var("ONETHING_UPLOAD_SECRET").unwrap_or_default();
    let e = embedded::Embedded::open(
        std::path::Path::new(&dir),
        embedded::Durability::Full,
        5,
        secret.as_bytes(),
    )?;
    let registry = match std::env::var("ONETHING_REGISTRY") {
        Ok(path) => std::fs::read_to_string(path)?,
        Err(_) => embedded::sample_registry().to_string(),
    };
    let sharing = Arc::new(embedded::FixtureSharing::from_json(&registry)?);
    Ok(e.app(sharing, calendar, settings, manual, clock))
}

/// The SDK configuration from the Lambda environment: region and credentials come from
/// the variables Lambda sets, so no provider chain (profile files, IMDS, container
/// credentials) is assembled at init. `AWS_ENDPOINT_URL` is still honoured.
pub async fn sdk_config_from_lambda_env() -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Ok(region) = std::env::var("AWS_REGION") {
        loader = loader.region(aws_config::Region::new(region));
    }
    if std::env::var("AWS_ACCESS_KEY_ID").is_ok() {
        loader = loader.credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        );
    }
    loader.load().await
}

/// The whole life of an SQS-triggered function: JSON logs, the application built once at
/// init, then every batch through `handler` with partial batch failures.
pub async fn run_sqs<F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(App, String) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HandlerError>> + Send,
{
    init_tracing();
    let app = app_from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<SqsEvent>| {
        let app = app.clone();
        async move { Ok::<_, lambda_runtime::Error>(sqs_batch(&app, event.payload, handler).await) }
    }))
    .await
}

/// Handle each record; report failures by message id.
pub async fn sqs_batch<F, Fut>(app: &App, event: SqsEvent, handler: F) -> SqsBatchResponse
where
    F: Fn(App, String) -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.unwrap_or_default();
        if let Err(e) = handler(app.clone(), body).await {
            match &e {
                HandlerError::Retryable(_) => {
                    tracing::warn!(message_id = %id, error = %e, "message will be retried")
                }
                HandlerError::Permanent(_) => {
                    tracing::error!(message_id = %id, error = %e, "message can never succeed")
                }
            }
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            response.batch_item_failures.push(f);
        }
    }
    response
}
