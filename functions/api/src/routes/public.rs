//! Routes served without a token: health, the API's description, the guide, sites and
//! slots, certificate verification and the keys to check certificates with.

use crate::call::{Answer, Call, Handled};
use bytes::Bytes;
use http::{header, Response, StatusCode};
use serde_json::json;

/// `GET /healthz`: up, and whether the holiday calendar holds the notices of this year
/// and of the next 60 days (`"calendar": "provisional"` when not: deadlines into a year
/// without its notice count only the statutory days off, not its 调休).
pub fn healthz(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        use chrono::Datelike;
        let app = c.app();
        let today = app
            .now()
            .with_timezone(&domain::calendar::shanghai())
            .date_naive();
        let ahead = today + chrono::Duration::days(60);
        let known = [today.year(), ahead.year()]
            .iter()
            .all(|y| app.calendar.is_known_year(*y));
        let calendar = if known { "complete" } else { "provisional" };
        Answer::json(
            StatusCode::OK,
            json!({"status": "ok", "calendar": calendar}),
        )
    })
}

/// `GET /openapi.json`.
pub fn openapi(_: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let response = Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Bytes::from_static(crate::OPENAPI.as_bytes()))
            .expect("response");
        Ok(Answer {
            response,
            access: None,
        })
    })
}

/// `GET /v1/guide?bundle=`.
pub fn guide(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let bundle = c.query("bundle");
        let guide = application::service::guide_of(c.app(), bundle.as_deref()).await?;
        Answer::json(StatusCode::OK, guide)
    })
}

/// `GET /v1/catalogue`.
pub fn catalogue(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        Answer::json(
            StatusCode::OK,
            application::service::catalogue(c.app()).await?,
        )
    })
}

/// `GET /v1/catalogue/{bundle_id}`.
pub fn catalogue_bundle(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let b = application::service::catalogue_bundle(c.app(), c.params.get("bundle_id")).await?;
        Answer::json(StatusCode::OK, b)
    })
}

/// `GET /v1/sites`.
pub fn sites(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let county = c.query("county");
        let sites = application::service::sites(c.app(), county.as_deref())?;
        Answer::json(StatusCode::OK, sites)
    })
}

/// `GET /v1/sites/{site_id}/slots`.
pub fn slots(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let date = c.query("date");
        let slots =
            application::booking::slots(c.app(), c.params.get("site_id"), date.as_deref()).await?;
        Answer::json(StatusCode::OK, slots)
    })
}

/// `GET /v1/verify/{cert_id}`.
pub fn verify(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let token = c.query("t");
        let verdict =
            application::certs::verify(c.app(), c.params.get("cert_id"), token.as_deref()).await?;
        if !wants_html(&c.parts.headers) {
            return Answer::json(StatusCode::OK, verdict);
        }
        // A browser that opened the QR code: the same verdict as a Chinese page.
        let page = application::certs::verification_page(&verdict);
        let response = http::Response::builder()
            .status(StatusCode::OK)
            .header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header(http::header::CACHE_CONTROL, "no-store")
            .header("x-content-type-options", "nosniff")
            .header(
                "content-security-policy",
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            )
            .body(bytes::Bytes::from(page))
            .expect("valid response");
        Ok(Answer {
            response,
            access: None,
        })
    })
}

/// Whether the caller prefers a page to JSON: its `Accept` names `text/html` before any
/// JSON type (a browser); no `Accept`, or JSON first, is answered in JSON.
fn wants_html(headers: &http::HeaderMap) -> bool {
    let accept = headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let first = |what: &str| accept.find(what);
    match (first("text/html"), first("application/json")) {
        (Some(h), Some(j)) => h < j,
        (Some(_), None) => true,
        _ => false,
    }
}

/// `GET /.well-known/onething-keys.json`.
pub fn keys(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move { Answer::json(StatusCode::OK, application::certs::keys(c.app()).await?) })
}
