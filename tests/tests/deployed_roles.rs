//! Every Lambda function as deployed, under its own role.
//!
//! Each function is built by its own composition root (`compose`, the code its `main`
//! runs), with the environment the deployed template gives it and the credentials of its
//! own execution role (assumed from the stack, as Lambda does). moto runs behind
//! `infra/scripts/iam_guard.py`, which authorizes every request signed with a role's
//! credentials as AWS does: the role's policies with their `Condition` blocks, the KMS
//! permissions that SSE-KMS queues and buckets add, and a missing S3 object answering 403
//! to a role that may not list its bucket. The test plays the event source mappings with
//! each function's own credentials (what Lambda's pollers call with the role), and
//! evaluates the Lambda service's other calls with the role (log writes, the stream
//! reads of the relay's mapping).
//!
//! The flows: a case end to end (acceptance → every step → render → archive), an
//! incomplete case completed by an upload and a resubmission, a hospital officer's
//! confirmation, a police officer who downloads the uploaded material and returns the
//! case, a resubmission after acceptance, an officer's rejection, and a correction after
//! completion. Then: no request of any role was refused, and every statement of every
//! role was the only one to allow at least one request (a statement no flow needs is
//! either surplus or untested; removing any statement fails this test).

use crate::helpers::*;
use crate::moto;
use application::App;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use bytes::Bytes;
use ports::QueueConsumer;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The deployed stack and what the test knows of it.
struct Stack {
    m: moto::Moto,
    outputs: HashMap<String, String>,
}

/// The template's logical id of the function consuming `queue`.
fn function_of(queue: &str) -> String {
    let camel: String = queue
        .split('-')
        .map(|w| w[..1].to_uppercase() + &w[1..])
        .collect();
    format!("{camel}Function")
}

impl Stack {
    fn creds(&self, function: &str) -> Value {
        let c = self
            .outputs
            .get(&format!("Creds:{function}"))
            .unwrap_or_else(|| panic!("the stack has no function {function}"));
        serde_json::from_str(c).unwrap()
    }

    /// A function's environment: the deployed template's variables, what Lambda sets
    /// itself, and its role's credentials.
    fn env(&self, function: &str) -> HashMap<String, String> {
        let mut v: HashMap<String, String> =
            serde_json::from_str(&self.outputs[&format!("Env:{function}")]).unwrap();
        let c = self.creds(function);
        for (k, x) in [
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", c["AccessKeyId"].as_str().unwrap()),
            (
                "AWS_SECRET_ACCESS_KEY",
                c["SecretAccessKey"].as_str().unwrap(),
            ),
            ("AWS_SESSION_TOKEN", c["SessionToken"].as_str().unwrap()),
            ("AWS_ENDPOINT_URL", &self.m.endpoint),
        ] {
            v.insert(k.to_string(), x.to_string());
        }
        v
    }

    fn lookup(&self, function: &str) -> impl Fn(&str) -> Option<String> + 'static {
        let env = self.env(function);
        move |k| env.get(k).cloned()
    }

    /// An SDK configuration signing with a function's role (its event source mapping).
    async fn role_config(&self, function: &str) -> aws_config::SdkConfig {
        let c = self.creds(function);
        let s = |k: &str| c[k].as_str().unwrap().to_string();
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.m.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                s("AccessKeyId"),
                s("SecretAccessKey"),
                Some(s("SessionToken")),
                None,
                "role",
            ))
            .load()
            .await
    }

    async fn iam(&self, method: &str, body: Option<Value>) -> Value {
        let r = testkit::http::Http::default()
            .call(
                method,
                &format!("{}/_onething/iam", self.m.endpoint),
                None,
                &[("content-type", "application/json")],
                Bytes::from(body.map(|b| b.to_string()).unwrap_or_default()),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body
    }

    async fn fault(&self, body: Value) {
        let r = testkit::http::Http::default()
            .call(
                "POST",
                &format!("{}/_onething/fault", self.m.endpoint),
                None,
                &[],
                Bytes::from(body.to_string()),
            )
            .await;
        assert_eq!(r.status, 200);
    }

    /// Every request the guard refused so far, one line each.
    async fn refusals(&self) -> Vec<String> {
        refusals(&self.m.endpoint).await
    }
}

/// Every request the guard at `endpoint` refused so far, one line each.
async fn refusals(endpoint: &str) -> Vec<String> {
    let r = testkit::http::Http::default()
        .call(
            "GET",
            &format!("{endpoint}/_onething/iam"),
            None,
            &[],
            Bytes::new(),
        )
        .await;
    r.body["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["allowed"] == false)
        .map(|e| {
            format!(
                "{} may not {} on {} ({})",
                e["role"].as_str().unwrap().rsplit('/').next().unwrap(),
                e["action"].as_str().unwrap(),
                e["resource"].as_str().unwrap(),
                e["source"].as_str().unwrap()
            )
        })
        .collect()
}

/// One function per queue, each from its own composition root.
fn compose(stack: &Stack, queue: &str) -> App {
    let var = stack.lookup(&function_of(queue));
    match queue {
        "accept" => accept::compose(var),
        "certify-birth" => certify_birth::compose(var),
        "register-household" => register_household::compose(var),
        "enrol-insurance" => enrol_insurance::compose(var),
        "issue-card" => issue_card::compose(var),
        "unify-issuance" => unify_issuance::compose(var),
        "notify" => notify::compose(var),
        "archive" => archive::compose(var),
        "render" => {
            // The font the render package carries, here from the machine.
            let (_, font) = documents::Renderer::find_default().expect("a CJK font");
            let mut env = stack.env("RenderFunction");
            env.insert("CJK_FONT".into(), font.into());
            render::compose(move |k| env.get(k).cloned())
        }
        // A step function's composition root is the flow table's (`Init::for_step`).
        other => match domain::flow::FLOW.iter().find(|s| s.queue == other) {
            Some(s) => lambda::Init::from_lookup(var)
                .and_then(|i| i.for_step(s.step))
                .map(|i| i.app()),
            None => panic!("no function consumes {other}"),
        },
    }
    .unwrap_or_else(|e| panic!("{queue}: {e}"))
}

fn claims(
    sub: &str,
    role: &str,
    dept: Option<&str>,
    scope: domain::case::Scope,
) -> api::auth::Claims {
    api::auth::Claims {
        sub: sub.into(),
        role: role.into(),
        dept: dept.map(Into::into),
        exp: i64::MAX,
        scope,
        ..Default::default()
    }
}

fn region(code: &str) -> domain::case::Scope {
    domain::case::Scope {
        region: Some(code.into()),
        ..Default::default()
    }
}

/// The API function, called as API Gateway's JWT authorizer hands it a request.
async fn call(
    api: &api::Api,
    method: &str,
    path: &str,
    who: &api::auth::Claims,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("host", "api.test")
        .header("idempotency-key", uuid_key())
        .body(Bytes::from(body.map(|b| b.to_string()).unwrap_or_default()))
        .unwrap();
    req.extensions_mut().insert(who.clone());
    let resp = api.handle(req).await;
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_slice(resp.body()).unwrap_or(Value::Null),
    )
}

/// An officer's decision on a task, as the officer's page sends it: its status and body.
async fn decide(
    api: &api::Api,
    officer: &api::auth::Claims,
    task: &Value,
    decision: &str,
    reasons: &[&str],
) -> (u16, Value) {
    let body = json!({"decision": decision, "reasons": reasons, "version": task["version"]});
    let path = format!("/v1/tasks/{}/decision", task["task_id"].as_str().unwrap());
    call(api, "POST", &path, officer, Some(&body)).await
}

/// The event source mappings, played with each function's own credentials, and the
/// relay's stream mapping: until `done` holds or nothing moves.
struct Mappings {
    pollers: Vec<(&'static str, Arc<aws::SqsQueues>)>,
    apps: HashMap<&'static str, App>,
    relay: Arc<dyn ports::QueueSender>,
    stream: aws::stream::StreamReader,
    endpoint: String,
    /// Queues whose mapping is paused (their messages wait).
    paused: Vec<&'static str>,
}

impl Mappings {
    async fn new(stack: &Stack) -> Mappings {
        let resources = aws::Resources::from_outputs(&stack.outputs).unwrap();
        let mut pollers = vec![];
        let mut apps = HashMap::new();
        for q in domain::flow::all_queues() {
            let cfg = stack.role_config(&function_of(q)).await;
            pollers.push((q, aws::Aws::new(&cfg, &resources, 5).core.queues.clone()));
            apps.insert(q, compose(stack, q));
        }
        let relay = relay::compose(stack.lookup("RelayFunction")).unwrap();
        // The stream mapping's reads are the Lambda service's (evaluated with the relay's
        // role below); the reader here finds the stream with the harness's credentials.
        let stream = aws::Aws::new(&stack.m.sdk_config().await, &resources, 5).stream_reader();
        Mappings {
            pollers,
            apps,
            relay,
            stream,
            endpoint: stack.m.endpoint.clone(),
            paused: vec![],
        }
    }

    async fn run_until(&mut self, what: &str, mut done: impl AsyncFnMut() -> bool) {
        for _ in 0..150 {
            let changes = self.stream.next().await.unwrap();
            let relayed = aws::stream::relay(self.relay.as_ref(), &changes).await;
            if let Err((_, e)) = relayed {
                panic!(
                    "relay: {e}; refused:\n{}",
                    refusals(&self.endpoint).await.join("\n")
                );
            }
            if done().await {
                return;
            }
            for (q, sqs) in &self.pollers {
                if self.paused.contains(q) {
                    continue;
                }
                let msgs = sqs.receive(q, 10, Duration::from_secs(1)).await.unwrap();
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
                let resp = lambda::sqs_batch(&self.apps[q], event, h).await;
                // A failed message stays for SQS to deliver again (a retryable wait is
                // normal); a refusal by IAM never is.
                let refused = refusals(&self.endpoint).await;
                assert!(
                    refused.is_empty(),
                    "the {q} function: requests AWS would refuse:\n{}",
                    refused.join("\n")
                );
                let failed: Vec<_> = resp
                    .batch_item_failures
                    .iter()
                    .map(|f| f.item_identifier.clone())
                    .collect();
                for r in &msgs {
                    if !failed.contains(&r.message_id) {
                        sqs.ack(q, &r.receipt).await.unwrap();
                    }
                }
            }
        }
        panic!("{what}: not reached");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_runs_under_its_own_role_with_conditions_evaluated() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_test_writer()
        .try_init();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let m = moto::Moto::start(&root);
    // Data sharing over HTTP, its key in Secrets Manager, as on a real stage.
    let sharing = crate::sharing_http::stub().await;
    let outputs = m.deploy_with(
        "roles",
        &[("data_sharing_url", &sharing), ("data_sharing_key", "k")],
    );
    let stack = Stack { m, outputs };

    let api = api::Api::compose(stack.lookup("ApiFunction")).unwrap();
    let mut pump = Mappings::new(&stack).await;
    // A function that was not given a port fails permanently, naming what it lacks.
    let step_app = &pump.apps["certify-birth"];
    let e = step_app.blobs.get("materials/x").await.unwrap_err();
    assert!(matches!(e, ports::StoreError::NotWired(_)), "{e}");
    assert!(matches!(
        application::HandlerError::from(e),
        application::HandlerError::Permanent(_)
    ));
    let e = step_app.sharing.person(MOTHER_A).await.unwrap_err();
    assert!(e.to_string().contains("data-sharing"), "{e}");
    let store = api.app.store.clone();
    let status = |id: String| {
        let store = store.clone();
        async move { store.get(&id).await.unwrap().unwrap().status() }
    };

    // 1. A case end to end: the hospital's record, the family's form, every step,
    //    the PDFs and the archive.
    let hospital = claims(
        "officer-hospital",
        "dept_officer",
        Some("hospital"),
        domain::case::Scope {
            region: Some("33".into()),
            hospital: Some("H330106001".into()),
            ..Default::default()
        },
    );
    // While it runs, the notify queue is gone: the relay parks every notification whole
    // in the queue's DLQ and goes on with the rest (the steps, the renderings).
    stack
        .fault(json!({"lost_queue": "onething-notify-test"}))
        .await;
    let (s, b) = call(
        &api,
        "POST",
        "/v1/births",
        &hospital,
        Some(&testkit::family::birth_record(&form_a())),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let family_a = claims(FATHER_A, "guardian", None, Default::default());
    let (s, b) = call(&api, "POST", "/v1/applications", &family_a, Some(&form_a())).await;
    assert_eq!(s, 202, "{b}");
    let a = b["case_id"].as_str().unwrap().to_string();
    pump.run_until("case A completed", async || {
        status(a.clone()).await == domain::CaseStatus::Completed
    })
    .await;
    // The archive waits for the notifications. The SLA monitor, under its own role,
    // finds the case stopped and sends the lost notifications again (its clock moved on
    // past the wait it allows; nothing else of its wiring differs from its main).
    stack.fault(json!({})).await;
    let mut monitor = sla_monitor::compose(stack.lookup("SlaMonitorFunction")).unwrap();
    monitor.clock = Arc::new(Later(chrono::Duration::minutes(10)));
    let tick = sla_monitor::tick(&monitor).await.unwrap();
    assert!(tick.redriven >= 1 && tick.failed == 0, "{tick:?}");
    // The operator also replays the parked copies (duplicates are harmless).
    let admin = aws::Aws::new(
        &stack.m.sdk_config().await,
        &aws::Resources::from_outputs(&stack.outputs).unwrap(),
        5,
    );
    let parked = ports::DeadLetterAdmin::dead_letters(admin.core.queues.as_ref(), "notify")
        .await
        .unwrap();
    assert!(
        parked.len() >= 3,
        "every notification parked whole: {parked:?}"
    );
    assert!(parked.iter().all(|d| d.body.contains(&a)), "{parked:?}");
    let moved = ports::DeadLetterAdmin::redrive(admin.core.queues.as_ref(), "notify", None)
        .await
        .unwrap();
    assert!(moved >= parked.len(), "{moved} of {}", parked.len());
    pump.run_until("case A archived", async || {
        let c = store.get(&a).await.unwrap().unwrap();
        c.archive().is_some() && api.app.notifier.sent(&a).await.unwrap().len() == 6
    })
    .await;
    let c = store.get(&a).await.unwrap().unwrap();
    assert_eq!(c.certificates().len(), 6);
    for cert in c.certificates() {
        let v = application::certs::verify(&api.app, &cert.claims.cert_id, Some(&cert.token))
            .await
            .unwrap();
        assert_eq!(v["valid"], true, "{v}");
    }
    let (s, b) = call(
        &api,
        "GET",
        &format!("/v1/cases/{a}/certificates"),
        &family_a,
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");

    // 2. A family without a marriage record: incomplete, an upload, a resubmission;
    //    the hospital confirms the birth (no delivery record), the police open the
    //    uploaded certificate and return the case; the family resubmits after
    //    acceptance; the police reject.
    let form_c = with_parents(form_a(), Some(("张伟", FATHER_C)), ("刘芳", MOTHER_C));
    let family_c = claims(FATHER_C, "guardian", None, Default::default());
    let (s, b) = call(&api, "POST", "/v1/applications", &family_c, Some(&form_c)).await;
    assert_eq!(s, 202, "{b}");
    let c_id = b["case_id"].as_str().unwrap().to_string();
    // No marriage record binds him to her: the mother confirms in her own account (the
    // API's commit takes the newborn's claim, under the API's role).
    assert_eq!(b["status"], "awaiting_confirmation", "{b}");
    let mother_c = claims(MOTHER_C, "guardian", None, Default::default());
    let (s, b) = call(
        &api,
        "POST",
        &format!("/v1/cases/{c_id}/confirm-parent"),
        &mother_c,
        Some(&json!({})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    pump.run_until("case C incomplete", async || {
        status(c_id.clone()).await == domain::CaseStatus::Incomplete
    })
    .await;
    let bytes = testkit::family::pdf_bytes();
    let (s, b) = call(
        &api,
        "POST",
        &format!("/v1/cases/{c_id}/materials"),
        &family_c,
        Some(&json!({
            "kind": "marriage_certificate",
            "content_type": "application/pdf",
            "size": bytes.len(),
        })),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let material = b["material_id"].as_str().unwrap().to_string();
    let put = testkit::http::Http::default()
        .call(
            "PUT",
            b["upload_url"].as_str().unwrap(),
            None,
            &[("content-type", "application/pdf")],
            Bytes::from(bytes.clone()),
        )
        .await;
    assert_eq!(
        put.status, 200,
        "the presigned upload, signed with the API's role: {:?}",
        put.body
    );
    let (s, b) = call(
        &api,
        "POST",
        &format!("/v1/cases/{c_id}/resubmit"),
        &family_c,
        Some(&json!({"corrections": {}, "materials": [material]})),
    )
    .await;
    assert_eq!(s, 202, "{b}");
    let task = |dept: &'static str, scope: domain::case::Scope| {
        let api = &api;
        let c_id = c_id.clone();
        async move {
            let officer = claims(
                &format!("officer-{dept}"),
                "dept_officer",
                Some(dept),
                scope,
            );
            let (s, b) = call(
                api,
                "GET",
                "/v1/tasks?status=open&limit=100",
                &officer,
                None,
            )
            .await;
            assert_eq!(s, 200, "{b}");
            let t = b["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["case_id"] == c_id.as_str())
                .cloned();
            (officer, t)
        }
    };
    let hospital_scope = || domain::case::Scope {
        region: Some("33".into()),
        hospital: Some("H330106001".into()),
        ..Default::default()
    };
    let mut hospital_task = None;
    pump.run_until("the hospital's task", async || {
        hospital_task = task("hospital", hospital_scope()).await.1;
        hospital_task.is_some()
    })
    .await;
    let t = hospital_task.unwrap();
    let (officer, _) = task("hospital", hospital_scope()).await;
    let (s, b) = decide(&api, &officer, &t, "approve", &[]).await;
    assert_eq!(s, 200, "{b}");
    let police_region = || region("3303");
    let mut police_task = None;
    pump.run_until("the police's task", async || {
        police_task = task("police", police_region()).await.1;
        police_task.is_some()
    })
    .await;
    let t = police_task.take().unwrap();
    let (police, _) = task("police", police_region()).await;
    // The officer opens the uploaded certificate: a grant, then the bytes through S3.
    let (s, b) = call(
        &api,
        "GET",
        &format!("/v1/cases/{c_id}/materials/{material}"),
        &police,
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, _, got) = testkit::http::Http::default()
        .bytes(b["download_url"].as_str().unwrap(), None)
        .await;
    assert_eq!((s, got), (200, bytes.clone()), "the presigned download");
    let (s, b) = decide(
        &api,
        &police,
        &t,
        "return",
        &["结婚证照片不清晰，请重新上传"],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    pump.run_until("case C returned", async || {
        status(c_id.clone()).await == domain::CaseStatus::Returned
    })
    .await;
    let (s, b) = call(
        &api,
        "POST",
        &format!("/v1/cases/{c_id}/resubmit"),
        &family_c,
        Some(&json!({
            "corrections": {"applicant": {"phone": "13900000001"}},
            "materials": [material],
        })),
    )
    .await;
    assert_eq!(s, 202, "a resubmission after acceptance: {b}");
    pump.run_until("the police's second task", async || {
        police_task = task("police", police_region()).await.1;
        police_task
            .as_ref()
            .is_some_and(|x| x["task_id"] != t["task_id"])
    })
    .await;
    let t = police_task.take().unwrap();
    // The archive's deliveries are held back, to come three at once below.
    pump.paused.push("archive");
    let (s, b) = decide(&api, &police, &t, "reject", &["结婚证与婚姻登记信息不符"]).await;
    assert_eq!(s, 200, "an officer's rejection: {b}");
    pump.run_until("case C rejected, its notifications delivered", async || {
        let c = store.get(&c_id).await.unwrap().unwrap();
        c.status() == domain::CaseStatus::Rejected
            && api.app.notifier.sent(&c_id).await.unwrap().len() as u32 == c.notice_seq()
    })
    .await;
    // Three deliveries of its archive message at once (SQS delivers at least once; each
    // would retry after a crash): under Object Lock every write is a version kept for
    // years, so the archive must leave exactly one version of each object.
    let archive_app = pump.apps["archive"].clone();
    let deliver = || {
        archive::handle(
            archive_app.clone(),
            application::message::Envelope::Archive {
                case_id: c_id.clone(),
            },
        )
    };
    let (x, y, z) = tokio::join!(deliver(), deliver(), deliver());
    for r in [x, y, z] {
        assert!(r.is_ok(), "{r:?}");
    }
    let archived = store.get(&c_id).await.unwrap().unwrap();
    let location = archived
        .archive()
        .as_ref()
        .expect("archived")
        .location
        .clone();
    let prefix = location.split_once("/archives/").unwrap().1;
    let versions = object_versions(
        &stack.m.endpoint,
        &stack.outputs["ArchiveBucket"],
        &format!("archives/{prefix}"),
    )
    .await;
    assert!(
        versions.len() >= 2,
        "the archive object and the copied marriage certificate: {versions:?}"
    );
    assert!(
        versions.values().all(|n| *n == 1),
        "one version of each object: {versions:?}"
    );
    pump.paused.clear();

    // 3. A correction after completion of case A: the API gathers records again, and
    //    each department whose result depends on the change reviews and reissues.
    let (s, b) = call(
        &api,
        "POST",
        &format!("/v1/cases/{a}/corrections"),
        &family_a,
        Some(&json!({
            "corrections": {"newborn": {"name": "王小雨"}},
            "reason": "姓名填写错误",
            "materials": [],
        })),
    )
    .await;
    assert_eq!(s, 202, "a correction after completion: {b}");
    let a_id = a.clone();
    pump.run_until("case A's correction reviewed and reissued", async || {
        // Every open task of the case, whichever department, approved by its officer.
        for (dept, scope) in [
            ("hospital", hospital_scope()),
            ("police", region("33")),
            ("medical_insurance", region("33")),
            ("hrss", region("33")),
            ("service_center", region("33")),
        ] {
            let officer = claims(
                &format!("officer-{dept}"),
                "dept_officer",
                Some(dept),
                scope,
            );
            let (_, b) = call(
                &api,
                "GET",
                "/v1/tasks?status=open&limit=100",
                &officer,
                None,
            )
            .await;
            for t in b["tasks"].as_array().into_iter().flatten() {
                if t["case_id"] == a_id.as_str() {
                    let (s, b) = decide(&api, &officer, t, "approve", &[]).await;
                    assert!(s == 200 || s == 409, "{s} {b}");
                }
            }
        }
        let (_, c) = call(&api, "GET", &format!("/v1/cases/{a_id}"), &family_a, None).await;
        c["corrections"][0]["status"] == "completed"
    })
    .await;

    // A missing object is "none" (S3's 404), not a refusal (403), for every function
    // that reads a bucket: each probes before it renders, waits or lists.
    let readers: [(&str, &App, &[&str]); 3] = [
        (
            "api",
            &api.app,
            &["materials/none", "certificates/none.pdf"],
        ),
        (
            "archive",
            &pump.apps["archive"],
            &[
                "materials/none",
                "certificates/none.pdf",
                "archives/none/archive.json",
            ],
        ),
        ("render", &pump.apps["render"], &["certificates/none.pdf"]),
    ];
    for (function, app, keys) in readers {
        for key in keys {
            let got = app.blobs.get(key).await;
            assert!(matches!(got, Ok(None)), "{function} reading {key}: {got:?}");
        }
    }

    // What the Lambda service does with each role: write the function's logs, read its
    // event source.
    for (k, v) in &stack.outputs {
        let Some(function) = k.strip_prefix("Service:") else {
            continue;
        };
        let role = stack.creds(function)["RoleArn"].clone();
        for req in serde_json::from_str::<Vec<Value>>(v).unwrap() {
            let r = stack
                .iam(
                    "POST",
                    Some(
                        json!({"role": role, "action": req["action"], "resource": req["resource"]}),
                    ),
                )
                .await;
            assert_eq!(
                r["allowed"], true,
                "the Lambda service may not {} on {} for {function}",
                req["action"], req["resource"]
            );
        }
    }

    let refused = stack.refusals().await;
    assert!(
        refused.is_empty(),
        "requests AWS would refuse:\n{}",
        refused.join("\n")
    );

    // Every statement of every function's role was the only one to allow some request.
    let log = stack.iam("GET", None).await;
    let mut needed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in log["log"].as_array().unwrap() {
        let allows = e["statements"].as_array().unwrap();
        if allows.len() == 1 {
            needed
                .entry(e["role"].as_str().unwrap().to_string())
                .or_default()
                .insert(allows[0].as_str().unwrap().to_string());
        }
    }
    let mut surplus = vec![];
    for (role, policies) in log["roles"].as_object().unwrap() {
        for p in policies.as_array().unwrap() {
            for ((st, grants), effect) in p["statements"]
                .as_array()
                .unwrap()
                .iter()
                .zip(p["resources"].as_array().unwrap())
                .zip(p["effects"].as_array().unwrap())
            {
                if effect == "Deny" {
                    continue; // refuses; proven by its own test below
                }
                // A statement that grants nothing on this stack (its resource is the
                // template's placeholder where a feature is off, e.g. no edge).
                if grants
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r.as_str().unwrap().ends_with(":secret:onething-none"))
                {
                    continue;
                }
                let id = format!("{}#{}", p["name"].as_str().unwrap(), st.as_str().unwrap());
                if !needed.get(role).is_some_and(|n| n.contains(&id)) {
                    surplus.push(format!("{} {id}", role.rsplit('/').next().unwrap()));
                }
            }
        }
    }
    assert!(
        surplus.is_empty(),
        "statements no request needed (surplus, or a flow is missing):\n{}",
        surplus.join("\n")
    );
}

/// A rogue or compromised function cannot write what only the API writes: a birth record
/// (a hospital's filing, a legal fact), an idempotency key or a kept answer. Each role
/// other than the API's is refused those writes by an explicit deny, evaluated with its
/// conditions; the API may; every role with the table still writes a case's items.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_api_writes_birth_records_idempotency_keys_and_kept_answers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let m = moto::Moto::start(&root);
    let outputs = m.deploy("deny");
    let stack = Stack { m, outputs };
    let table = format!(
        "arn:aws:dynamodb:us-east-1:123456789012:table/{}",
        stack.outputs["TableName"]
    );
    let mut functions: Vec<&str> = stack
        .outputs
        .keys()
        .filter_map(|k| k.strip_prefix("Creds:"))
        .collect();
    functions.sort();
    assert!(functions.len() >= 10, "{functions:?}");
    let mut checked = 0;
    for function in functions {
        if function == "RelayFunction" {
            continue; // no table writes at all (its role has only the stream)
        }
        let role = stack.creds(function)["RoleArn"].clone();
        let may = |action: &str, key: &str| {
            json!({"role": role, "action": action, "resource": table,
                   "context": {"dynamodb:LeadingKeys": [key], "aws:SecureTransport": "true"}})
        };
        let allowed = |r: Value| r["allowed"] == true;
        assert!(
            allowed(
                stack
                    .iam("POST", Some(may("dynamodb:UpdateItem", "CASE#BC1")))
                    .await
            ),
            "{function} writes a case"
        );
        for action in [
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ] {
            for key in ["BIRTH#b1", "IDEM#apply#k1", "RESP#apply#k1"] {
                assert_eq!(
                    allowed(stack.iam("POST", Some(may(action, key))).await),
                    function == "ApiFunction",
                    "{function} {action} {key}"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 9);
}

/// The system clock, moved on by a fixed span.
struct Later(chrono::Duration);

impl ports::Clock for Later {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + self.0
    }
}

/// Each key under `prefix` in `bucket` with its number of versions (S3's
/// ListObjectVersions, asked of the emulator directly).
async fn object_versions(endpoint: &str, bucket: &str, prefix: &str) -> BTreeMap<String, usize> {
    let r = testkit::http::Http::default()
        .bytes(
            &format!("{endpoint}/{bucket}?versions&prefix={prefix}"),
            None,
        )
        .await;
    assert_eq!(r.0, 200);
    let xml = String::from_utf8(r.2).unwrap();
    let mut out = BTreeMap::new();
    for version in xml.split("<Version>").skip(1) {
        let key = version
            .split("<Key>")
            .nth(1)
            .and_then(|k| k.split("</Key>").next())
            .unwrap()
            .to_string();
        *out.entry(key).or_default() += 1;
    }
    out
}

#[test]
fn a_function_that_gathers_records_refuses_to_start_without_a_platform_or_the_fixture_chosen() {
    let env = |fixture: &'static str| {
        move |k: &str| -> Option<String> {
            match k {
                "AWS_REGION" => Some("us-east-1".into()),
                "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("x".into()),
                "DATA_SHARING_URL" => Some(String::new()),
                "DATA_SHARING_FIXTURE" => Some(fixture.into()),
                _ => None,
            }
        }
    };
    // An empty URL is not a choice of the fixture: the function does not start.
    let e = accept::compose(env("false")).err().expect("refused");
    assert!(e.to_string().contains("DATA_SHARING_URL"), "{e}");
    assert!(api::Api::compose(env("")).is_err());
    // Chosen by the stack (UseFixture=true): the built-in sample people.
    assert!(accept::compose(env("true")).is_ok());
}
