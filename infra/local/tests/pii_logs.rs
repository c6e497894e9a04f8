//! Personal data never reaches the logs: run the main flows against the real binary with
//! logging at its most verbose and scan every line for the ID numbers, names and phone
//! numbers of the test families.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Duration;

const FATHER: &str = "330106199001010130";
const MOTHER: &str = "330106199203040223";
const FATHER_E: &str = "330102199102020172";
const MOTHER_E: &str = "330102199303030246";
const SECRET: &str = "pii-secret";

fn form(father: (&str, &str), mother: (&str, &str)) -> Value {
    let birth = (chrono::Utc::now() - chrono::Duration::days(2))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%dT08:30:00+08:00")
        .to_string();
    json!({
        "channel": "zlb_app",
        "newborn": {"name": "王小溪", "sex": "female", "birth_time": birth, "hospital_code": "H330106001",
                    "weight_g": 3250, "length_cm": 50, "gestational_weeks": 39, "ethnicity": "汉族"},
        "mother": {"name": mother.0, "id_number": mother.1},
        "father": {"name": father.0, "id_number": father.1},
        "household": {"register_with": "father"},
        "insurance": {"enrol_newborn": true, "maternity_benefit": true},
        "social_security_card": {"apply": true},
        "delivery": {"method": "mail", "address": "杭州市西湖区文三路 1 号", "pickup_site": null},
        "applicant": {"name": father.0, "id_number": father.1, "relation": "father", "phone": "13812345678"}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_personal_data_in_logs_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_onething"))
        .args(["serve", "--addr", "127.0.0.1:0", "--manual", "police"])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("ONETHING_JWT_SECRET", SECRET)
        .env("RUST_LOG", "trace")
        .env("ONETHING_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_string();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let tok = |sub: &str, role: &str, dept: Option<&str>| {
        api::auth::sign(
            SECRET.as_bytes(),
            &api::auth::Claims {
                sub: sub.into(),
                role: role.into(),
                dept: dept.map(String::from),
                exp: chrono::Utc::now().timestamp() + 600,
                iat: None,
                iss: None,
                aud: None,
            },
        )
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
    child.kill().unwrap();
    child.wait().unwrap();

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
