//! The audit trail in its own CloudWatch Logs group (longer retention than the application
//! logs, the stack's KMS key): one log event per audit event, a log stream per execution
//! environment.

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_cloudwatchlogs::Client;
use domain::audit::AuditEvent;
use ports::{AuditLog, StoreError};
use tokio::sync::OnceCell;

pub struct CloudWatchAudit {
    client: Client,
    group: String,
    stream: String,
    created: OnceCell<()>,
}

impl CloudWatchAudit {
    pub fn from_config(config: &aws_types::SdkConfig, group: &str) -> CloudWatchAudit {
        Self::new(Client::new(config), group)
    }

    pub fn new(client: Client, group: &str) -> CloudWatchAudit {
        CloudWatchAudit {
            client,
            group: group.to_string(),
            stream: format!(
                "{}/{}",
                chrono::Utc::now().format("%Y/%m/%d"),
                uuid::Uuid::new_v4()
            ),
            created: OnceCell::new(),
        }
    }

    async fn ensure_stream(&self) -> Result<(), StoreError> {
        self.created
            .get_or_try_init(|| async {
                match self
                    .client
                    .create_log_stream()
                    .log_group_name(&self.group)
                    .log_stream_name(&self.stream)
                    .send()
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_resource_already_exists_exception()) =>
                    {
                        Ok(())
                    }
                    Err(e) => Err(unavailable(e)),
                }
            })
            .await
            .map(|_| ())
    }
}

fn unavailable(e: impl std::fmt::Debug) -> StoreError {
    StoreError::Unavailable(format!("audit log: {e:?}"))
}

#[async_trait]
impl AuditLog for CloudWatchAudit {
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.ensure_stream().await?;
        let message =
            serde_json::to_string(event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let log_event = InputLogEvent::builder()
            .timestamp(event.at.timestamp_millis())
            .message(message)
            .build()
            .map_err(unavailable)?;
        self.client
            .put_log_events()
            .log_group_name(&self.group)
            .log_stream_name(&self.stream)
            .log_events(log_event)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn for_case(&self, case_id: &str) -> Result<Vec<AuditEvent>, StoreError> {
        let mut out = vec![];
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .filter_log_events()
                .log_group_name(&self.group)
                .filter_pattern(format!("\"{case_id}\""))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(unavailable)?;
            for e in page.events() {
                if let Some(event) = e
                    .message()
                    .and_then(|m| serde_json::from_str::<AuditEvent>(m).ok())
                    .filter(|ev| ev.concerns(case_id))
                {
                    out.push(event);
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort_by_key(|e| e.at);
        Ok(out)
    }
}
