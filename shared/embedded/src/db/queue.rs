//! [`SqliteQueue`]: the queues, their visibility timeouts and dead letters.

use super::*;

pub struct SqliteQueue {
    db: Arc<Db>,
    max_receive: u32,
}

impl SqliteQueue {
    pub fn new(db: Arc<Db>, max_receive: u32) -> Self {
        SqliteQueue { db, max_receive }
    }

    /// Make every in-flight message visible now. Only for a single consumer process at
    /// its start: whatever it had in flight when it died is redone.
    pub async fn release_in_flight(&self) -> Result<usize, StoreError> {
        self.db
            .write(|c| {
                let now = now_ms();
                c.execute(sql::UPDATE_MESSAGES, [now]).map_err(unavailable)
            })
            .await
    }

    /// Messages waiting (visible or in flight) and dead, per queue.
    pub async fn depths(&self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        self.db
            .read(|c| {
                let mut s = c.prepare(sql::SELECT_MESSAGES).map_err(unavailable)?;
                let rows = s
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(unavailable)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unavailable)?;
                Ok(rows)
            })
            .await
    }
}

pub(super) fn split_receipt(receipt: &str) -> Result<i64, StoreError> {
    receipt
        .split(':')
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| StoreError::Corrupt("bad receipt".into()))
}

#[async_trait]
impl QueueSender for SqliteQueue {
    async fn send(&self, queue: &str, body: &str) -> Result<(), StoreError> {
        let m = vec![OutMessage {
            queue: queue.into(),
            body: body.into(),
        }];
        self.db
            .write(move |c| {
                insert_messages(c, &m)?;
                Ok(())
            })
            .await?;
        self.db.wake([queue.to_string()]);
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for SqliteQueue {
    async fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, StoreError> {
        let queue = queue.to_string();
        let max_receive = self.max_receive as i64;
        let vis = visibility.as_millis() as i64;
        self.db
            .write(move |c| {
                let now = now_ms();
                let rows: Vec<(i64, String, i64)> = {
                    let mut s = c
                        .prepare_cached(sql::SELECT_MESSAGES_2)
                        .map_err(unavailable)?;
                    let r = s
                        .query_map(params![queue, now, max as i64], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                        })
                        .map_err(unavailable)?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(unavailable)?;
                    r
                };
                let mut out = vec![];
                for (id, body, count) in rows {
                    if count >= max_receive {
                        c.execute(sql::UPDATE_MESSAGES_2, params![now, id])
                            .map_err(unavailable)?;
                        tracing::warn!(
                            queue = %queue,
                            message_id = id,
                            receives = count,
                            "message moved to the dead-letter queue"
                        );
                        continue;
                    }
                    let receipt = format!("{id}:{}", count + 1);
                    c.prepare_cached(sql::UPDATE_MESSAGES_3)
                        .and_then(|mut s| s.execute(params![count + 1, now + vis, receipt, id]))
                        .map_err(unavailable)?;
                    out.push(Received {
                        message_id: id.to_string(),
                        receipt,
                        body,
                        receive_count: (count + 1) as u32,
                    });
                }
                Ok(out)
            })
            .await
    }

    async fn ack(&self, _queue: &str, receipt: &str) -> Result<(), StoreError> {
        let id = split_receipt(receipt)?;
        let receipt = receipt.to_string();
        self.db
            .write(move |c| {
                c.prepare_cached(sql::DELETE_MESSAGES)
                    .and_then(|mut s| s.execute(params![id, receipt]))
                    .map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    async fn retry_later(
        &self,
        queue: &str,
        receipt: &str,
        delay: Duration,
        error: &str,
    ) -> Result<(), StoreError> {
        let id = split_receipt(receipt)?;
        let receipt = receipt.to_string();
        let error = error.chars().take(500).collect::<String>();
        let at = now_ms() + delay.as_millis() as i64;
        self.db
            .write(move |c| {
                c.execute(sql::UPDATE_MESSAGES_4, params![at, error, id, receipt])
                    .map_err(unavailable)?;
                Ok(())
            })
            .await?;
        let _ = queue;
        Ok(())
    }

    async fn dead_letter(
        &self,
        queue: &str,
        message: &Received,
        error: &str,
    ) -> Result<(), StoreError> {
        let receipt = message.receipt.as_str();
        let id = split_receipt(receipt)?;
        let receipt = receipt.to_string();
        let error = error.chars().take(500).collect::<String>();
        self.db
            .write(move |c| {
                c.execute(
                    sql::UPDATE_MESSAGES_5,
                    params![now_ms(), error, id, receipt],
                )
                .map_err(unavailable)?;
                Ok(())
            })
            .await?;
        tracing::warn!(
            queue,
            message_id = id,
            "message can never succeed: moved to the dead-letter queue"
        );
        Ok(())
    }

    async fn wait(&self, queue: &str, timeout: Duration) {
        let w = self.db.waker(queue);
        let _ = tokio::time::timeout(timeout, w.notified()).await;
    }
}

#[async_trait]
impl DeadLetterAdmin for SqliteQueue {
    async fn dead_letters(&self, queue: &str) -> Result<Vec<DeadLetter>, StoreError> {
        let queue = queue.to_string();
        self.db
            .read(move |c| {
                let mut s = c.prepare(sql::SELECT_MESSAGES_3).map_err(unavailable)?;
                let rows = s
                    .query_map([&queue], |r| {
                        let at: Option<i64> = r.get(4)?;
                        Ok(DeadLetter {
                            queue: queue.clone(),
                            message_id: r.get::<_, i64>(0)?.to_string(),
                            body: r.get(1)?,
                            receive_count: r.get::<_, i64>(2)? as u32,
                            last_error: r.get(3)?,
                            dead_at: at
                                .and_then(DateTime::<Utc>::from_timestamp_millis)
                                .map(|t| t.to_rfc3339()),
                        })
                    })
                    .map_err(unavailable)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unavailable)?;
                Ok(rows)
            })
            .await
    }

    async fn redrive(&self, queue: &str, message_id: Option<&str>) -> Result<usize, StoreError> {
        let q = queue.to_string();
        let id: Option<i64> = match message_id {
            Some(m) => Some(
                m.parse()
                    .map_err(|_| StoreError::Conflict("no such message".into()))?,
            ),
            None => None,
        };
        let n = self
            .db
            .write(move |c| {
                let n = c
                    .execute(sql::UPDATE_MESSAGES_6, params![now_ms(), q, id])
                    .map_err(unavailable)?;
                Ok(n)
            })
            .await?;
        self.db.wake([queue.to_string()]);
        Ok(n)
    }
}
