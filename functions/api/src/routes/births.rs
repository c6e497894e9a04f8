//! `POST /v1/births`: a midwifery institution files a delivery record;
//! `PUT /v1/births/{birth_id}`: it corrects its own record until a case uses it.

use crate::call::{Answer, Call, Handled, Record};
use http::StatusCode;
use serde_json::json;

/// `POST /v1/births` (201 when new, 200 when the same record was filed before).
pub fn record(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let (birth_id, created) =
            application::service::record_birth(c.app(), c.actor(), &body).await?;
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        let field = format!("birth:{birth_id}");
        Answer::json(status, json!({ "birth_id": birth_id })).wrote(vec![], &[&field])
    })
}

/// `PUT /v1/births/{birth_id}`.
pub fn replace(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let id = c.param("birth_id");
        let birth_id = application::service::replace_birth(c.app(), c.actor(), &id, &body).await?;
        let field = format!("birth:{birth_id}");
        Answer::json(StatusCode::OK, json!({ "birth_id": birth_id })).wrote(vec![], &[&field])
    })
}
