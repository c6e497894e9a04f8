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
    /// This deployment did not give the function that port (see [`crate::NotWired`]).
    #[error("not wired: {0}")]
    NotWired(String),
}
