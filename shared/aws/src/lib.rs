//! AWS adapters for every port: DynamoDB (cases, idempotency keys, outbox, number
//! allocations, notifications), SQS (one queue per step, each with its DLQ), S3
//! (materials with presigned uploads; write-once archives), and an HTTP client for the
//! provincial data-sharing platform. Clients are built once and shared.
//!
//! Table design: see `infra/README.md`.

mod aggregates;
mod appointments;
mod attr;
mod audit;
mod billing;
mod blobs;
pub mod casedoc;
mod catalogue;
mod dynamo;
mod queues;
mod sharing;
mod signer;
pub mod stream;
mod usage;

pub use aggregates::shard_of as aggregate_shard;
pub use appointments::DynamoAppointments;
pub use audit::CloudWatchAudit;
pub use blobs::S3Blobs;
pub use catalogue::{DynamoCatalogue, CACHE_TTL as CATALOGUE_CACHE_TTL};
pub use dynamo::{DynamoAllocator, DynamoNotifier, DynamoStore, DUE_SHARDS};
pub use queues::{QueueUrls, SqsQueues};
pub use sharing::{ApiKey, HttpSharing, SecretValue};
pub use signer::KmsSigner;
pub use usage::{Op, Usage};

use std::collections::HashMap;
use std::sync::Arc;

/// Where the stack's resources are (from CloudFormation outputs or Lambda environment).
#[derive(Debug, Clone, Default)]
pub struct Resources {
    pub table: String,
    pub materials_bucket: String,
    pub archive_bucket: String,
    /// The audit trail's log group.
    pub audit_log_group: String,
    /// Logical queue name → (queue URL, DLQ URL).
    pub queues: HashMap<String, (String, String)>,
    /// The certificate signing key (KMS, asymmetric), where the function issues or
    /// verifies certificates.
    pub cert_key: Option<String>,
    /// Keys that signed before a rotation: published, never used to sign.
    pub retired_cert_keys: Vec<String>,
}

fn key_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(String::from)
        .collect()
}

/// The output/environment key of a queue: `certify-birth` → `CERTIFY_BIRTH`.
pub fn queue_key(queue: &str) -> String {
    queue.replace('-', "_").to_uppercase()
}

/// The CloudFormation output name of a queue: `certify-birth` → `CertifyBirthQueueUrl`.
pub fn queue_output(queue: &str, dlq: bool) -> String {
    let camel: String = queue
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!("{camel}{}", if dlq { "DlqUrl" } else { "QueueUrl" })
}

impl Resources {
    /// From the Lambda environment: `TABLE_NAME`, `MATERIALS_BUCKET`, `ARCHIVE_BUCKET`,
    /// `AUDIT_LOG_GROUP`, `CERT_KEY_ARN`, `CERT_RETIRED_KEY_ARNS`,
    /// `QUEUE_URL_<NAME>` and `DLQ_URL_<NAME>` for each queue the function uses.
    pub fn from_env() -> Resources {
        Self::from_lookup(&|k| std::env::var(k).ok())
    }

    /// As [`Resources::from_env`], with the variables looked up in `var`.
    pub fn from_lookup(var: &dyn Fn(&str) -> Option<String>) -> Resources {
        let var = |k: &str| var(k).unwrap_or_default();
        let mut queues = HashMap::new();
        for q in domain::flow::all_queues() {
            let k = queue_key(q);
            let url = var(&format!("QUEUE_URL_{k}"));
            if !url.is_empty() {
                queues.insert(q.to_string(), (url, var(&format!("DLQ_URL_{k}"))));
            }
        }
        Resources {
            table: var("TABLE_NAME"),
            materials_bucket: var("MATERIALS_BUCKET"),
            archive_bucket: var("ARCHIVE_BUCKET"),
            audit_log_group: var("AUDIT_LOG_GROUP"),
            queues,
            cert_key: Some(var("CERT_KEY_ARN")).filter(|k| !k.is_empty()),
            retired_cert_keys: key_list(&var("CERT_RETIRED_KEY_ARNS")),
        }
    }

    /// From a stack's outputs.
    pub fn from_outputs(outputs: &HashMap<String, String>) -> Result<Resources, String> {
        let get = |k: &str| {
            outputs
                .get(k)
                .cloned()
                .ok_or_else(|| format!("the stack has no output {k}"))
        };
        let mut queues = HashMap::new();
        for q in domain::flow::all_queues() {
            queues.insert(
                q.to_string(),
                (get(&queue_output(q, false))?, get(&queue_output(q, true))?),
            );
        }
        Ok(Resources {
            table: get("TableName")?,
            materials_bucket: get("MaterialsBucket")?,
            archive_bucket: get("ArchiveBucket")?,
            audit_log_group: get("AuditLogGroup")?,
            queues,
            cert_key: outputs
                .get("CertificateKeyArn")
                .filter(|k| !k.is_empty())
                .cloned(),
            retired_cert_keys: key_list(
                outputs
                    .get("RetiredCertificateKeyArns")
                    .map(String::as_str)
                    .unwrap_or(""),
            ),
        })
    }
}

/// The adapters every function uses: DynamoDB (cases, outbox, numbers, notifications)
/// and SQS. Built from one SDK configuration, without network calls.
#[derive(Clone)]
pub struct Core {
    pub store: Arc<DynamoStore>,
    pub queues: Arc<SqsQueues>,
    pub numbers: Arc<DynamoAllocator>,
    pub notifier: Arc<DynamoNotifier>,
    pub appointments: Arc<DynamoAppointments>,
    pub catalogue: Arc<DynamoCatalogue>,
    /// Requests made, by operation.
    pub usage: Arc<Usage>,
}

impl Core {
    pub fn new(config: &aws_types::SdkConfig, r: &Resources, max_receive: u32) -> Core {
        let ddb = aws_sdk_dynamodb::Client::new(config);
        let sqs = aws_sdk_sqs::Client::new(config);
        let usage = Arc::new(Usage::default());
        let queues = Arc::new(SqsQueues::new(
            sqs,
            QueueUrls(r.queues.clone()),
            max_receive,
            usage.clone(),
        ));
        Core {
            store: Arc::new(DynamoStore::new(
                ddb.clone(),
                r.table.clone(),
                usage.clone(),
            )),
            numbers: Arc::new(DynamoAllocator::new(
                ddb.clone(),
                r.table.clone(),
                usage.clone(),
            )),
            appointments: Arc::new(DynamoAppointments::new(
                ddb.clone(),
                r.table.clone(),
                usage.clone(),
            )),
            catalogue: Arc::new(DynamoCatalogue::new(
                ddb.clone(),
                r.table.clone(),
                usage.clone(),
            )),
            notifier: Arc::new(DynamoNotifier::new(ddb, r.table.clone(), usage.clone())),
            queues,
            usage,
        }
    }
}

/// Every AWS adapter (what `onething serve --backend aws` and the tests use): the
/// [`Core`] (reachable through `Deref`) plus S3.
pub struct Aws {
    pub core: Core,
    pub blobs: Arc<S3Blobs>,
    pub audit: Arc<CloudWatchAudit>,
    config: aws_types::SdkConfig,
    table: String,
}

impl std::ops::Deref for Aws {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl Aws {
    pub fn new(config: &aws_types::SdkConfig, r: &Resources, max_receive: u32) -> Aws {
        let core = Core::new(config, r, max_receive);
        let blobs = Arc::new(S3Blobs::from_config(config, r, core.usage.clone()));
        let audit = Arc::new(CloudWatchAudit::from_config(config, &r.audit_log_group));
        Aws {
            core,
            blobs,
            audit,
            config: config.clone(),
            table: r.table.clone(),
        }
    }

    /// A reader of the table's stream (the local runtime's relay).
    pub fn stream_reader(&self) -> stream::StreamReader {
        stream::StreamReader::new(&self.config, &self.table)
    }
}

pub(crate) fn sdk_err<E: std::fmt::Debug>(what: &str, e: E) -> ports::StoreError {
    // The SDK's Debug output names the operation and the service error; it never holds
    // item contents.
    let text = format!("{e:?}");
    let short: String = text.chars().take(300).collect();
    if refused(&text) {
        return ports::StoreError::Refused(format!("{what}: {short}"));
    }
    ports::StoreError::Unavailable(format!("{what}: {short}"))
}

/// Error codes with which a service refuses the request itself: sending it again cannot
/// help (throttling, timeouts, 5xx and conflicts are not among them).
const REFUSALS: &[&str] = &[
    "ValidationException",
    "AccessDenied",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "ItemCollectionSizeLimitExceededException",
    "ResourceNotFoundException",
    "DisabledException",
    "InvalidKeyUsageException",
    "KMSInvalidStateException",
    "KMSInvalidSignatureException",
    "NotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "InvalidParameterValue",
    "InvalidMessageContents",
    "EntityTooLarge",
    "NoSuchBucket",
];

fn refused(debug: &str) -> bool {
    REFUSALS
        .iter()
        .any(|c| debug.contains(&format!("code: Some(\"{c}\")")))
}

#[cfg(test)]
mod tests {
    /// An SDK error's Debug text as it is.
    struct Raw(&'static str);
    impl std::fmt::Debug for Raw {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    #[test]
    fn a_request_the_service_refuses_is_not_retried_as_unavailable() {
        let oversize = Raw(
            r#"ServiceError { source: ValidationException(ValidationException { message: Some("Item size has exceeded the maximum allowed size"), meta: ErrorMetadata { code: Some("ValidationException"), .. } }) }"#,
        );
        assert!(matches!(
            super::sdk_err("put case", oversize),
            ports::StoreError::Refused(_)
        ));
        let kms = Raw(
            r#"ServiceError { source: Unhandled { meta: ErrorMetadata { code: Some("KMSInvalidStateException") } } }"#,
        );
        assert!(matches!(
            super::sdk_err("sign", kms),
            ports::StoreError::Refused(_)
        ));
        let throttled = Raw(
            r#"ServiceError { source: ThrottlingException { meta: ErrorMetadata { code: Some("ThrottlingException") } } }"#,
        );
        assert!(matches!(
            super::sdk_err("get case", throttled),
            ports::StoreError::Unavailable(_)
        ));
        let timeout = Raw("TimeoutError(TimeoutError { source: OperationTimeout })");
        assert!(matches!(
            super::sdk_err("get case", timeout),
            ports::StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn names() {
        assert_eq!(
            super::queue_output("certify-birth", false),
            "CertifyBirthQueueUrl"
        );
        assert_eq!(super::queue_output("notify", true), "NotifyDlqUrl");
        assert_eq!(super::queue_key("unify-issuance"), "UNIFY_ISSUANCE");
    }
}
