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
            "请求内容格式不正确",
        )]));
    }
    serde_path_to_error::deserialize(body).map_err(|e| {
        let field = match e.path().to_string() {
            p if p == "." => String::new(),
            p => p,
        };
        // serde's own message would echo the value sent (possibly personal data):
        // say what is wrong without it.
        let (field, code, message) = match e.into_inner().to_string() {
            m if m.starts_with("missing field") => {
                let name = m.split('`').nth(1).unwrap_or_default();
                let field = if field.is_empty() {
                    name.to_string()
                } else {
                    format!("{field}.{name}")
                };
                (field, "required", "此项为必填项")
            }
            _ => (field, "type", "此项的类型不正确"),
        };
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
    /// Optional: the bytes' SHA-256 in hex; then only those bytes are accepted.
    #[serde(default, deserialize_with = "present")]
    pub sha256: Option<String>,
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

/// `POST /v1/cases/{id}/corrections`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequest {
    /// A JSON merge patch (RFC 7386) of the form.
    pub corrections: Option<Map<String, Value>>,
    pub reason: Option<String>,
    /// Material ids on the case that support the correction.
    #[serde(default)]
    pub materials: Vec<String>,
}

/// `POST /v1/cases/{id}/rating`.
#[derive(Debug, Deserialize)]
pub struct NewRating {
    pub level: i64,
    #[serde(default)]
    pub comment: Option<String>,
    /// The step the rating concerns (default: the step the case ended at).
    #[serde(default, deserialize_with = "present")]
    pub step: Option<String>,
}

/// `POST /v1/cases/{id}/complaints`.
#[derive(Debug, Deserialize)]
pub struct NewComplaint {
    pub text: String,
    /// The step the complaint concerns (default: the step the case is at or ended at).
    #[serde(default, deserialize_with = "present")]
    pub step: Option<String>,
}

/// `POST /v1/feedback/{id}/answer`.
#[derive(Debug, Deserialize)]
pub struct FeedbackAnswer {
    pub text: String,
}

/// `POST /v1/feedback/{id}/return-visit`.
#[derive(Debug, Deserialize)]
pub struct ReturnVisit {
    pub visited_at: String,
    pub summary: String,
}

/// `POST /v1/feedback/{id}/rectification`.
#[derive(Debug, Deserialize)]
pub struct Rectification {
    pub summary: String,
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
    /// The checklist items the officer confirmed (`item_id`s of the task view).
    #[serde(default)]
    pub checked: Vec<String>,
}

/// `POST /v1/cases/{id}/withdraw`.
#[derive(Debug, Deserialize)]
pub struct Withdrawal {
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /v1/cases/{id}/premium-payment`.
#[derive(Debug, Deserialize)]
pub struct PremiumPaid {
    pub paid_at: String,
    pub amount_cny: i64,
    pub receipt: String,
}

/// `POST /v1/births`: the hospital's delivery record.
#[derive(Debug, Deserialize)]
pub struct Birth {
    pub institution_code: String,
    pub mother_id_number: String,
    pub birth_time: String,
    pub sex: String,
    #[serde(default)]
    pub birth_order: Option<i64>,
    #[serde(default)]
    pub multiple_birth: Option<i64>,
    pub weight_g: i64,
    pub length_cm: i64,
    pub gestational_weeks: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problem(r: Result<impl std::fmt::Debug, ServiceError>) -> Problem {
        match r {
            Err(ServiceError::Invalid(p)) => p.into_iter().next().expect("a problem"),
            other => panic!("expected a field problem, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_field_is_named_and_required() {
        let p = problem(parse::<NewComplaint>(&json!({})));
        assert_eq!((p.field.as_str(), p.code.as_str()), ("text", "required"));
    }

    #[test]
    fn a_wrong_type_names_the_field_without_echoing_the_value() {
        let p = problem(parse::<NewRating>(&json!({"level": "330106199001010130"})));
        assert_eq!((p.field.as_str(), p.code.as_str()), ("level", "type"));
        assert!(!p.message.contains("330106"), "{}", p.message);
    }

    #[test]
    fn null_where_an_array_or_object_is_expected_is_refused() {
        let p = problem(parse::<Resubmission>(&json!({"materials": null})));
        assert_eq!(p.field, "materials");
        let p = problem(parse::<Resubmission>(&json!({"corrections": null})));
        assert_eq!(p.field, "corrections");
        assert!(
            parse::<Resubmission>(&json!({})).is_ok(),
            "both may be absent"
        );
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        for body in [json!(null), json!([1]), json!(1e-5)] {
            let p = problem(parse::<Resubmission>(&body));
            assert_eq!(p.code, "type");
        }
    }
}
