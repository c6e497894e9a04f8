//! Every sample Lambda event in `events/` deserialises into its event type and goes
//! through its function's handler the way the Lambda entry point runs it: a message that
//! can never succeed is reported as a batch item failure, alone; an API Gateway event is
//! answered by the API with the guardian's claims from the authorizer.

use crate::helpers::*;
use aws_lambda_events::event::sqs::SqsEvent;
use onething::pollers::handler_for;
use std::path::Path;

/// A queue sender that records what it sends and knows only the system's queues.
#[derive(Default)]
struct Recorded(std::sync::Mutex<Vec<(String, String)>>);

#[async_trait::async_trait]
impl ports::QueueSender for Recorded {
    async fn send(&self, queue: &str, body: &str) -> Result<(), ports::StoreError> {
        if !domain::flow::all_queues().contains(&queue) {
            return Err(ports::StoreError::Corrupt(format!(
                "no queue named {queue}"
            )));
        }
        self.0.lock().unwrap().push((queue.into(), body.into()));
        Ok(())
    }
}

#[tokio::test]
async fn every_sample_event_is_handled_by_its_function() {
    let app = TestApp::start().await;
    let running = app.running.as_ref().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        if let Some(queue) = name
            .strip_prefix("sqs-")
            .and_then(|n| n.strip_suffix(".json"))
        {
            let event: SqsEvent =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let handler = handler_for(queue)
                .unwrap_or_else(|| panic!("{name}: no function consumes {queue}"));
            let ids: Vec<String> = event
                .records
                .iter()
                .map(|r| r.message_id.clone().unwrap())
                .collect();
            let resp = lambda::sqs_batch(&running.app, event, handler).await;
            let failed: Vec<String> = resp
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.clone())
                .collect();
            // The example case does not exist and the second body is not a message: both
            // fail, each reported by its own id.
            assert_eq!(failed, ids, "{name}");
            seen += 1;
        } else if name.starts_with("apigw-v2-") {
            let req: aws_lambda_events::event::apigw::ApiGatewayV2httpRequest =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(req.request_context.authorizer.is_some(), "{name}");
            // Through the API function as its main.rs serves it: claims from the
            // authorizer's context, the response in payload 2.0 form.
            let api = api::Api {
                app: running.app.clone(),
                auth: api::auth::Auth::Upstream,
                public_base_url: None,
                audit: std::sync::Arc::new(
                    embedded::JsonlAudit::open(&app.dir.path().join("events-audit.jsonl")).unwrap(),
                ),
                edge: None,
            };
            let resp = api::apigw::handle(&api, req).await;
            assert_eq!(resp.status_code, 200, "{name}: {:?}", resp.body);
            // API Gateway's request id, when the caller sent none.
            assert_eq!(resp.headers["x-request-id"], "example", "{name}");
            let v = serde_json::to_value(&resp).unwrap();
            let body: serde_json::Value =
                serde_json::from_str(v["body"].as_str().expect("a text body")).unwrap();
            assert!(body.is_object() || body.is_array(), "{name}: {body}");
            seen += 1;
        } else if name.starts_with("dynamodb-") {
            // The relay function: the changes' messages in order, up to the first change
            // that cannot be relayed, which is reported (the stream is read again from it).
            let event: aws_lambda_events::event::dynamodb::Event =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let sent = Recorded::default();
            let resp = lambda::stream_batch(&sent, &event).await;
            let failed: Vec<Option<String>> = resp
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.clone())
                .collect();
            assert_eq!(
                failed,
                vec![Some("100000000000000000002".to_string())],
                "{name}"
            );
            let queues: Vec<String> = sent
                .0
                .lock()
                .unwrap()
                .iter()
                .map(|(q, _)| q.clone())
                .collect();
            assert_eq!(queues, ["certify-birth", "notify"], "{name}");
            seen += 1;
        } else if name.starts_with("schedule-") {
            let _: aws_lambda_events::event::cloudwatch_events::CloudWatchEvent =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            seen += 1;
        }
    }
    assert_eq!(seen, 13);

    // A real case's message succeeds and is not reported.
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.wait_for(&id, &g, "completed").await;
    let mut event: SqsEvent =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sqs-certify-birth.json")).unwrap())
            .unwrap();
    event.records[0].body = Some(format!(
        r#"{{"kind":"step","case_id":"{id}","step":"birth_certificate"}}"#
    ));
    let resp = lambda::sqs_batch(&running.app, event, handler_for("certify-birth").unwrap()).await;
    assert_eq!(
        resp.batch_item_failures.len(),
        1,
        "only the poison record fails"
    );
}

/// The edge's origin secret, as Secrets Manager would give it.
struct EdgeSecret;

#[async_trait::async_trait]
impl ports::SecretSource for EdgeSecret {
    async fn secret(&self) -> Result<String, ports::StoreError> {
        Ok("s3cr3t-from-the-edge-0123456789abcdef".into())
    }
}

#[tokio::test]
async fn behind_the_edge_the_api_answers_only_requests_that_came_through_it() {
    let app = TestApp::start().await;
    let running = app.running.as_ref().unwrap();
    let api = api::Api {
        app: running.app.clone(),
        auth: api::auth::Auth::Upstream,
        public_base_url: None,
        audit: std::sync::Arc::new(
            embedded::JsonlAudit::open(&app.dir.path().join("edge-audit.jsonl")).unwrap(),
        ),
        edge: Some(std::sync::Arc::new(EdgeSecret)),
    };
    let get = |header: Option<&'static str>| {
        let mut b = http::Request::get("/healthz");
        if let Some(v) = header {
            b = b.header(api::EDGE_HEADER, v);
        }
        b.body(bytes::Bytes::new()).unwrap()
    };
    // Straight to the HTTP API's own address (no header, or a guessed one): refused.
    for attempt in [
        None,
        Some("guess"),
        Some("s3cr3t-from-the-edge-0123456789abcdeX"),
    ] {
        let resp = api.handle(get(attempt)).await;
        assert_eq!(resp.status(), 403, "{attempt:?}");
        let body: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(body["error"]["code"], "forbidden", "{body}");
    }
    // Through the edge.
    let resp = api
        .handle(get(Some("s3cr3t-from-the-edge-0123456789abcdef")))
        .await;
    assert_eq!(resp.status(), 200);
}
