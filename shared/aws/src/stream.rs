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

/// How far back a rescan starts, in records.
const RESCAN_BACK: u128 = 500;

/// One change of a case item: its stream sequence number and its outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub sequence: String,
    pub messages: Vec<OutMessage>,
}

/// The `outbox` attribute's value for these messages (None: no attribute).
pub fn encode(messages: &[OutMessage]) -> Option<String> {
    (!messages.is_empty()).then(|| serde_json::to_string(messages).expect("serialises"))
}

/// The messages of an `outbox` attribute; a value that is not one is an error (the
/// change is reported, not skipped).
pub fn decode(attr: Option<&str>) -> Result<Vec<OutMessage>, StoreError> {
    match attr {
        None => Ok(vec![]),
        Some(a) => serde_json::from_str(a)
            .map_err(|e| StoreError::Corrupt(format!("outbox attribute: {e}"))),
    }
}

/// Send the changes' messages in order. On a failed send: the sequence number of its
/// change (the changes before it are done) and the error.
pub async fn relay(
    queues: &dyn QueueSender,
    changes: &[Change],
) -> Result<usize, (String, StoreError)> {
    let mut sent = 0;
    for c in changes {
        for m in &c.messages {
            queues
                .send(&m.queue, &m.body)
                .await
                .map_err(|e| (c.sequence.clone(), e))?;
            sent += 1;
        }
    }
    Ok(sent)
}

/// Reads the table's stream as a Lambda event source mapping does (every shard from its
/// oldest record, following closed shards to their children), for the local runtime.
pub struct StreamReader {
    streams: aws_sdk_dynamodbstreams::Client,
    ddb: aws_sdk_dynamodb::Client,
    table: String,
    /// Open shard → its next iterator (None once the shard is closed and read).
    iterators: HashMap<String, Option<String>>,
    /// Shard → the sequence number of the last record read from it.
    last: HashMap<String, String>,
    /// Read every shard again from a few hundred records back at each listing, skipping
    /// the changes already relayed: for emulators (moto) whose failed transactions leave
    /// their records in the stream and then hand their sequence numbers to later ones.
    rescan: bool,
    /// The changes relayed: (item key, version).
    seen: std::collections::HashSet<(String, String)>,
    /// When the shards were last listed (new shards appear as the stream rolls over).
    listed: Option<std::time::Instant>,
}

impl StreamReader {
    /// A reader of `table`'s stream, rescanning when the SDK points at an endpoint of its
    /// own (an emulator).
    pub fn new(config: &aws_types::SdkConfig, table: &str) -> StreamReader {
        Self::with_rescan(config, table, config.endpoint_url().is_some())
    }

    pub fn with_rescan(config: &aws_types::SdkConfig, table: &str, rescan: bool) -> StreamReader {
        StreamReader {
            streams: aws_sdk_dynamodbstreams::Client::new(config),
            ddb: aws_sdk_dynamodb::Client::new(config),
            table: table.to_string(),
            iterators: HashMap::new(),
            last: HashMap::new(),
            rescan,
            seen: Default::default(),
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
        self.listed = Some(std::time::Instant::now());
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
        // Every listing renews the open shards' iterators after the last record read
        // (iterators expire after 15 minutes; an emulator may also replace a shard).
        use aws_sdk_dynamodbstreams::types::ShardIteratorType;
        for shard in shards {
            let Some(id) = shard.shard_id() else { continue };
            if matches!(self.iterators.get(id), Some(None)) {
                continue; // closed and read to its end
            }
            let mut req = self
                .streams
                .get_shard_iterator()
                .stream_arn(arn)
                .shard_id(id);
            // Rescanning (an emulator, whose sequence numbers are plain integers): from a
            // little before the last record read, enough to cover a rolled-back
            // transaction's records, not from the start of a long stream.
            let first: Option<u128> = shard
                .sequence_number_range()
                .and_then(|r| r.starting_sequence_number())
                .and_then(|x| x.parse().ok());
            let back = |seq: &String| -> Option<String> {
                let n: u128 = seq.parse().ok()?;
                Some(n.saturating_sub(RESCAN_BACK).max(first?).to_string())
            };
            req = match self.last.get(id) {
                Some(seq) if self.rescan => match back(seq) {
                    Some(from) => req
                        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                        .sequence_number(from),
                    None => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
                },
                Some(seq) => req
                    .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                    .sequence_number(seq),
                None => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
            };
            let it = req.send().await.map_err(|e| sdk_err("shard iterator", e))?;
            self.iterators
                .insert(id.to_string(), it.shard_iterator().map(str::to_string));
        }
        Ok(())
    }

    /// The changes written since the last call (in order per shard).
    pub async fn next(&mut self) -> Result<Vec<Change>, StoreError> {
        self.discover().await?;
        let mut out = vec![];
        let mut shards: Vec<String> = self.iterators.keys().cloned().collect();
        shards.sort();
        for shard in shards {
            let Some(Some(it)) = self.iterators.get(&shard).cloned() else {
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
                    self.last.insert(shard.clone(), seq.to_string());
                }
                let text = |k: &str| {
                    d.new_image()
                        .and_then(|i| i.get(k))
                        .and_then(|v| v.as_s().or_else(|_| v.as_n()).ok())
                        .cloned()
                        .unwrap_or_default()
                };
                let attr = d
                    .new_image()
                    .and_then(|i| i.get("outbox"))
                    .and_then(|v| v.as_s().ok());
                if attr.is_none() {
                    continue; // no messages (aggregates, keys, ...)
                }
                let key = (format!("{}|{}", text("pk"), text("sk")), text("version"));
                if !self.seen.insert(key) {
                    continue;
                }
                out.push(Change {
                    sequence: d.sequence_number().unwrap_or_default().to_string(),
                    messages: decode(attr.map(String::as_str))?,
                });
            }
            self.iterators
                .insert(shard, r.next_shard_iterator().map(str::to_string));
        }
        Ok(out)
    }
}
