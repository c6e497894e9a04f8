//! Supervisors' routes: the report, the escalation list and the break-glass reads.

use crate::call::{Answer, Call, Handled};
use application::report::{parse_period, report as compile, ReportFilter};
use http::StatusCode;

/// `GET /v1/supervision/report`.
pub fn report(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let (from, to) = parse_period(c.query("from").as_deref(), c.query("to").as_deref())?;
        let filter = ReportFilter::parse(
            c.actor(),
            c.query("region").as_deref(),
            c.query("dept").as_deref(),
        )?;
        // The per-case list: 100 rows a page unless asked otherwise.
        let mut page = c.page()?;
        if c.query("limit").is_none() {
            page.limit = application::paging::MAX_LIMIT;
        }
        let report = compile(c.app(), from, to, &filter, &page).await?;
        Answer::json(StatusCode::OK, report)
    })
}

/// `GET /v1/supervision/escalations`.
pub fn escalations(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let list = application::service::escalations(c.app(), c.actor(), &c.page()?).await?;
        Answer::json(StatusCode::OK, list)
    })
}

/// `GET /v1/supervision/break-glass`.
pub fn break_glass(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let list = application::service::break_glass_reads(c.app(), c.actor(), &c.page()?).await?;
        Answer::json(StatusCode::OK, list)
    })
}
