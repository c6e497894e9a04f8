//! How a Lambda function works through an SQS batch (`lambda::sqs_batch_until`): records
//! of one case in order, cases concurrently, a panic failing its record alone, records
//! not started when the invocation's deadline nears handed back untouched.

use crate::helpers::*;
use application::message::Envelope;
use application::{App, HandlerError};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn event(records: &[(&str, &str)]) -> SqsEvent {
    let mut e = SqsEvent::default();
    for (id, case) in records {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.to_string());
        m.body = Some(format!(
            r#"{{"kind":"step","case_id":"{case}","step":"acceptance"}}"#
        ));
        e.records.push(m);
    }
    e
}

fn failed(r: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<String> {
    let mut v: Vec<String> = r
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    v.sort();
    v
}

/// Panics on case "BOOM", sleeps 300 ms on the others and records what it saw.
async fn handler(_: App, env: Envelope) -> Result<(), HandlerError> {
    if env.case_id() == "BOOM" {
        panic!("a bug in one handler");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    SEEN.lock().unwrap().push(env.case_id().to_string());
    Ok(())
}

#[tokio::test]
async fn a_batch_runs_cases_concurrently_isolates_a_panic_and_stops_before_the_deadline() {
    let app = TestApp::start().await;
    let a = app.running.as_ref().unwrap().app.clone();
    SEEN.lock().unwrap().clear();
    let started = Instant::now();
    let r = lambda::sqs_batch(
        &a,
        event(&[("m1", "C1"), ("m2", "BOOM"), ("m3", "C2"), ("m4", "C1")]),
        handler,
    )
    .await;
    let took = started.elapsed();
    assert_eq!(failed(&r), vec!["m2"], "only the panicking record fails");
    // C1 twice in a row (600 ms) while C2 runs beside it: well under the 900 ms of one
    // record after another.
    assert!(took < Duration::from_millis(850), "{took:?}");
    let seen = SEEN.lock().unwrap().clone();
    assert_eq!(seen.iter().filter(|c| *c == "C1").count(), 2);
    assert!(seen.contains(&"C2".to_string()));

    // Two seconds left: under the margin, nothing starts and everything goes back.
    SEEN.lock().unwrap().clear();
    let r = lambda::sqs_batch_until(
        &a,
        event(&[("m5", "C3"), ("m6", "C4")]),
        handler,
        Some(Instant::now() + Duration::from_secs(2)),
    )
    .await;
    assert_eq!(failed(&r), vec!["m5", "m6"]);
    assert!(SEEN.lock().unwrap().is_empty(), "no record was started");
}
