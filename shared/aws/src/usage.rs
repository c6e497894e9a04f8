//! Counts of the AWS requests the adapters make, by operation: what one case costs is
//! measured, not estimated.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    DdbGetItem,
    DdbQuery,
    DdbPutItem,
    DdbDeleteItem,
    DdbUpdateItem,
    DdbTransactWrite,
    DdbTransactItems,
    DdbBatchWrite,
    DdbBatchGet,
    /// Billed write units on the table (see [`crate::billing`]).
    DdbWriteUnits,
    /// Billed write units on the global secondary indexes (an upper bound).
    DdbIndexWriteUnits,
    /// Billed read units, in halves (an eventually consistent 4 KB read is one half).
    DdbReadHalfUnits,
    SqsSend,
    SqsReceive,
    SqsReceivedMessages,
    SqsDelete,
    SqsChangeVisibility,
    S3Put,
    S3Copy,
    S3Get,
    /// A `HeadObject`.
    S3Head,
    /// A `GetObject` of a range of bytes.
    S3GetRange,
    S3Presign,
    SecretsGet,
}

const OPS: [(Op, &str); 24] = [
    (Op::DdbGetItem, "dynamodb.GetItem"),
    (Op::DdbQuery, "dynamodb.Query"),
    (Op::DdbPutItem, "dynamodb.PutItem"),
    (Op::DdbDeleteItem, "dynamodb.DeleteItem"),
    (Op::DdbUpdateItem, "dynamodb.UpdateItem"),
    (Op::DdbTransactWrite, "dynamodb.TransactWriteItems"),
    (Op::DdbTransactItems, "dynamodb.TransactWriteItems.items"),
    (Op::DdbBatchWrite, "dynamodb.BatchWriteItem"),
    (Op::DdbBatchGet, "dynamodb.BatchGetItem"),
    (Op::DdbWriteUnits, "dynamodb.write_units.table"),
    (Op::DdbIndexWriteUnits, "dynamodb.write_units.indexes"),
    (Op::DdbReadHalfUnits, "dynamodb.read_units.halves"),
    (Op::SqsSend, "sqs.SendMessage"),
    (Op::SqsReceive, "sqs.ReceiveMessage"),
    (Op::SqsReceivedMessages, "sqs.ReceiveMessage.messages"),
    (Op::SqsDelete, "sqs.DeleteMessage"),
    (Op::SqsChangeVisibility, "sqs.ChangeMessageVisibility"),
    (Op::S3Put, "s3.PutObject"),
    (Op::S3Copy, "s3.CopyObject"),
    (Op::S3Get, "s3.GetObject"),
    (Op::S3Head, "s3.HeadObject"),
    (Op::S3GetRange, "s3.GetObject.range"),
    (Op::S3Presign, "s3.PresignPutObject"),
    (Op::SecretsGet, "secretsmanager.GetSecretValue"),
];

#[derive(Debug, Default)]
pub struct Usage {
    counts: [AtomicU64; OPS.len()],
}

impl Usage {
    pub fn add(&self, op: Op, n: u64) {
        let i = OPS.iter().position(|(o, _)| *o == op).expect("listed");
        self.counts[i].fetch_add(n, Ordering::Relaxed);
    }
    pub fn one(&self, op: Op) {
        self.add(op, 1);
    }
    /// (operation, count) for every operation.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        OPS.iter()
            .enumerate()
            .map(|(i, (_, name))| (*name, self.counts[i].load(Ordering::Relaxed)))
            .collect()
    }
}
