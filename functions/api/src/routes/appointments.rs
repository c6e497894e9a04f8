//! Appointments at a site: a guardian books, lists and cancels; window officers list a
//! site's day.

use crate::call::{Answer, Call, Handled};
use application::booking;
use http::StatusCode;

/// `POST /v1/appointments`.
pub fn book(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        Answer::json(
            StatusCode::CREATED,
            booking::book(c.app(), c.actor(), &body).await?,
        )
    })
}

/// `GET /v1/appointments`.
pub fn mine(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move { Answer::json(StatusCode::OK, booking::mine(c.app(), c.actor()).await?) })
}

/// `DELETE /v1/appointments/{appointment_id}`.
pub fn cancel(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let id = c.params.get("appointment_id");
        Answer::json(
            StatusCode::OK,
            booking::cancel(c.app(), c.actor(), id).await?,
        )
    })
}

/// `GET /v1/sites/{site_id}/appointments`.
pub fn site_day(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let date = c.query("date");
        let site = c.params.get("site_id");
        let day = booking::site_day(c.app(), c.actor(), site, date.as_deref()).await?;
        Answer::json(StatusCode::OK, day)
    })
}
