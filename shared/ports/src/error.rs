//! Errors, with the distinctions the edges need: HTTP status for the API, retryable vs
//! permanent for queue consumers. Messages never carry personal data.

use domain::problem::Problem;

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

#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input")]
    Invalid(Vec<Problem>),
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => ServiceError::Conflict(m),
            StoreError::Unavailable(m) => ServiceError::Unavailable(m),
            StoreError::Corrupt(m) | StoreError::NotWired(m) => ServiceError::Internal(m),
        }
    }
}

/// A queue consumer's failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HandlerError {
    /// Try the message again later (the message returns to the queue).
    #[error("retryable: {0}")]
    Retryable(String),
    /// The message can never succeed; it goes to the dead-letter queue.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl From<StoreError> for HandlerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt(m) | StoreError::NotWired(m) => HandlerError::Permanent(m),
            other => HandlerError::Retryable(other.to_string()),
        }
    }
}
