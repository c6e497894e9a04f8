//! The scheduled `sla-monitor`: marks overdue steps and cases and re-drives any case
//! whose automatic step stopped moving.

use application::handlers::Tick;
use application::{App, HandlerError};

/// A case whose automatic step has not moved for this long is re-driven.
pub const STALE_AFTER_SECS: i64 = 120;

pub async fn tick(app: &App) -> Result<Tick, HandlerError> {
    application::handlers::sla_tick(app, chrono::Duration::seconds(STALE_AFTER_SECS)).await
}
