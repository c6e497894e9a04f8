//! Shared by every Lambda `main.rs`: build the [`App`] once at init (no network calls,
//! only the adapters the function uses; see [`Init`]), log JSON, and turn an SQS batch into a partial batch response: only the failed
//! messages return to the queue; messages that can never succeed are reported too, so
//! SQS moves them to the DLQ after `maxReceiveCount`.
//!

use application::{App, Envelope, HandlerError};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_types::SdkConfig;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use lambda_runtime;

/// JSON logs, filtered by `RUST_LOG` (`info` when unset; `warn,onething_aws=debug` style
/// directives, without regular expressions).
pub fn init_tracing() {
    let filter: tracing_subscriber::filter::Targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            tracing_subscriber::filter::Targets::new()
                .with_default(tracing_subscriber::filter::LevelFilter::INFO)
        });
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(false),
        )
        .with(filter)
        .try_init();
}

/// Where configuration variables come from: the process environment, or a test's map.
type Lookup = dyn Fn(&str) -> Option<String>;

/// What a function is built from, assembled at init without network calls. Every function
/// gets DynamoDB and SQS; S3 and the data-sharing client are added only by the functions
/// whose step uses them, so the others neither link those clients nor need IAM rights
/// for them (they hold [`ports::NotWired`] instead).
///
/// Environment (the template sets it): `TABLE_NAME`, `QUEUE_URL_*`, `DLQ_URL_*`,
/// `MATERIALS_BUCKET`, `ARCHIVE_BUCKET`, `DATA_SHARING_URL`, `DATA_SHARING_SECRET_ARN`,
/// `ONETHING_MANUAL`, `CERT_KEY_ARN`, `ONETHING_PUBLIC_URL`, and what Lambda sets itself
/// (region, credentials).
pub struct Init {
    var: Box<Lookup>,
    config: SdkConfig,
    resources: aws::Resources,
    core: aws::Core,
    blobs: Arc<dyn ports::BlobStore>,
    sharing: Arc<dyn ports::DataSharing>,
    signer: Option<Arc<dyn ports::CertSigner>>,
    documents: Option<Option<Arc<dyn ports::CertRenderer>>>,
    /// The audit trail of a function that looks up personal data itself.
    audit: Option<Arc<dyn ports::AuditLog>>,
}

impl Init {
    /// DynamoDB and SQS clients over the Lambda environment's region and credentials.
    pub fn from_env() -> Result<Init, lambda_runtime::Error> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// As [`Init::from_env`], with the variables looked up in `var` (tests).
    pub fn from_lookup(
        var: impl Fn(&str) -> Option<String> + 'static,
    ) -> Result<Init, lambda_runtime::Error> {
        let config = sdk_config_from(&var)?;
        let resources = aws::Resources::from_lookup(&var);
        let core = aws::Core::new(&config, &resources, 5);
        Ok(Init {
            var: Box::new(var),
            config,
            resources,
            core,
            blobs: Arc::new(ports::NotWired("S3 buckets")),
            sharing: Arc::new(ports::NotWired("data-sharing client")),
            signer: None,
            documents: None,
            audit: None,
        })
    }

    /// Certificates' PDFs, their QR codes pointing at `ONETHING_PUBLIC_URL`: rendered
    /// here with `renderer` (the render function), or None: rendered by the render
    /// function, found stored (the API lists them, the archive waits for them).
    pub fn with_documents(mut self, renderer: Option<Arc<dyn ports::CertRenderer>>) -> Init {
        self.documents = Some(renderer);
        self
    }

    /// The certificate key in AWS KMS (`CERT_KEY_ARN`; `CERT_RETIRED_KEY_ARNS` published
    /// too): the steps that issue results sign their certificates with it, the API
    /// publishes its public keys and verifies. Without `CERT_KEY_ARN`, none.
    pub fn with_certificates(mut self) -> Init {
        if let Some(key) = &self.resources.cert_key {
            self.signer = Some(Arc::new(aws::KmsSigner::new(
                &self.config,
                key,
                self.resources.retired_cert_keys.clone(),
            )));
        }
        self
    }

    /// The materials and archive buckets (the API and the archive function).
    pub fn with_s3(mut self) -> Init {
        self.blobs = Arc::new(aws::S3Blobs::from_config(
            &self.config,
            &self.resources,
            self.core.usage.clone(),
        ));
        self
    }

    /// The provincial data-sharing platform at `DATA_SHARING_URL`, its API key read from
    /// Secrets Manager (`DATA_SHARING_SECRET_ARN`) on first use; the built-in fixture only
    /// when the stack says so (`DATA_SHARING_FIXTURE=true`, test stacks), never because a
    /// URL is missing. The accept function gathers records; the API gathers them again
    /// for a resubmission or a correction.
    pub fn with_data_sharing(mut self) -> Result<Init, lambda_runtime::Error> {
        let fixture = (self.var)("DATA_SHARING_FIXTURE").is_some_and(|v| v == "true");
        self.sharing = match (self.var)("DATA_SHARING_URL").unwrap_or_default() {
            url if url.is_empty() && fixture => Arc::new(application::FixtureSharing::from_json(
                application::sample_registry(),
            )?),
            url if url.is_empty() => {
                return Err(
                    "DATA_SHARING_URL is empty and DATA_SHARING_FIXTURE is not true: \
                            no data-sharing platform to ask"
                        .into(),
                )
            }
            url => {
                let key = aws::ApiKey::Secret(aws::SecretValue::new(
                    &self.config,
                    &(self.var)("DATA_SHARING_SECRET_ARN").unwrap_or_default(),
                ));
                Arc::new(aws::HttpSharing::new(&url, key)?)
            }
        };
        Ok(self)
    }

    /// The audit trail (`AUDIT_LOG_GROUP`): the API records every access to personal data.
    pub fn audit(&self) -> Arc<dyn ports::AuditLog> {
        Arc::new(aws::CloudWatchAudit::from_config(
            &self.config,
            &self.resources.audit_log_group,
        ))
    }

    /// The edge's origin secret (`EDGE_ORIGIN_SECRET_ARN`, set when the stack has an
    /// edge): the API answers only requests that carry it, so that the WAF in front of
    /// the edge cannot be bypassed through the HTTP API's own address. None without one.
    pub fn edge_secret(&self) -> Option<Arc<dyn ports::SecretSource>> {
        let arn = (self.var)("EDGE_ORIGIN_SECRET_ARN").filter(|a| !a.is_empty())?;
        Some(Arc::new(aws::SecretValue::new(&self.config, &arn)))
    }

    /// The step queues (the `relay` function sends every committed message).
    pub fn queues(&self) -> Arc<dyn ports::QueueSender> {
        self.core.queues.clone()
    }

    /// The application context.
    /// A step function's adapters, as the flow table says the step needs them: data
    /// sharing for a step that gathers records, the certificate key for one that signs.
    pub fn for_step(self, step: domain::flow::Step) -> Result<Init, lambda_runtime::Error> {
        let spec = domain::flow::spec(step);
        let mut init = self;
        if spec.gathers_records {
            init = init.with_data_sharing()?;
            // Its lookups are recorded in the audit trail.
            init.audit = Some(init.audit());
        }
        if spec.signs {
            init = init.with_certificates();
        }
        Ok(init)
    }

    pub fn app(self) -> App {
        let manual = (self.var)("ONETHING_MANUAL")
            .unwrap_or_default()
            .split(',')
            .filter_map(|d| domain::Dept::parse(d.trim()))
            .collect();
        let settings = domain::Settings::default();
        let calendar = domain::Calendar::builtin(settings.unknown_year_policy);
        let app = App::new(
            self.core.store.clone(),
            self.core.queues.clone(),
            self.blobs,
            self.sharing,
            self.core.numbers.clone(),
            self.core.notifier.clone(),
            Arc::new(ports::SystemClock),
            calendar,
            settings,
            manual,
        )
        .with_appointments(self.core.appointments.clone())
        .with_catalogue(self.core.catalogue.clone());
        let app = match self.audit {
            Some(audit) => app.with_audit(audit),
            None => app,
        };
        let app = match self.signer {
            Some(signer) => app.with_signer(signer),
            None => app,
        };
        match self.documents {
            Some(renderer) => {
                let base = (self.var)("ONETHING_PUBLIC_URL").unwrap_or_default();
                app.with_documents(renderer, &base)
            }
            None => app,
        }
    }
}

/// The SDK configuration from what Lambda sets: `AWS_REGION` and the execution role's
/// credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, valid
/// for the life of the execution environment). `AWS_ENDPOINT_URL` is honoured (emulators).
/// No profile files, IMDS or STS: nothing is read or called beyond the environment. One
/// HTTPS client (hyper 1, rustls with ring) serves every service; it loads the system's
/// trusted roots when its first connection is made, not here.
fn sdk_config_from(lookup: &dyn Fn(&str) -> Option<String>) -> Result<SdkConfig, String> {
    use aws_smithy_http_client::tls;
    let var = |k: &str| lookup(k).filter(|v| !v.is_empty());
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .ok_or("AWS_REGION is not set")?;
    let (Some(key), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) else {
        return Err("AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set".into());
    };
    let credentials = aws_credential_types::Credentials::new(
        key,
        secret,
        var("AWS_SESSION_TOKEN"),
        None,
        "lambda-environment",
    );
    let http = SharedHttpClient::new(ConnectOnFirstUse(
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https(),
    ));
    let mut b = SdkConfig::builder()
        .region(aws_types::region::Region::new(region))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
        )
        .behavior_version(
            aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest(),
        )
        .http_client(http)
        .sleep_impl(aws_smithy_async::rt::sleep::SharedAsyncSleep::new(
            aws_smithy_async::rt::sleep::TokioSleep::new(),
        ))
        .time_source(aws_smithy_async::time::SharedTimeSource::default())
        .retry_config(aws_smithy_types::retry::RetryConfig::standard())
        // A hung request must not eat the function's whole time: each attempt gets 5 s,
        // an operation with its retries 15 s.
        .timeout_config(sdk_timeouts());
    if let Some(url) = var("AWS_ENDPOINT_URL") {
        b = b.endpoint_url(url);
    }
    Ok(b.build())
}

/// The SDK's timeouts: connect, each attempt, each operation (with retries).
pub fn sdk_timeouts() -> aws_smithy_types::timeout::TimeoutConfig {
    aws_smithy_types::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(3))
        .operation_attempt_timeout(std::time::Duration::from_secs(5))
        .operation_timeout(std::time::Duration::from_secs(15))
        .build()
}

/// The SDK's HTTPS client, except that its TLS connector (and with it the system's ~150
/// trusted root certificates, read from disk) is built when the first request needs it
/// rather than when each SDK client is constructed: the SDK's own client builds it during
/// client validation, which tripled our init time. The first request pays it once (one
/// connector is shared by every service client with the same settings), alongside the
/// TLS handshake it needs anyway.
#[derive(Debug)]
struct ConnectOnFirstUse(SharedHttpClient);

impl HttpClient for ConnectOnFirstUse {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The whole life of an SQS-triggered function after init: every batch through `handler`
/// with partial batch failures, stopping before the invocation's deadline. When every
/// record of a batch failed the invocation fails (Lambda then backs off the source).
pub async fn run_sqs<F, Fut>(app: App, handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(App, Envelope) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HandlerError>> + Send,
{
    let batch = move |event: lambda_runtime::LambdaEvent<SqsEvent>| {
        let app = app.clone();
        async move {
            // The context's deadline is in milliseconds since the epoch.
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            let left = event.context.deadline.saturating_sub(now_ms);
            let deadline = Instant::now() + Duration::from_millis(left);
            let n = event.payload.records.len();
            let response = sqs_batch_until(&app, event.payload, handler, Some(deadline)).await;
            if n > 0 && response.batch_item_failures.len() == n {
                return Err(lambda_runtime::Error::from(format!(
                    "all {n} records of the batch failed"
                )));
            }
            Ok::<_, lambda_runtime::Error>(response)
        }
    };
    lambda_runtime::run(lambda_runtime::service_fn(batch)).await
}

/// How long before the invocation's deadline no new record is started.
const DEADLINE_MARGIN: Duration = Duration::from_secs(3);

/// [`sqs_batch_until`] without a deadline.
pub async fn sqs_batch<F, Fut>(app: &App, event: SqsEvent, handler: F) -> SqsBatchResponse
where
    F: Fn(App, Envelope) -> Fut + Copy,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    sqs_batch_until(app, event, handler, None).await
}

/// A batch's records: each message id with its envelope (or why it could not be read).
type Record = (String, Result<Envelope, String>);

/// A batch's records grouped by case, in their order (an unreadable one alone).
fn by_case(event: SqsEvent) -> Vec<(String, Vec<Record>)> {
    let mut groups: Vec<(String, Vec<Record>)> = vec![];
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let parsed = Envelope::parse(&record.body.unwrap_or_default());
        let key = match &parsed {
            Ok(env) => env.case_id().to_string(),
            Err(_) => format!("unparsed:{id}"),
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, records)) => records.push((id, parsed)),
            None => groups.push((key, vec![(id, parsed)])),
        }
    }
    groups
}

/// Handle a batch: the records of one case in their order, different cases concurrently;
/// a record whose handler panics fails alone; records not yet started when the deadline
/// nears are reported as failures untouched (they return to the queue). Failures are
/// reported by message id.
pub async fn sqs_batch_until<F, Fut>(
    app: &App,
    event: SqsEvent,
    handler: F,
    deadline: Option<Instant>,
) -> SqsBatchResponse
where
    F: Fn(App, Envelope) -> Fut + Copy,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    use futures_util::FutureExt;
    let runs = by_case(event).into_iter().map(|(_, records)| async move {
        let mut failed = vec![];
        // The same message again in one batch (a redelivery, or requests that coalesce:
        // the render queue gathers a case's four) settles as the first did: handlers are
        // idempotent, so running it again right after would change nothing.
        let mut done: Vec<(Envelope, bool)> = vec![];
        for (id, parsed) in records {
            if let Ok(env) = &parsed {
                if let Some((_, ok)) = done.iter().find(|(e, _)| e == env) {
                    if !*ok {
                        failed.push(id);
                    }
                    continue;
                }
            }
            if deadline.is_some_and(|d| Instant::now() + DEADLINE_MARGIN >= d) {
                tracing::warn!(message_id = %id, "not started: the invocation's deadline is near");
                failed.push(id);
                continue;
            }
            let env = parsed.as_ref().ok().cloned();
            let outcome = match parsed {
                Ok(env) => std::panic::AssertUnwindSafe(handler(app.clone(), env))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| {
                        Err(HandlerError::Retryable("the handler panicked".into()))
                    }),
                Err(e) => Err(HandlerError::Permanent(e)),
            };
            if let Some(env) = env {
                done.push((env, outcome.is_ok()));
            }
            if let Err(e) = outcome {
                match &e {
                    HandlerError::Retryable(_) => {
                        tracing::warn!(message_id = %id, error = %e, "message will be retried")
                    }
                    HandlerError::Permanent(_) | HandlerError::ForOfficer(_) => {
                        tracing::error!(message_id = %id, error = %e, "message can never succeed")
                    }
                }
                failed.push(id);
            }
        }
        failed
    });
    let mut response = SqsBatchResponse::default();
    for id in futures_util::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
    {
        let mut f = BatchItemFailure::default();
        f.item_identifier = id;
        response.batch_item_failures.push(f);
    }
    response
}

/// The changes of a DynamoDB stream event: each record's sequence number and the
/// messages in its new image's `outbox` (see `aws::stream`).
pub fn stream_changes(
    event: &aws_lambda_events::event::dynamodb::Event,
) -> Vec<(String, Result<aws::stream::Change, ports::StoreError>)> {
    event
        .records
        .iter()
        .map(|r| {
            let sequence = r.change.sequence_number.clone().unwrap_or_default();
            // The image in DynamoDB's JSON form: `{"outbox": {"S": "..."}}`.
            let image = serde_json::to_value(&r.change.new_image).unwrap_or_default();
            let attr = image
                .get("outbox")
                .and_then(|v| v.get("S"))
                .and_then(|v| v.as_str());
            let change = aws::stream::decode(attr).map(|messages| aws::stream::Change {
                sequence: sequence.clone(),
                messages,
            });
            (sequence, change)
        })
        .collect()
}

/// Relay a stream batch in order; the first record that could not be relayed (and so
/// every later one: the stream is read again from it) is reported, as a DynamoDB event
/// source mapping with `ReportBatchItemFailures` expects.
pub async fn stream_batch(
    queues: &dyn ports::QueueSender,
    event: &aws_lambda_events::event::dynamodb::Event,
) -> aws_lambda_events::event::streams::DynamoDbEventResponse {
    let mut response = aws_lambda_events::event::streams::DynamoDbEventResponse::default();
    let mut changes = vec![];
    for (sequence, change) in stream_changes(event) {
        match change {
            Ok(c) => changes.push(c),
            Err(e) => {
                // Not a message list: nothing later in the shard is relayed before it is
                // looked at (the mapping's retries end in its failure destination).
                tracing::error!(sequence, error = %e, "a change's outbox is unreadable");
                if let Err((seq, e)) = aws::stream::relay(queues, &changes).await {
                    tracing::warn!(error = %e, "relay failed");
                    fail(&mut response, seq);
                } else {
                    fail(&mut response, sequence);
                }
                return response;
            }
        }
    }
    match aws::stream::relay(queues, &changes).await {
        Ok(n) => tracing::info!(messages = n, changes = changes.len(), "relayed"),
        Err((seq, e)) => {
            tracing::warn!(error = %e, "relay failed; the stream is read again from here");
            fail(&mut response, seq);
        }
    }
    response
}

fn fail(r: &mut aws_lambda_events::event::streams::DynamoDbEventResponse, sequence: String) {
    let mut f = aws_lambda_events::event::streams::DynamoDbBatchItemFailure::default();
    f.item_identifier = Some(sequence);
    r.batch_item_failures.push(f);
}

/// The `relay` function's life after init: every stream batch through [`stream_batch`].
pub async fn run_stream(queues: Arc<dyn ports::QueueSender>) -> Result<(), lambda_runtime::Error> {
    let batch =
        move |event: lambda_runtime::LambdaEvent<aws_lambda_events::event::dynamodb::Event>| {
            let queues = queues.clone();
            async move {
                Ok::<_, lambda_runtime::Error>(stream_batch(queues.as_ref(), &event.payload).await)
            }
        };
    lambda_runtime::run(lambda_runtime::service_fn(batch)).await
}
