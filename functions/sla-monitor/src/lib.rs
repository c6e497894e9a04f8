//! The scheduled `sla-monitor`: marks overdue steps and cases and re-drives any case
//! whose automatic step stopped moving.

use application::handlers::Tick;
use application::{App, HandlerError};

/// A case whose automatic step has not moved for this long is re-driven.
pub const STALE_AFTER_SECS: i64 = 120;

pub async fn tick(app: &App) -> Result<Tick, HandlerError> {
    application::handlers::sla_tick(app, chrono::Duration::seconds(STALE_AFTER_SECS)).await
}

/// The namespace, metric and dimension the template's `OverdueStepsAlarm` reads.
pub const METRIC_NAMESPACE: &str = "onething";

/// The run's figures as one CloudWatch embedded-metric-format line (printed to stdout,
/// CloudWatch Logs turns it into the metrics `OverdueSteps`, `EscalatedCases` and
/// `SlaFailures` of namespace `onething`, dimension `Stage`). No personal data.
pub fn emf_line(stage: &str, t: &Tick, at: chrono::DateTime<chrono::Utc>) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": METRIC_NAMESPACE,
                "Dimensions": [["Stage"]],
                "Metrics": [
                    {"Name": "OverdueSteps", "Unit": "Count"},
                    {"Name": "EscalatedCases", "Unit": "Count"},
                    {"Name": "SlaFailures", "Unit": "Count"},
                ],
            }],
        },
        "Stage": stage,
        "OverdueSteps": t.overdue_open_steps,
        "EscalatedCases": t.escalated,
        "SlaFailures": t.failed,
    })
    .to_string()
}

/// This function's composition root, as its `main` runs it: DynamoDB and SQS only, from
/// the Lambda environment that `var` looks up.
pub fn compose(
    var: impl Fn(&str) -> Option<String> + 'static,
) -> Result<App, lambda::lambda_runtime::Error> {
    Ok(lambda::Init::from_lookup(var)?.app())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emf_line_carries_the_alarms_metric() {
        let t = Tick {
            overdue_open_steps: 3,
            escalated: 1,
            ..Tick::default()
        };
        let v: serde_json::Value =
            serde_json::from_str(&emf_line("prod", &t, chrono::Utc::now())).unwrap();
        let m = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], "onething");
        assert_eq!(m["Dimensions"][0][0], "Stage");
        assert_eq!(m["Metrics"][0]["Name"], "OverdueSteps");
        assert_eq!(v["OverdueSteps"], 3);
        assert_eq!(v["Stage"], "prod");
    }
}
