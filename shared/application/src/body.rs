//! The small request bodies, typed. Serde reads their shape (a wrong type or a missing
//! field becomes a field problem naming the field); the use cases then check the values,
//! reporting every value problem at once. The application form has its own reader
//! (`domain::form`), which reports every problem of any kind at once.

use crate::ServiceError;
use domain::problem::Problem;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Parse a body into its type; serde's error becomes a problem on the field it names.
pub fn parse<T: DeserializeOwned>(body: &Value) -> Result<T, ServiceError> {
    if !body.is_object() {
        return Err(ServiceError::Invalid(vec![Problem::new(
            "",
            "type",
            "the body must be a JSON object",
        )]));
    }
    serde_path_to_error::deserialize(body).map_err(|e| {
        let field = match e.path().to_string() {
            p if p == "." => String::new(),
            p => p,
        };
        let inner = e.into_inner().to_string();
        let code = if inner.starts_with("missing field") {
            "required"
        } else {
            "type"
        };
        // serde's message without its position suffix (line/column of the body).
        let message = inner
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string();
        ServiceError::Invalid(vec![Problem::new(field, code, message)])
    })
}

/// A field that may be absent but, when present, is not `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `POST /v1/cases/{id}/materials`.
#[derive(Debug, Deserialize)]
pub struct NewMaterial {
    pub kind: String,
    pub content_type: String,
    pub size: u64,
}

/// `POST /v1/cases/{id}/resubmit`.
#[derive(Debug, Deserialize)]
pub struct Resubmission {
    /// Material ids uploaded since the notice.
    #[serde(default)]
    pub materials: Vec<String>,
    /// A JSON merge patch (RFC 7386) of the form.
    #[serde(default, deserialize_with = "present")]
    pub corrections: Option<Map<String, Value>>,
}

/// `POST /v1/cases/{id}/rating`.
#[derive(Debug, Deserialize)]
pub struct NewRating {
    pub level: i64,
    #[serde(default)]
    pub comment: Option<String>,
}

/// `POST /v1/cases/{id}/complaints`.
#[derive(Debug, Deserialize)]
pub struct NewComplaint {
    pub text: String,
}

/// `POST /v1/cases/{id}/complaints/{cid}/answer`.
#[derive(Debug, Deserialize)]
pub struct ComplaintAnswer {
    pub answer: String,
}

/// `POST /v1/tasks/{task_id}/decision`.
#[derive(Debug, Deserialize)]
pub struct TaskDecision {
    pub decision: String,
    #[serde(default)]
    pub reasons: Vec<String>,
    pub version: u64,
    #[serde(default, deserialize_with = "present")]
    pub data: Option<domain::steps::ApprovalData>,
}
