//! Lambda entry point: an EventBridge schedule → `onething_sla_monitor::tick`.

use lambda::lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let app = onething_sla_monitor::compose(|k| std::env::var(k).ok())?;
    run(service_fn(|_event: LambdaEvent<Value>| {
        let app = app.clone();
        async move {
            let t = onething_sla_monitor::tick(&app)
                .await
                .map_err(|e| Error::from(e.to_string()))?;
            tracing::info!(
                scanned = t.scanned,
                overdue = t.marked_overdue,
                redriven = t.redriven,
                escalated = t.escalated,
                failed = t.failed,
                "sla tick"
            );
            // The metrics the template's alarms read (embedded metric format).
            let stage = std::env::var("ONETHING_STAGE").unwrap_or_else(|_| "prod".into());
            println!(
                "{}",
                onething_sla_monitor::emf_line(&stage, &t, chrono::Utc::now())
            );
            Ok::<_, Error>(serde_json::to_value(t)?)
        }
    }))
    .await
}
