//! A case: the application, the family's list, the case view, materials, resubmission,
//! withdrawal, corrections after completion, certificates and the premium payment.

use crate::call::{Answer, Call, Handled, Record};
use application::response::{Links, Resubmitted, Submitted};
use application::service;
use domain::audit::AuditAction;
use domain::case::Case;
use http::{header, StatusCode};
use serde_json::json;

/// What a full case view shows of the case's personal data.
const CASE_FIELDS: [&str; 8] = [
    "form",
    "results",
    "materials",
    "missing",
    "timeline",
    "complaints",
    "ratings",
    "notifications",
];

/// `POST /v1/applications` (the case keeps the application's `Idempotency-Key`).
pub fn submit(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let key = c
            .parts
            .headers
            .get("idempotency-key")
            .map(|k| k.to_str().unwrap_or("\u{0}"));
        let (case, created) = service::submit(c.app(), c.actor(), key, &body).await?;
        let this = format!("/v1/cases/{}", case.case_id());
        let mut answer = Answer::json(
            StatusCode::ACCEPTED,
            Submitted {
                case_id: case.case_id().to_string(),
                channel: case.channel(),
                links: Links { this: this.clone() },
                status: case.status(),
                submitted_at: case.submitted_at(),
                version: case.version(),
            },
        )?;
        let headers = answer.response.headers_mut();
        headers.insert(header::LOCATION, this.parse().expect("header"));
        if !created {
            headers.insert("idempotent-replayed", "true".parse().expect("header"));
        }
        // A new application asked data sharing about each parent it names (their phones)
        // and, with a father, for their marriage record: the audit event says so, each
        // person masked.
        let mut fields = vec!["form".to_string()];
        if created {
            for id in case.parties() {
                fields.push(format!(
                    "data_sharing:person:{}",
                    domain::idnum::mask_id(&id)
                ));
            }
            if case.form().father.is_some() {
                fields.push("data_sharing:marriage".into());
            }
        }
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        Ok(answer).wrote(vec![case.case_id().to_string()], &fields)
    })
}

/// `GET /v1/cases`.
pub fn mine(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let list = service::my_cases(c.app(), c.actor(), &c.page()?).await?;
        let ids = list.cases.iter().map(|c| c.case_id.clone()).collect();
        Answer::json(StatusCode::OK, list).read(ids, &["newborn_name", "status"])
    })
}

/// `GET /v1/cases/{case_id}` (with `?break_glass=` a supervisor's recorded full read).
pub fn view(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let case = c.param("case_id");
        let reason = c.query("break_glass");
        let shown = service::case_view(c.app(), c.actor(), &case, reason.as_deref()).await?;
        // The masked view holds no personal data; the full view is recorded.
        let full = matches!(shown, domain::view::Shown::Full(_));
        let mut answer = Answer::json(StatusCode::OK, shown)?;
        if full {
            let action = match reason {
                Some(_) => AuditAction::BreakGlassRead,
                None => AuditAction::Read,
            };
            answer = answer.recorded(action, vec![case], &CASE_FIELDS);
            if let Some(a) = answer.access.as_mut() {
                a.reason = reason;
            }
        }
        Ok(answer)
    })
}

/// `POST /v1/cases/{case_id}/materials`: an upload link for a new material.
pub fn add_material(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let case = c.param("case_id");
        let base = c.base_url();
        let t = service::new_material(c.app(), c.actor(), &case, &body, &base).await?;
        let field = format!("material:{}", t.material_id);
        Answer::json(StatusCode::CREATED, t).wrote(vec![case], &[&field])
    })
}

/// `GET /v1/cases/{case_id}/materials/{material_id}`: a download link.
pub fn material(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let case = c.param("case_id");
        let material = c.param("material_id");
        let base = c.base_url();
        let d = service::material_download(c.app(), c.actor(), &case, &material, &base).await?;
        let field = format!("material:{material}");
        Answer::json(StatusCode::OK, d).read(vec![case], &[&field])
    })
}

/// `POST /v1/cases/{case_id}/resubmit`.
pub fn resubmit(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let case = c.param("case_id");
        let changed = service::resubmit(c.app(), c.actor(), &case, &body).await?;
        let mut fields = vec!["form".to_string(), "materials".to_string()];
        if changed.accepted_at().is_some() {
            // An accepted case's resubmission asked data sharing again.
            fields.extend(application::handlers::lookups(changed.form()));
        }
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        Answer::json(StatusCode::ACCEPTED, moved(&changed)).wrote(vec![case], &fields)
    })
}

/// `POST /v1/cases/{case_id}/withdraw`.
pub fn withdraw(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let case = c.param("case_id");
        let changed = service::withdraw(c.app(), c.actor(), &case, &body).await?;
        Answer::json(StatusCode::OK, moved(&changed)).wrote(vec![case], &["status"])
    })
}

/// Where a case stands after a resubmission, a withdrawal or a parent's act.
pub(crate) fn moved(c: &Case) -> Resubmitted {
    Resubmitted {
        case_id: c.case_id().to_string(),
        current_step: c.current_step(),
        status: c.status(),
        version: c.version(),
    }
}

/// `POST /v1/cases/{case_id}/corrections`.
pub fn correct(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let case = c.param("case_id");
        let (out, form) =
            service::correct_after_completion(c.app(), c.actor(), &case, &body).await?;
        // The correction asked data sharing about the corrected form.
        let mut fields = vec!["corrections".to_string()];
        fields.extend(application::handlers::lookups(&form));
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        Answer::json(StatusCode::ACCEPTED, out).wrote(vec![case], &fields)
    })
}

/// `GET /v1/cases/{case_id}/certificates`.
pub fn certificates(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let case = c.param("case_id");
        let base = c.base_url();
        let list = application::certs::list(c.app(), c.actor(), &case, &base).await?;
        Answer::json(StatusCode::OK, list).read(vec![case], &["certificates"])
    })
}

/// `POST /v1/cases/{case_id}/premium-payment/reversal` (a medical-security supervisor).
pub fn premium_reversal(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let case = c.param("case_id");
        let changed = service::reverse_premium_payment(c.app(), c.actor(), &case, &body).await?;
        premium_answer(&changed, case)
    })
}

/// `POST /v1/cases/{case_id}/premium-payment` (medical security).
pub fn premium_payment(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let case = c.param("case_id");
        let changed = service::premium_payment(c.app(), c.actor(), &case, &body).await?;
        premium_answer(&changed, case)
    })
}

/// The newborn's medical insurance as a payment or its reversal left it.
fn premium_answer(changed: &Case, case: String) -> Result<Answer, application::ServiceError> {
    let insurance = changed
        .results()
        .insurance
        .as_ref()
        .map(|i| &i.medical_insurance);
    let shown = json!({"case_id": changed.case_id(), "medical_insurance": insurance,
                       "version": changed.version()});
    Answer::json(StatusCode::OK, shown).wrote(vec![case], &["results.medical_insurance"])
}
