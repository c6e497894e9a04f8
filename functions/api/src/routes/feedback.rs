//! Ratings and complaints on a case, and the departments' feedback inbox with its
//! follow-up (answer, return visit, rectification).

use crate::call::{Answer, Call, Handled, Record};
use http::StatusCode;

/// `POST /v1/cases/{case_id}/rating`.
pub fn rate(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let case = c.param("case_id");
        let r = application::service::rate(c.app(), c.actor(), &case, &body).await?;
        Answer::json(StatusCode::CREATED, r).wrote(vec![case], &["ratings"])
    })
}

/// `POST /v1/cases/{case_id}/complaints`.
pub fn complain(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let case = c.param("case_id");
        let r = application::service::complain(c.app(), c.actor(), &case, &body).await?;
        Answer::json(StatusCode::CREATED, r).wrote(vec![case], &["complaints"])
    })
}

/// `POST /v1/cases/{case_id}/complaints/{complaint_id}/answer`.
pub fn answer_complaint(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let case = c.param("case_id");
        let complaint = c.params.get("complaint_id");
        let r = application::service::answer_complaint(c.app(), c.actor(), &case, complaint, &body)
            .await?;
        Answer::json(StatusCode::OK, r).wrote(vec![case], &["complaints"])
    })
}

/// `GET /v1/feedback`.
pub fn inbox(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let status = c.query("status");
        let page = c.page()?;
        let inbox =
            application::service::feedback_inbox(c.app(), c.actor(), status.as_deref(), &page)
                .await?;
        Answer::json(StatusCode::OK, inbox)
    })
}

/// `POST /v1/feedback/{feedback_id}/answer`.
pub fn answer(c: Call<'_>) -> Handled<'_> {
    Box::pin(follow_up(c, "answer"))
}

/// `POST /v1/feedback/{feedback_id}/return-visit`.
pub fn return_visit(c: Call<'_>) -> Handled<'_> {
    Box::pin(follow_up(c, "return-visit"))
}

/// `POST /v1/feedback/{feedback_id}/rectification`.
pub fn rectification(c: Call<'_>) -> Handled<'_> {
    Box::pin(follow_up(c, "rectification"))
}

async fn follow_up(c: Call<'_>, action: &'static str) -> Result<Answer, application::ServiceError> {
    let body = c.json()?;
    let id = c.params.get("feedback_id");
    let (item, case) =
        application::service::follow_up(c.app(), c.actor(), id, action, &body).await?;
    Answer::json(StatusCode::OK, item).wrote(vec![case], &["feedback"])
}
