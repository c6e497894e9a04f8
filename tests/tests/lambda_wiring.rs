//! The Lambda functions as they are wired for AWS (`lambda::Init`: SDK configuration from
//! the Lambda environment, the lazily connecting HTTPS client, only the adapters each
//! function uses), on moto. The test plays the SQS event source mappings: it receives
//! each queue's messages, hands them to the function as an SQS event through
//! `lambda::sqs_batch`, and deletes only what the batch response does not name.

use crate::helpers::*;
use crate::moto;
use application::{App, HandlerError};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use bytes::Bytes;
use ports::QueueConsumer;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// A function's environment as the deployed template sets it (read back from the stack),
/// plus what Lambda sets itself.
fn lambda_env(
    endpoint: &str,
    outputs: &HashMap<String, String>,
    function: &str,
) -> HashMap<String, String> {
    let from_template = outputs
        .get(&format!("Env:{function}"))
        .unwrap_or_else(|| panic!("the stack has no function {function}"));
    let mut v: HashMap<String, String> = serde_json::from_str(from_template).unwrap();
    for (k, x) in [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        ("AWS_ENDPOINT_URL", endpoint),
    ] {
        v.insert(k.to_string(), x.to_string());
    }
    v
}

/// The template's logical id of the function consuming `queue`.
fn function_of(queue: &str) -> String {
    let camel: String = queue
        .split('-')
        .map(|w| w[..1].to_uppercase() + &w[1..])
        .collect();
    format!("{camel}Function")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_wired_functions_complete_a_case_on_moto() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let m = moto::Moto::start(&root);
    let outputs = m.deploy("wiring");
    // Each function with its own environment from the template, as its main.rs builds it:
    // a queue, bucket or variable a function uses but the template does not give it fails.
    let init = |function: &str| {
        let env = lambda_env(&m.endpoint, &outputs, function);
        lambda::Init::from_lookup(move |k| env.get(k).cloned()).unwrap()
    };
    let api_init = init("ApiFunction")
        .with_s3()
        .with_certificates()
        .with_documents(None);
    let api_audit = api_init.audit();
    let api_app = api_init.app();
    let mut apps: HashMap<&str, App> = HashMap::new();
    for q in domain::flow::all_queues() {
        let f = function_of(q);
        let app = match q {
            "accept" => init(&f).with_data_sharing().unwrap().app(),
            "archive" => init(&f).with_s3().with_documents(None).app(),
            // The render function, with the font its package carries.
            "render" => {
                let (renderer, _) = documents::Renderer::find_default().expect("a CJK font");
                init(&f)
                    .with_s3()
                    .with_certificates()
                    .with_documents(Some(std::sync::Arc::new(renderer)))
                    .app()
            }
            // The steps that issue results sign their certificates with the KMS key.
            "certify-birth" | "register-household" | "enrol-insurance" | "issue-card" => {
                init(&f).with_certificates().app()
            }
            _ => init(&f).app(),
        };
        apps.insert(q, app);
    }

    // A function that was not given a port fails permanently, naming what it lacks.
    let step_app = &apps["certify-birth"];
    let e = step_app.blobs.get("materials/x").await.unwrap_err();
    assert!(matches!(e, ports::StoreError::NotWired(_)), "{e}");
    assert!(matches!(HandlerError::from(e), HandlerError::Permanent(_)));
    let e = step_app.sharing.person(MOTHER_A).await.unwrap_err();
    assert!(e.to_string().contains("data-sharing"), "{e}");

    // The portal submits through the API function (claims from the JWT authorizer).
    let api = api::Api {
        app: api_app.clone(),
        auth: api::auth::Auth::Upstream,
        public_base_url: None,
        audit: api_audit.clone(),
    };
    // The hospital's system pushes the delivery record first.
    let mut req = http::Request::post("/v1/births")
        .header("content-type", "application/json")
        .body(Bytes::from(
            testkit::family::birth_record(&form_a()).to_string(),
        ))
        .unwrap();
    req.extensions_mut().insert(api::auth::Claims {
        sub: "officer-hospital".into(),
        role: "dept_officer".into(),
        dept: Some("hospital".into()),
        exp: i64::MAX,
        iat: None,
        iss: None,
        aud: None,
        ..Default::default()
    });
    let resp = api.handle(req).await;
    assert_eq!(resp.status(), 201, "{:?}", resp.body());
    let mut req = http::Request::post("/v1/applications")
        .header("content-type", "application/json")
        .header("idempotency-key", "wiring-1")
        .body(Bytes::from(form_a().to_string()))
        .unwrap();
    req.extensions_mut().insert(api::auth::Claims {
        sub: FATHER_A.into(),
        role: "guardian".into(),
        dept: None,
        exp: i64::MAX,
        iat: None,
        iss: None,
        aud: None,
        ..Default::default()
    });
    let resp = api.handle(req).await;
    assert_eq!(resp.status(), 202, "{:?}", resp.body());
    let body: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
    let id = body["case_id"].as_str().unwrap().to_string();

    // The event source mappings, played by hand, over the stack's queues.
    let sqs = aws::Aws::new(
        &m.sdk_config().await,
        &aws::Resources::from_outputs(&outputs).unwrap(),
        5,
    )
    .queues
    .clone();
    // The relay function, with its own environment, over the table's stream.
    let relay_queues = init("RelayFunction").queues();
    let mut stream = aws::Aws::new(
        &m.sdk_config().await,
        &aws::Resources::from_outputs(&outputs).unwrap(),
        5,
    )
    .stream_reader();
    let mut handled = 0;
    for _ in 0..200 {
        let changes = stream.next().await.unwrap();
        if let Err((_, e)) = aws::stream::relay(relay_queues.as_ref(), &changes).await {
            panic!("relay: {e}");
        }
        let c = api_app.store.get(&id).await.unwrap().unwrap();
        let sent = api_app.notifier.sent(&id).await.unwrap().len();
        if c.status() == domain::CaseStatus::Completed && c.archive().is_some() && sent == 6 {
            break;
        }
        for q in domain::flow::all_queues() {
            let msgs = sqs.receive(q, 10, Duration::from_secs(30)).await.unwrap();
            if msgs.is_empty() {
                continue;
            }
            let mut event = SqsEvent::default();
            for r in &msgs {
                let mut m = SqsMessage::default();
                m.message_id = Some(r.message_id.clone());
                m.body = Some(r.body.clone());
                event.records.push(m);
            }
            let h = onething::pollers::handler_for(q).expect("every queue has a function");
            let resp = lambda::sqs_batch(&apps[q], event, h).await;
            assert!(
                resp.batch_item_failures.is_empty(),
                "{q}: {:?}",
                resp.batch_item_failures
            );
            for r in &msgs {
                sqs.ack(q, &r.receipt).await.unwrap();
                handled += 1;
            }
        }
    }
    let c = api_app.store.get(&id).await.unwrap().unwrap();
    assert_eq!(c.status(), domain::CaseStatus::Completed);
    let archive = c
        .archive()
        .as_ref()
        .expect("archived by the archive function through S3");
    let bucket = format!("s3://{}/archives/", outputs["ArchiveBucket"]);
    assert!(
        archive.location.starts_with(&bucket),
        "{}",
        archive.location
    );
    assert!(archive.files > 0);
    assert_eq!(api_app.notifier.sent(&id).await.unwrap().len(), 6);
    let newborn = c.results().newborn_id_number().expect("newborn id");
    domain::idnum::IdNumber::parse(newborn, chrono::Utc::now().date_naive())
        .expect("a valid newborn ID");
    assert!(handled >= 10, "every function ran: {handled} messages");
    // Six certificates, signed in KMS by the step functions; the API function verifies
    // each against the keys it publishes.
    assert_eq!(c.certificates().len(), 6);
    // The archive waited for the render function's six PDFs and holds them.
    let bundle = api_app
        .blobs
        .get(&format!(
            "{}/archive.json",
            archive
                .location
                .trim_start_matches(&format!("s3://{}/", outputs["ArchiveBucket"]))
        ))
        .await
        .unwrap()
        .expect("the archive object");
    let bundle: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
    let pdfs = pdfs_in(&bundle);
    assert_eq!(pdfs, 6, "{}", bundle["manifest"]);
    for cert in c.certificates() {
        let v = application::certs::verify(&api_app, &cert.claims.cert_id, Some(&cert.token))
            .await
            .unwrap();
        assert_eq!(v["valid"], true, "{v}");
    }
}
