//! Errors, with the distinctions the edges need: HTTP status for the API, retryable vs
//! permanent for queue consumers. Messages never carry personal data.

use crate::repo::RepoError;
use domain::problem::Problem;
use domain::text::CitizenText;
use ports::StoreError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input")]
    Invalid(Vec<Problem>),
    #[error("{0}")]
    BadRequest(CitizenText),
    #[error("authentication required")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(CitizenText),
    /// Refused with its own machine code (403), e.g. `scope_required`.
    #[error("{message}")]
    ForbiddenCode {
        code: &'static str,
        message: CitizenText,
    },
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(CitizenText),
    /// A conflict with its own machine code (409), e.g. `slot_full`.
    #[error("{message}")]
    ConflictCode {
        code: &'static str,
        message: CitizenText,
    },
    /// The newborn already has a live case; its id only for those who may know it.
    #[error("duplicate newborn")]
    Duplicate { existing_case_id: Option<String> },
    /// Too many requests: try again after this many seconds.
    #[error("{message}")]
    Throttled {
        message: CitizenText,
        retry_after: u64,
    },
    #[error("{0}")]
    TooLarge(CitizenText),
    /// A per-case cap was reached (409 `limit_reached`).
    #[error("{0}")]
    Limit(CitizenText),
    #[error("{0}")]
    UnsupportedMediaType(CitizenText),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => {
                tracing::debug!(reason = %m, "a store conflict");
                ServiceError::Conflict("办件状态已变化，请刷新后重试".into())
            }
            StoreError::Unavailable(m) => ServiceError::Unavailable(m),
            StoreError::Corrupt(m) | StoreError::NotWired(m) | StoreError::Refused(m) => {
                ServiceError::Internal(m)
            }
            // Which case holds the newborn is told only by the use case that knows who
            // asks (see `service::parentage`).
            StoreError::Taken { .. } => ServiceError::Duplicate {
                existing_case_id: None,
            },
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
    /// The step cannot complete by itself and waits for its department's officer, who is
    /// told why in these words (a number range used up). Escaping a step, it is permanent.
    #[error("for an officer: {0}")]
    ForOfficer(CitizenText),
}

impl From<StoreError> for HandlerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt(m) | StoreError::NotWired(m) | StoreError::Refused(m) => {
                HandlerError::Permanent(m)
            }
            StoreError::Taken { holder: case_id } => {
                HandlerError::Permanent(format!("the newborn is claimed by case {case_id}"))
            }
            other => HandlerError::Retryable(other.to_string()),
        }
    }
}

impl From<RepoError> for ServiceError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound(_) => ServiceError::NotFound,
            RepoError::Busy(_) => ServiceError::Unavailable("系统繁忙，请稍后再试".into()),
            RepoError::Store(s) => s.into(),
        }
    }
}

impl From<HandlerError> for ServiceError {
    fn from(e: HandlerError) -> Self {
        match e {
            HandlerError::Retryable(m) => ServiceError::Unavailable(m),
            HandlerError::Permanent(m) => ServiceError::Internal(m),
            HandlerError::ForOfficer(text) => ServiceError::Conflict(text),
        }
    }
}

impl From<RepoError> for HandlerError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound(id) => HandlerError::Permanent(format!("case {id} does not exist")),
            RepoError::Busy(_) => HandlerError::Retryable("the case kept changing".into()),
            RepoError::Store(s) => s.into(),
        }
    }
}

/// A domain refusal met while handling a message: a calendar gap is retried, anything
/// else is permanent.
pub(crate) fn dom(e: domain::DomainError) -> HandlerError {
    match e {
        domain::DomainError::Calendar(c) => HandlerError::Retryable(c.to_string()),
        other => HandlerError::Permanent(other.to_string()),
    }
}
