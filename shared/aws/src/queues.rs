//! SQS: one standard queue per step (and notify, archive), each with its own DLQ.
//! `maxReceiveCount` lives in the queue's redrive policy (the template); `dead_letter`
//! moves a message that can never succeed at once.

use crate::sdk_err;
use crate::usage::{Op, Usage};
use async_trait::async_trait;
use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName};
use aws_sdk_sqs::Client;
use ports::{DeadLetter, DeadLetterAdmin, QueueConsumer, QueueSender, Received, StoreError};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// Logical queue name → (queue URL, DLQ URL).
#[derive(Debug, Clone, Default)]
pub struct QueueUrls(pub HashMap<String, (String, String)>);

pub struct SqsQueues {
    client: Client,
    urls: QueueUrls,
    max_receive: u32,
    usage: Arc<Usage>,
}

impl SqsQueues {
    pub fn new(client: Client, urls: QueueUrls, max_receive: u32, usage: Arc<Usage>) -> Self {
        SqsQueues {
            client,
            urls,
            max_receive,
            usage,
        }
    }

    fn c(&self, op: Op) -> &Client {
        self.usage.one(op);
        &self.client
    }

    /// The name of the queue whose URL (or DLQ URL) this is.
    fn queue_name(&self, url: &str) -> &str {
        self.urls
            .0
            .iter()
            .find(|(_, (u, d))| u == url || d == url)
            .map(|(name, _)| name.as_str())
            .unwrap_or_default()
    }

    fn url(&self, queue: &str) -> Result<&str, StoreError> {
        self.urls
            .0
            .get(queue)
            .map(|x| x.0.as_str())
            .ok_or_else(|| StoreError::Corrupt(format!("no queue named {queue}")))
    }

    fn dlq(&self, queue: &str) -> Result<&str, StoreError> {
        self.urls
            .0
            .get(queue)
            .map(|x| x.1.as_str())
            .ok_or_else(|| StoreError::Corrupt(format!("no DLQ for {queue}")))
    }

    /// Messages waiting and in flight, and dead letters, per queue (approximate, as SQS says).
    pub async fn depths(&self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        let mut out = vec![];
        let mut names: Vec<&String> = self.urls.0.keys().collect();
        names.sort();
        for q in names {
            let count = |url: String| async move {
                use aws_sdk_sqs::types::QueueAttributeName::{
                    ApproximateNumberOfMessages as Visible,
                    ApproximateNumberOfMessagesNotVisible as InFlight,
                };
                let r = self
                    .client
                    .get_queue_attributes()
                    .queue_url(url)
                    .attribute_names(Visible)
                    .attribute_names(InFlight)
                    .send()
                    .await
                    .map_err(|e| sdk_err("queue attributes", e))?;
                let a = r.attributes();
                let get = |k| {
                    a.and_then(|m| m.get(&k))
                        .and_then(|v| v.parse::<i64>().ok())
                        .unwrap_or(0)
                };
                Ok::<i64, StoreError>(get(Visible) + get(InFlight))
            };
            let w = count(self.url(q)?.to_string()).await?;
            let d = count(self.dlq(q)?.to_string()).await?;
            out.push((q.clone(), w, d));
        }
        Ok(out)
    }

    async fn send_to(&self, url: &str, body: &str) -> Result<(), StoreError> {
        let mut req = self
            .c(Op::SqsSend)
            .send_message()
            .queue_url(url)
            .message_body(body);
        // Tracing attributes: the case and the kind of message (no personal data).
        // The case id of any message body that names one (the envelopes do).
        let case_id = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("case_id")?.as_str().map(str::to_string));
        if let Some(case_id) = case_id {
            let attr = |v: &str| {
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(v)
                    .build()
            };
            if let Ok(a) = attr(&case_id) {
                req = req.message_attributes("case_id", a);
            }
            if let Ok(a) = attr(self.queue_name(url)) {
                req = req.message_attributes("target", a);
            }
        }
        req.send().await.map_err(|e| sdk_err("send message", e))?;
        Ok(())
    }

    /// Receive up to `max` from a URL.
    async fn receive_from(
        &self,
        url: &str,
        max: usize,
        visibility: Duration,
        wait_secs: i32,
    ) -> Result<Vec<aws_sdk_sqs::types::Message>, StoreError> {
        let r = self
            .c(Op::SqsReceive)
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .visibility_timeout(visibility.as_secs().max(1) as i32)
            .wait_time_seconds(wait_secs)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| sdk_err("receive messages", e))?;
        self.usage
            .add(Op::SqsReceivedMessages, r.messages().len() as u64);
        Ok(r.messages().to_vec())
    }
}

fn receive_count(m: &aws_sdk_sqs::types::Message) -> u32 {
    m.attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

#[async_trait]
impl QueueSender for SqsQueues {
    async fn send(&self, queue: &str, body: &str) -> Result<(), StoreError> {
        let url = self.url(queue)?.to_string();
        self.send_to(&url, body).await
    }

    async fn park(&self, queue: &str, body: &str) -> Result<(), StoreError> {
        let dlq = self.dlq(queue)?.to_string();
        if dlq.is_empty() {
            return Err(StoreError::NotWired(format!("the DLQ of {queue}")));
        }
        self.send_to(&dlq, body).await
    }
}

#[async_trait]
impl QueueConsumer for SqsQueues {
    async fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, StoreError> {
        let url = self.url(queue)?.to_string();
        let msgs = self.receive_from(&url, max, visibility, 1).await?;
        let mut out = vec![];
        for m in msgs {
            let count = receive_count(&m);
            let receipt = m.receipt_handle().unwrap_or_default().to_string();
            // The redrive policy moves it on the next receive; if a queue has none (an
            // emulator), enforce the maximum here.
            let r = Received {
                message_id: m.message_id().unwrap_or_default().to_string(),
                receipt,
                body: m.body().unwrap_or_default().to_string(),
                receive_count: count,
            };
            if count > self.max_receive {
                self.dead_letter(queue, &r, "maximum receives exceeded")
                    .await?;
                continue;
            }
            out.push(r);
        }
        Ok(out)
    }

    async fn ack(&self, queue: &str, receipt: &str) -> Result<(), StoreError> {
        let url = self.url(queue)?;
        self.c(Op::SqsDelete)
            .delete_message()
            .queue_url(url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| sdk_err("delete message", e))?;
        Ok(())
    }

    async fn retry_later(
        &self,
        queue: &str,
        receipt: &str,
        delay: Duration,
        _error: &str,
    ) -> Result<(), StoreError> {
        let url = self.url(queue)?;
        self.c(Op::SqsChangeVisibility)
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt)
            .visibility_timeout(delay.as_secs().clamp(1, 43_200) as i32)
            .send()
            .await
            .map_err(|e| sdk_err("change visibility", e))?;
        Ok(())
    }

    async fn dead_letter(
        &self,
        queue: &str,
        message: &Received,
        error: &str,
    ) -> Result<(), StoreError> {
        let dlq = self.dlq(queue)?.to_string();
        self.send_to(&dlq, &message.body).await?;
        self.ack(queue, &message.receipt).await?;
        tracing::warn!(
            queue,
            message_id = %message.message_id,
            error,
            "message moved to the dead-letter queue",
        );
        Ok(())
    }

    async fn wait(&self, _queue: &str, timeout: Duration) {
        // Receives long-poll already; just yield briefly.
        tokio::time::sleep(timeout.min(Duration::from_millis(50))).await;
    }
}

#[async_trait]
impl DeadLetterAdmin for SqsQueues {
    async fn dead_letters(&self, queue: &str) -> Result<Vec<DeadLetter>, StoreError> {
        let dlq = self.dlq(queue)?.to_string();
        let mut seen = HashSet::new();
        let mut out = vec![];
        // Peek: receive with a short visibility until nothing new comes back.
        for _ in 0..20 {
            let msgs = self
                .receive_from(&dlq, 10, Duration::from_secs(1), 0)
                .await?;
            let mut new = 0;
            for m in msgs {
                let id = m.message_id().unwrap_or_default().to_string();
                if seen.insert(id.clone()) {
                    new += 1;
                    out.push(DeadLetter {
                        queue: queue.to_string(),
                        message_id: id,
                        body: m.body().unwrap_or_default().to_string(),
                        receive_count: receive_count(&m),
                        last_error: None,
                        dead_at: None,
                    });
                }
                let _ = self
                    .c(Op::SqsChangeVisibility)
                    .change_message_visibility()
                    .queue_url(&dlq)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .visibility_timeout(0)
                    .send()
                    .await;
            }
            if new == 0 {
                break;
            }
        }
        Ok(out)
    }

    async fn redrive(&self, queue: &str, message_id: Option<&str>) -> Result<usize, StoreError> {
        let dlq = self.dlq(queue)?.to_string();
        let url = self.url(queue)?.to_string();
        let mut moved = 0;
        let mut seen = HashSet::new();
        for _ in 0..100 {
            let msgs = self
                .receive_from(&dlq, 10, Duration::from_secs(30), 0)
                .await?;
            if msgs.is_empty() {
                break;
            }
            let mut new = 0;
            for m in msgs {
                let id = m.message_id().unwrap_or_default().to_string();
                let receipt = m.receipt_handle().unwrap_or_default().to_string();
                if !seen.insert(id.clone()) {
                    continue;
                }
                new += 1;
                if message_id.is_none_or(|want| want == id) {
                    self.send_to(&url, m.body().unwrap_or_default()).await?;
                    self.c(Op::SqsDelete)
                        .delete_message()
                        .queue_url(&dlq)
                        .receipt_handle(receipt)
                        .send()
                        .await
                        .map_err(|e| sdk_err("delete dead letter", e))?;
                    moved += 1;
                } else {
                    let _ = self
                        .c(Op::SqsChangeVisibility)
                        .change_message_visibility()
                        .queue_url(&dlq)
                        .receipt_handle(receipt)
                        .visibility_timeout(0)
                        .send()
                        .await;
                }
            }
            if new == 0 {
                break;
            }
        }
        Ok(moved)
    }
}
