//! `kill -9` the real `onething serve` binary while it is taking applications, restart it
//! on the same data directory, and check that every accepted application completes
//! exactly once with its own numbers.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;
use testkit::family;
use testkit::serve::Serve;

const SECRET: &str = "kill9-test-secret-0123456789abcdef012345";

fn start(dir: &std::path::Path) -> Serve {
    // One guardian submits every application: the per-guardian limits are raised.
    let settings = dir.join("settings.json");
    std::fs::write(&settings, family::LOAD_SETTINGS).unwrap();
    Serve::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_onething")),
        &dir.join("data"),
        &["--settings", settings.to_str().unwrap()],
        [("ONETHING_JWT_SECRET", SECRET)],
    )
}

/// A newborn of its own for each of the 240 applications.
fn form(i: usize) -> Value {
    family::form_a_nth(i, 27)
}

fn token() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_onething"))
        .args(["token", "--role", "guardian", "--sub", family::FATHER_A])
        .env("ONETHING_JWT_SECRET", SECRET)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_minus_nine_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let tok = token();
    let mut accepted: Vec<(String, Value)> = vec![];
    let mut key = 0usize;
    {
        // The hospital's system records every birth first.
        let server = start(dir.path());
        let http = testkit::http::Http::default();
        for k in 1..=240 {
            http.record_birth(&server.base, SECRET.as_bytes(), &form(k))
                .await;
        }
    }
    for round in 0..4 {
        let mut server = start(dir.path());
        let base = server.base.clone();
        // Fire a burst; kill the server in the middle of it (soon after the first
        // acknowledgement, however loaded the machine is).
        let mut tasks = vec![];
        let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for _ in 0..60 {
            key += 1;
            let (client, base, tok, k, acked) = (
                client.clone(),
                base.clone(),
                tok.clone(),
                key,
                acked.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let body = form(k);
                let req = http::Request::post(format!("{base}/v1/applications"))
                    .header("authorization", format!("Bearer {tok}"))
                    .header("content-type", "application/json")
                    .header("idempotency-key", format!("kill9-{k}"))
                    .body(Full::new(Bytes::from(body.to_string())))
                    .unwrap();
                let r = client.request(req).await.ok()?;
                if r.status() != 202 {
                    return None;
                }
                let v: Value =
                    serde_json::from_slice(&r.into_body().collect().await.ok()?.to_bytes()).ok()?;
                acked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Some((v["case_id"].as_str()?.to_string(), body))
            }));
        }
        let t0 = std::time::Instant::now();
        while acked.load(std::sync::atomic::Ordering::Relaxed) == 0
            && t0.elapsed() < Duration::from_secs(10)
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(2 + 4 * round)).await;
        server.kill(); // SIGKILL
        for t in tasks {
            if let Some(x) = t.await.unwrap() {
                accepted.push(x);
            }
        }
    }
    let lost_in_flight = key - accepted.len();
    eprintln!(
        "{} of {key} applications acknowledged across 4 kills ({lost_in_flight} cut off unacknowledged)",
        accepted.len(),
    );
    assert!(
        !accepted.is_empty(),
        "some applications were acknowledged before the kills"
    );
    // Restart once more and let everything finish.
    let server = start(dir.path());
    let base = server.base.clone();
    let mut ids = std::collections::HashSet::new();
    let mut bmcs = std::collections::HashSet::new();
    for (case_id, _) in &accepted {
        let mut done = None;
        for _ in 0..500 {
            let req = http::Request::get(format!("{base}/v1/cases/{case_id}"))
                .header("authorization", format!("Bearer {tok}"))
                .body(Full::new(Bytes::new()))
                .unwrap();
            let r = client.request(req).await.unwrap();
            assert_eq!(r.status(), 200, "an acknowledged case survives");
            let v: Value =
                serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
            if v["status"] == "completed" && !v["archive"].is_null() {
                done = Some(v);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let v = done.unwrap_or_else(|| panic!("{case_id} did not complete after the restart"));
        assert!(
            ids.insert(
                v["results"]["newborn_id_number"]
                    .as_str()
                    .unwrap()
                    .to_string()
            ),
            "duplicate newborn ID"
        );
        assert!(
            bmcs.insert(
                v["results"]["birth_certificate_number"]
                    .as_str()
                    .unwrap()
                    .to_string()
            ),
            "duplicate certificate"
        );
        let done_steps = v["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "step_done")
            .count();
        assert_eq!(done_steps, 5, "each step done exactly once");
    }
}
