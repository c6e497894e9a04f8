//! The ports' error. Messages never carry personal data.

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: someone else changed the item first.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The backing service failed or throttled; try again.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read.
    #[error("corrupt: {0}")]
    Corrupt(String),
    /// The service refused the request itself (a validation error such as an item over
    /// DynamoDB's 400 KB, a key that may not be used, access denied, a queue that does
    /// not exist): sending it again cannot help.
    #[error("refused: {0}")]
    Refused(String),
    /// This deployment did not give the function that port (see [`crate::NotWired`]).
    #[error("not wired: {0}")]
    NotWired(String),
    /// What a write would claim is held by another: the newborn by this live case, or a
    /// birth's slot (mother, birth minute, order) by this other delivery record.
    #[error("claimed by {holder}")]
    Taken { holder: String },
}
