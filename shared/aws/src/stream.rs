//! The messages a commit sends, relayed from the table's stream.
//!
//! A commit writes the case item with the messages of that change in its `outbox`
//! attribute, in the same write: nothing else is written for them and nothing is
//! deleted afterwards. DynamoDB Streams delivers each change of an item once per
//! version, in order per item; one consumer (the `relay` function on AWS, a
//! [`StreamReader`] in the local runtime) sends each change's messages in that order and
//! reports the first change it could not relay, from which the stream is read again (a
//! duplicate send is harmless: every handler is idempotent).

use crate::sdk_err;
use ports::{OutMessage, QueueSender, StoreError};
use std::collections::HashMap;

/// How far behind its last record a reader of an emulator's stream starts again.
const REREAD: u128 = 2000;
/// How many returned changes a reader of an emulator's stream remembers.
const SEEN: usize = 100_000;

/// One change of a case item: its stream sequence number and its outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub sequence: String,
    pub messages: Vec<OutMessage>,
}

/// The `outbox` attribute's value for these messages (None: no attribute): their JSON,
/// packed ([`crate::casedoc::pack`]). Every write of the case is billed by the item's
/// size, and a change's messages (a notice's text, the next step's, the certificates'
/// rendering) were about a third of it; the notices' words are the dictionary's too.
pub fn encode(messages: &[OutMessage]) -> Option<String> {
    (!messages.is_empty())
        .then(|| crate::casedoc::pack(&serde_json::to_vec(messages).expect("serialises")))
}

/// The messages of an `outbox` attribute; a value that is not one is an error (the
/// change is reported, not skipped).
pub fn decode(attr: Option<&str>) -> Result<Vec<OutMessage>, StoreError> {
    let bad = |e: String| StoreError::Corrupt(format!("outbox attribute: {e}"));
    match attr {
        None => Ok(vec![]),
        Some(a) => {
            let json = crate::casedoc::unpack(a).map_err(bad)?;
            serde_json::from_slice(&json).map_err(|e| bad(e.to_string()))
        }
    }
}

/// Send the changes' messages in order. A message that cannot be sent is parked, whole,
/// in its queue's dead-letter queue (replayed by `onething dlq redrive QUEUE`; the DLQ's
/// alarm fires) and the changes after it go on: one case's failure never holds up or
/// loses another case's messages. Only when a message can be neither sent nor parked
/// (SQS itself failing) does the relay stop: the sequence number of its change (the
/// changes before it are done) and the error; the stream is read again from there.
pub async fn relay(
    queues: &dyn QueueSender,
    changes: &[Change],
) -> Result<usize, (String, StoreError)> {
    let mut sent = 0;
    for c in changes {
        for m in &c.messages {
            if let Err(e) = queues.send(&m.queue, &m.body).await {
                queues.park(&m.queue, &m.body).await.map_err(|p| {
                    (
                        c.sequence.clone(),
                        StoreError::Unavailable(format!("{e}; parking it: {p}")),
                    )
                })?;
                tracing::error!(queue = %m.queue, sequence = %c.sequence, error = %e,
                    "a committed message could not be sent; parked in its dead-letter queue");
                continue;
            }
            sent += 1;
        }
    }
    Ok(sent)
}

/// Reads the table's stream as a Lambda event source mapping does (every shard from its
/// oldest record, following closed shards to their children), for the local runtime.
/// Each read takes a fresh iterator after the last record read (iterators expire).
///
/// Against an emulator (the SDK configured with an endpoint of its own) the read after
/// each listing starts [`REREAD`] records before the last one read and skips the changes
/// already returned:
/// moto's stream shows records behind the position already read when transactions fail
/// (it restores whole tables from copies), which a plain reader would never see.
pub struct StreamReader {
    streams: aws_sdk_dynamodbstreams::Client,
    ddb: aws_sdk_dynamodb::Client,
    table: String,
    arn: Option<String>,
    /// The stream's shards, as last listed.
    shards: Vec<String>,
    /// Shards closed and read to their end.
    closed: std::collections::HashSet<String>,
    /// Shard → the sequence number of the last record read from it.
    last: HashMap<String, String>,
    /// Shard → its first sequence number.
    first: HashMap<String, String>,
    /// Against an emulator: re-read behind the last record (at each listing, every 2 s),
    /// skipping what was returned.
    reread: bool,
    reread_now: bool,
    /// The changes returned (item key and version), the most recent [`SEEN`] of them.
    seen: std::collections::HashSet<(String, String)>,
    seen_order: std::collections::VecDeque<(String, String)>,
    /// When the shards were last listed (new shards appear as the stream rolls over).
    listed: Option<std::time::Instant>,
}

impl StreamReader {
    pub fn new(config: &aws_types::SdkConfig, table: &str) -> StreamReader {
        StreamReader {
            streams: aws_sdk_dynamodbstreams::Client::new(config),
            ddb: aws_sdk_dynamodb::Client::new(config),
            table: table.to_string(),
            arn: None,
            shards: vec![],
            closed: Default::default(),
            last: HashMap::new(),
            first: HashMap::new(),
            reread: config.endpoint_url().is_some(),
            reread_now: false,
            seen: Default::default(),
            seen_order: Default::default(),
            listed: None,
        }
    }

    async fn discover(&mut self) -> Result<(), StoreError> {
        if self
            .listed
            .is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(2))
        {
            return Ok(());
        }
        let t = self
            .ddb
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| sdk_err("describe table", e))?;
        let Some(arn) = t.table().and_then(|t| t.latest_stream_arn()) else {
            return Err(StoreError::NotWired("the table has no stream".into()));
        };
        let d = self
            .streams
            .describe_stream()
            .stream_arn(arn)
            .send()
            .await
            .map_err(|e| sdk_err("describe stream", e))?;
        let shards = d
            .stream_description()
            .map(|s| s.shards().to_vec())
            .unwrap_or_default();
        self.shards = vec![];
        for sh in shards {
            let Some(id) = sh.shard_id() else { continue };
            if let Some(f) = sh
                .sequence_number_range()
                .and_then(|r| r.starting_sequence_number())
            {
                self.first.insert(id.to_string(), f.to_string());
            }
            self.shards.push(id.to_string());
        }
        self.arn = Some(arn.to_string());
        self.listed = Some(std::time::Instant::now());
        self.reread_now = self.reread;
        Ok(())
    }

    /// Whether a record reread from an emulator was handed out already (by its item and
    /// version; the last `SEEN` are remembered).
    fn seen_before(&mut self, d: &aws_sdk_dynamodbstreams::types::StreamRecord) -> bool {
        let text = |k: &str| {
            d.new_image()
                .and_then(|i| i.get(k))
                .and_then(|v| v.as_s().or_else(|_| v.as_n()).ok())
                .cloned()
                .unwrap_or_default()
        };
        let key = (format!("{}|{}", text("pk"), text("sk")), text("version"));
        if !self.seen.insert(key.clone()) {
            return true;
        }
        self.seen_order.push_back(key);
        if self.seen_order.len() > SEEN {
            if let Some(old) = self.seen_order.pop_front() {
                self.seen.remove(&old);
            }
        }
        false
    }

    /// The changes written since the last call that carry messages (in order per shard).
    /// When a read fails, nothing of this call counts as read.
    pub async fn next(&mut self) -> Result<Vec<Change>, StoreError> {
        use aws_sdk_dynamodbstreams::types::ShardIteratorType;
        self.discover().await?;
        let Some(arn) = self.arn.clone() else {
            return Ok(vec![]);
        };
        let mut out = vec![];
        let mut last = self.last.clone();
        let mut closed = vec![];
        for shard in self.shards.clone() {
            if self.closed.contains(&shard) {
                continue;
            }
            let mut req = self
                .streams
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(&shard);
            // Against an emulator: from REREAD records back (its numbers are integers).
            let behind = last
                .get(&shard)
                .filter(|_| self.reread_now)
                .and_then(|seq| {
                    let n: u128 = seq.parse().ok()?;
                    let first: u128 = self.first.get(&shard)?.parse().ok()?;
                    Some(n.saturating_sub(REREAD).max(first).to_string())
                });
            req = match (behind, last.get(&shard)) {
                (Some(from), _) => req
                    .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                    .sequence_number(from),
                (None, Some(seq)) => req
                    .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                    .sequence_number(seq),
                (None, None) => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
            };
            let it = req.send().await.map_err(|e| sdk_err("shard iterator", e))?;
            let Some(it) = it.shard_iterator() else {
                continue;
            };
            let r = self
                .streams
                .get_records()
                .shard_iterator(it)
                .limit(1000)
                .send()
                .await
                .map_err(|e| sdk_err("get records", e))?;
            for rec in r.records() {
                let Some(d) = rec.dynamodb() else { continue };
                if let Some(seq) = d.sequence_number() {
                    last.insert(shard.clone(), seq.to_string());
                }
                let attr = d
                    .new_image()
                    .and_then(|i| i.get("outbox"))
                    .and_then(|v| v.as_s().ok());
                if attr.is_none() {
                    continue; // no messages (aggregates, keys, ...)
                }
                if self.reread && self.seen_before(d) {
                    continue;
                }
                out.push(Change {
                    sequence: d.sequence_number().unwrap_or_default().to_string(),
                    messages: decode(attr.map(String::as_str))?,
                });
            }
            if r.next_shard_iterator().is_none() {
                closed.push(shard);
            }
        }
        self.last = last;
        self.closed.extend(closed);
        self.reread_now = false;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages() -> Vec<OutMessage> {
        vec![
            OutMessage {
                queue: "notify".into(),
                body: r#"{"kind":"notify","case_id":"BC1","notice":"accepted","seq":1}"#.into(),
            },
            OutMessage {
                queue: "certify-birth".into(),
                body: r#"{"kind":"step","case_id":"BC1","step":"birth_certificate"}"#.into(),
            },
        ]
    }

    #[test]
    fn an_outbox_is_stored_compressed_and_read_back_in_order() {
        let attr = encode(&messages()).unwrap();
        assert!(attr.starts_with("z1:"), "{attr}");
        assert_eq!(decode(Some(&attr)).unwrap(), messages());
        assert_eq!(encode(&[]), None);
        assert_eq!(decode(None).unwrap(), vec![]);
    }

    /// Sends fail for one queue (and, if `park_fails`, parking too); records the rest.
    struct Flaky {
        broken: &'static str,
        park_fails: bool,
        sent: std::sync::Mutex<Vec<(String, String)>>,
        parked: std::sync::Mutex<Vec<(String, String)>>,
    }

    #[async_trait::async_trait]
    impl QueueSender for Flaky {
        async fn send(&self, queue: &str, body: &str) -> Result<(), StoreError> {
            if queue == self.broken {
                return Err(StoreError::Unavailable("refused".into()));
            }
            self.sent.lock().unwrap().push((queue.into(), body.into()));
            Ok(())
        }
        async fn park(&self, queue: &str, body: &str) -> Result<(), StoreError> {
            if self.park_fails {
                return Err(StoreError::Unavailable("SQS is down".into()));
            }
            self.parked
                .lock()
                .unwrap()
                .push((queue.into(), body.into()));
            Ok(())
        }
    }

    fn three_cases() -> Vec<Change> {
        ["BC1", "BC2", "BC3"]
            .iter()
            .enumerate()
            .map(|(i, case)| Change {
                sequence: format!("{}", 100 + i),
                messages: vec![OutMessage {
                    queue: if i == 1 {
                        "render".into()
                    } else {
                        "notify".into()
                    },
                    body: format!(r#"{{"kind":"x","case_id":"{case}"}}"#),
                }],
            })
            .collect()
    }

    #[tokio::test]
    async fn a_message_that_cannot_be_sent_is_parked_whole_and_the_other_cases_go_on() {
        let q = Flaky {
            broken: "render",
            park_fails: false,
            sent: Default::default(),
            parked: Default::default(),
        };
        assert_eq!(relay(&q, &three_cases()).await.unwrap(), 2);
        let sent = q.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 2);
        assert!(
            sent[0].1.contains("BC1") && sent[1].1.contains("BC3"),
            "{sent:?}"
        );
        let parked = q.parked.lock().unwrap().clone();
        assert_eq!(
            parked,
            vec![(
                "render".to_string(),
                r#"{"kind":"x","case_id":"BC2"}"#.to_string()
            )]
        );
    }

    #[tokio::test]
    async fn when_nothing_can_be_sent_the_relay_stops_at_that_change_and_is_read_again_from_it() {
        let q = Flaky {
            broken: "render",
            park_fails: true,
            sent: Default::default(),
            parked: Default::default(),
        };
        let (sequence, _) = relay(&q, &three_cases()).await.unwrap_err();
        assert_eq!(
            sequence, "101",
            "the failed change, not the batch's first or last"
        );
        assert_eq!(
            q.sent.lock().unwrap().len(),
            1,
            "the change before it was sent"
        );
    }

    #[test]
    fn an_older_plain_outbox_is_still_read_and_a_damaged_one_is_an_error() {
        let plain = serde_json::to_string(&messages()).unwrap();
        assert_eq!(decode(Some(&plain)).unwrap(), messages());
        assert!(decode(Some("z1:!!!")).is_err());
        assert!(decode(Some("z1:AAAA")).is_err());
        assert!(decode(Some("not json")).is_err());
    }
}
