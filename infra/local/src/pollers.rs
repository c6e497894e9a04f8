//! Queue pollers that behave like Lambda event source mappings: receive a batch, run the
//! function on each message, delete the successes, and let the failures come back after
//! a backoff; past the maximum receive count a message goes to its dead-letter queue.

use crate::Config;
use application::{App, Envelope, HandlerError};
use ports::Queue;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

type Handler = fn(App, Envelope) -> Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send>>;

/// Which function consumes which queue: the same handlers the Lambdas run.
pub fn handler_for(queue: &str) -> Option<Handler> {
    Some(match queue {
        "accept" => |a, b| Box::pin(accept::handle(a, b)),
        "certify-birth" => |a, b| Box::pin(certify_birth::handle(a, b)),
        "register-household" => |a, b| Box::pin(register_household::handle(a, b)),
        "enrol-insurance" => |a, b| Box::pin(enrol_insurance::handle(a, b)),
        "issue-card" => |a, b| Box::pin(issue_card::handle(a, b)),
        "unify-issuance" => |a, b| Box::pin(unify_issuance::handle(a, b)),
        "notify" => |a, b| Box::pin(notify::handle(a, b)),
        "archive" => |a, b| Box::pin(archive::handle(a, b)),
        "render" => |a, b| Box::pin(render::handle(a, b)),
        // A step added to the flow table before its function is named here: the same
        // generic handler every step function runs.
        q if domain::flow::FLOW.iter().any(|s| s.queue == q) => {
            |a, b| Box::pin(async move { application::handlers::handle(&a, &b).await })
        }
        _ => return None,
    })
}

pub fn spawn_all(
    app: &App,
    queues: &Arc<dyn Queue>,
    cfg: &Config,
    stop: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = vec![];
    for queue in domain::flow::all_queues() {
        let handler = handler_for(queue).expect("every queue has a function");
        let window = if queue == domain::flow::RENDER_QUEUE {
            cfg.render_window
        } else {
            Duration::ZERO
        };
        for _ in 0..cfg.workers_per_queue.max(1) {
            tasks.push(tokio::spawn(poll(
                app.clone(),
                queues.clone(),
                queue,
                handler,
                (cfg.visibility, window),
                stop.clone(),
            )));
        }
    }
    tasks
}

/// Backoff before a failed message is visible again.
fn backoff(receive_count: u32) -> Duration {
    Duration::from_millis((250u64 << receive_count.min(6)).min(10_000))
}

async fn poll(
    app: App,
    queues: Arc<dyn Queue>,
    queue: &'static str,
    handler: Handler,
    (visibility, window): (Duration, Duration),
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let mut batch = match queues.receive(queue, 10, visibility).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(queue, error = %e, "receive failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        if batch.is_empty() {
            tokio::select! {
                _ = queues.wait(queue, Duration::from_millis(500)) => {}
                _ = stop.changed() => return,
            }
            continue;
        }
        // A batching window: gather more for a while, up to a batch of ten.
        let until = tokio::time::Instant::now() + window;
        while batch.len() < 10 && tokio::time::Instant::now() < until {
            tokio::select! {
                _ = queues.wait(queue, until - tokio::time::Instant::now()) => {}
                _ = stop.changed() => {}
            }
            match queues.receive(queue, 10 - batch.len(), visibility).await {
                Ok(more) => batch.extend(more),
                Err(e) => {
                    tracing::warn!(queue, error = %e, "receive failed");
                    break;
                }
            }
        }
        // The same message more than once in the batch runs once and settles alike, as
        // in the Lambda glue (`lambda::sqs_batch_until`).
        let mut alike: Vec<Vec<ports::Received>> = vec![];
        for m in batch {
            match alike.iter_mut().find(|g| g[0].body == m.body) {
                Some(g) => g.push(m),
                None => alike.push(vec![m]),
            }
        }
        // Like concurrent Lambda invocations: the batch's messages run at once, and each
        // is settled on its own (partial batch failure).
        let mut set = tokio::task::JoinSet::new();
        for group in alike {
            let (app, queues) = (app.clone(), queues.clone());
            set.spawn(async move {
                let outcome = match Envelope::parse(&group[0].body) {
                    Ok(env) => handler(app.clone(), env).await,
                    Err(e) => Err(HandlerError::Permanent(e)),
                };
                for m in &group {
                    settle(&queues, queue, m, &outcome).await;
                }
            });
        }
        while set.join_next().await.is_some() {}
    }
}

/// Delete a handled message, or let a failed one come back after a backoff.
async fn settle(
    queues: &Arc<dyn Queue>,
    queue: &'static str,
    m: &ports::Received,
    outcome: &Result<(), HandlerError>,
) {
    let r = match outcome {
        Ok(()) => queues.ack(queue, &m.receipt).await,
        Err(e) => {
            match e {
                HandlerError::Retryable(_) => tracing::warn!(
                    queue,
                    message_id = %m.message_id,
                    error = %e,
                    "will retry",
                ),
                HandlerError::Permanent(_) | HandlerError::ForOfficer(_) => tracing::error!(
                    queue,
                    message_id = %m.message_id,
                    error = %e,
                    "failed",
                ),
            }
            queues
                .retry_later(queue, &m.receipt, backoff(m.receive_count), &e.to_string())
                .await
        }
    };
    if let Err(e) = r {
        tracing::warn!(
            queue,
            error = %e,
            "could not settle a message; it will be redelivered",
        );
    }
}

/// The scheduled SLA monitor, as EventBridge would run it.
pub async fn sla_loop(
    app: App,
    every: Duration,
    redrive_after: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let stale =
            chrono::Duration::from_std(redrive_after).unwrap_or(chrono::Duration::seconds(120));
        match application::handlers::sla_tick(&app, stale).await {
            Ok(t) if t.marked_overdue + t.redriven > 0 => {
                tracing::info!(
                    scanned = t.scanned,
                    overdue = t.marked_overdue,
                    redriven = t.redriven,
                    "sla monitor"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sla monitor failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// The table stream's event source mapping and the `relay` function: read the changes,
/// send their messages in order, and on a failed send read again from that change.
pub async fn stream_relay(
    mut reader: aws::stream::StreamReader,
    queues: Arc<dyn ports::QueueSender>,
    mut stop: watch::Receiver<bool>,
) {
    let mut pending: Vec<aws::stream::Change> = vec![];
    loop {
        if *stop.borrow() {
            return;
        }
        match reader.next().await {
            Ok(changes) => pending.extend(changes),
            Err(e) => tracing::warn!(error = %e, "reading the table's stream failed"),
        }
        let mut wait = Duration::from_millis(50);
        if !pending.is_empty() {
            match aws::stream::relay(queues.as_ref(), &pending).await {
                Ok(_) => pending.clear(),
                Err((sequence, e)) => {
                    tracing::warn!(error = %e, "relay failed; trying again from that change");
                    let done = pending
                        .iter()
                        .position(|c| c.sequence == sequence)
                        .unwrap_or(0);
                    pending.drain(..done);
                    wait = Duration::from_millis(500);
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}
