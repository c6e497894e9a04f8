//! Parents and consent: a parent the case names confirms, declines or objects in their
//! own account; the police or the accepting window void a fraudulent case.

use super::cases::moved;
use crate::call::{Answer, Call, Handled, Record};
use application::service;
use http::StatusCode;

/// `POST /v1/cases/{case_id}/confirm-parent`.
pub fn confirm(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let case = c.param("case_id");
        let changed = service::confirm_parent(c.app(), c.actor(), &case).await?;
        Answer::json(StatusCode::OK, moved(&changed)).wrote(vec![case], &["status", "parentage"])
    })
}

/// `POST /v1/cases/{case_id}/decline`.
pub fn decline(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let case = c.param("case_id");
        let changed = service::decline(c.app(), c.actor(), &case, &body).await?;
        Answer::json(StatusCode::OK, moved(&changed)).wrote(vec![case], &["status", "parentage"])
    })
}

/// `POST /v1/cases/{case_id}/object`.
pub fn object(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let case = c.param("case_id");
        let changed = service::object(c.app(), c.actor(), &case, &body).await?;
        Answer::json(StatusCode::OK, moved(&changed)).wrote(vec![case], &["status", "parentage"])
    })
}

/// `POST /v1/cases/{case_id}/void`.
pub fn void(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let case = c.param("case_id");
        let changed = service::void(c.app(), c.actor(), &case, &body).await?;
        Answer::json(StatusCode::OK, moved(&changed))
            .wrote(vec![case], &["status", "results", "certificates"])
    })
}
