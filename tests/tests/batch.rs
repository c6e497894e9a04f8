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
/// Handlers running now, by case; and the most ever running at once (overall, and of
/// one case).
static RUNNING: Mutex<Vec<String>> = Mutex::new(Vec::new());
static MOST: Mutex<(usize, usize)> = Mutex::new((0, 0));

fn event(records: &[(&str, &str)]) -> SqsEvent {
    let steps: Vec<(&str, &str, &str)> = records
        .iter()
        .enumerate()
        .map(|(i, (id, case))| {
            // Each record its own message (a step of its own).
            let step = domain::flow::Step::ALL[i % domain::flow::Step::ALL.len()].as_str();
            (*id, *case, step)
        })
        .collect();
    event_of(&steps)
}

fn event_of(records: &[(&str, &str, &str)]) -> SqsEvent {
    let mut e = SqsEvent::default();
    for (id, case, step) in records {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.to_string());
        m.body = Some(format!(
            r#"{{"kind":"step","case_id":"{case}","step":"{step}"}}"#
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

/// Panics on case "BOOM", fails on case "FAIL", sleeps 300 ms on the others and records
/// what it saw.
async fn handler(_: App, env: Envelope) -> Result<(), HandlerError> {
    if env.case_id() == "BOOM" {
        panic!("a bug in one handler");
    }
    if env.case_id() == "FAIL" {
        SEEN.lock().unwrap().push("FAIL".into());
        return Err(HandlerError::Retryable("not yet".into()));
    }
    let case = env.case_id().to_string();
    {
        let mut running = RUNNING.lock().unwrap();
        running.push(case.clone());
        let same = running.iter().filter(|c| **c == case).count();
        let mut most = MOST.lock().unwrap();
        *most = (most.0.max(running.len()), most.1.max(same));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    {
        let mut running = RUNNING.lock().unwrap();
        let i = running.iter().position(|c| *c == case).unwrap();
        running.remove(i);
    }
    SEEN.lock().unwrap().push(case);
    Ok(())
}

#[tokio::test]
async fn a_batch_runs_cases_concurrently_isolates_a_panic_and_stops_before_the_deadline() {
    let app = TestApp::start().await;
    let a = app.running.as_ref().unwrap().app.clone();
    SEEN.lock().unwrap().clear();
    *MOST.lock().unwrap() = (0, 0);
    let r = lambda::sqs_batch(
        &a,
        event(&[("m1", "C1"), ("m2", "BOOM"), ("m3", "C2"), ("m4", "C1")]),
        handler,
    )
    .await;
    assert_eq!(failed(&r), vec!["m2"], "only the panicking record fails");
    // C2 ran beside C1 (each handler sleeps 300 ms, so running at once is seen however
    // slow the machine), and C1's two records one after the other.
    let (most, most_of_one_case) = *MOST.lock().unwrap();
    assert_eq!(most, 2, "two cases at once");
    assert_eq!(most_of_one_case, 1, "a case's records in turn");
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

/// The same message twice in a batch (a redelivery, or the render queue gathering a
/// case's requests) runs once and both settle as it did.
#[tokio::test]
async fn the_same_message_twice_in_a_batch_runs_once_and_settles_alike() {
    let app = TestApp::start().await;
    let a = app.running.as_ref().unwrap().app.clone();
    SEEN.lock().unwrap().clear();
    let r = lambda::sqs_batch(
        &a,
        event_of(&[
            ("m1", "C1", "acceptance"),
            ("m2", "C1", "acceptance"),
            ("m3", "C1", "birth_certificate"),
            ("m4", "FAIL", "acceptance"),
            ("m5", "FAIL", "acceptance"),
        ]),
        handler,
    )
    .await;
    assert_eq!(
        failed(&r),
        vec!["m4", "m5"],
        "the copy fails as the first did"
    );
    let seen = SEEN.lock().unwrap().clone();
    assert_eq!(seen.iter().filter(|c| *c == "C1").count(), 2, "{seen:?}");
    assert_eq!(seen.iter().filter(|c| *c == "FAIL").count(), 1, "{seen:?}");
}
