//! Personal data never reaches the logs: run the main flows against the real binary with
//! logging at its most verbose and scan every line for the ID numbers, names and phone
//! numbers of the test families.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::process::Stdio;
use std::time::Duration;
use testkit::family;
use testkit::serve::Serve;

const FATHER: &str = family::FATHER_A;
const MOTHER: &str = family::MOTHER_A;
const FATHER_E: &str = "330102199102020172";
const MOTHER_E: &str = "330102199303030246";
const SECRET: &str = "pii-secret-0123456789abcdef0123456789ab";

/// The form with these parents, the father applying (with a phone the scan looks for).
fn form(father: (&str, &str), mother: (&str, &str)) -> Value {
    let mut f = family::with_parents(family::form_a(), Some(father), mother);
    f["applicant"]["phone"] = json!("13812345678");
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_personal_data_in_logs_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let server = Serve::start_with(
        std::path::Path::new(env!("CARGO_BIN_EXE_onething")),
        &dir.path().join("data"),
        &["--manual", "police"],
        [
            ("ONETHING_JWT_SECRET", SECRET),
            ("RUST_LOG", "trace"),
            ("ONETHING_LOG_FORMAT", "json"),
        ],
        Stdio::from(log),
    );
    let base = server.base.clone();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let tok = |sub: &str, role: &str, dept: Option<&str>| {
        testkit::tokens::sign(SECRET.as_bytes(), role, dept, sub)
    };
    let call = |method: &str, path: String, token: String, body: Value, key: Option<&str>| {
        let mut b = http::Request::builder()
            .method(method)
            .uri(format!("{base}{path}"))
            .header("authorization", format!("Bearer {token}"));
        b = b.header("content-type", "application/json");
        if let Some(k) = key {
            b = b.header("idempotency-key", k);
        }
        let req = b
            .body(Full::new(Bytes::from(if body.is_null() {
                String::new()
            } else {
                body.to_string()
            })))
            .unwrap();
        let client = client.clone();
        async move {
            let r = client.request(req).await.unwrap();
            let s = r.status().as_u16();
            let v: Value =
                serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes())
                    .unwrap_or(Value::Null);
            (s, v)
        }
    };
    let g = tok(FATHER, "guardian", None);
    // The hospital's system records the birth (its record carries the mother's number).
    let (s, _) = call(
        "POST",
        "/v1/births".into(),
        testkit::tokens::hospital_system(SECRET.as_bytes(), "H330106001"),
        family::birth_record(&form(("王海", FATHER), ("李梅", MOTHER))),
        None,
    )
    .await;
    assert_eq!(s, 201);
    // A case that waits for the police, is decided, completes; a case that is incomplete;
    // an invalid form; a stranger's look at a case.
    let (s, v) = call(
        "POST",
        "/v1/applications".into(),
        g.clone(),
        form(("王海", FATHER), ("李梅", MOTHER)),
        Some("a"),
    )
    .await;
    assert_eq!(s, 202);
    let id = v["case_id"].as_str().unwrap().to_string();
    let police = tok("officer-9", "dept_officer", Some("police"));
    let mut task = Value::Null;
    for _ in 0..200 {
        let (_, t) = call("GET", "/v1/tasks".into(), police.clone(), Value::Null, None).await;
        if let Some(x) = t["tasks"].as_array().and_then(|a| a.first().cloned()) {
            task = x;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (s, _) = call(
        "POST",
        format!("/v1/tasks/{}/decision", task["task_id"].as_str().unwrap()),
        police.clone(),
        json!({"decision": "approve", "version": task["version"]}),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let ge = tok(FATHER_E, "guardian", None);
    let (s, _) = call(
        "POST",
        "/v1/applications".into(),
        ge.clone(),
        form(("钱进", FATHER_E), ("郑兰", MOTHER_E)),
        Some("b"),
    )
    .await;
    assert_eq!(s, 202);
    let mut bad = form(("王海", FATHER), ("李梅", "330106199203040224"));
    bad["applicant"]["phone"] = json!("1381234567x");
    let (s, body) = call("POST", "/v1/applications".into(), g.clone(), bad, Some("c")).await;
    assert_eq!(s, 400);
    assert!(
        !body.to_string().contains("330106199203040224"),
        "errors do not echo ID numbers"
    );
    let (s, _) = call(
        "GET",
        format!("/v1/cases/{id}"),
        ge.clone(),
        Value::Null,
        None,
    )
    .await;
    assert_eq!(s, 404);
    for _ in 0..200 {
        let (_, c) = call(
            "GET",
            format!("/v1/cases/{id}"),
            g.clone(),
            Value::Null,
            None,
        )
        .await;
        if c["status"] == "completed" && !c["archive"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(server);

    let text = std::fs::read_to_string(&log_path).unwrap();
    // The log records what happened (requests, steps, notifications) ...
    for expected in [
        "\"request\"",
        "step handled",
        "guardian notified",
        "task decided",
        "case archived",
    ] {
        assert!(text.contains(expected), "the log has {expected}");
    }
    for pii in [
        FATHER,
        MOTHER,
        FATHER_E,
        MOTHER_E,
        "330106199203040224",
        "13812345678",
        "王海",
        "李梅",
        "王小溪",
        "钱进",
        "郑兰",
        "文三路",
    ] {
        assert!(!text.contains(pii), "the log contains {pii}");
    }
}
