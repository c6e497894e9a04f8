//! Lists at scale: how many store requests and how long a county officer's task queue
//! and a month's supervision report take, with many cases in the store, on both backends.
//! CI runs a small size; `ONETHING_SCALE_CASES=N` (embedded) and
//! `ONETHING_SCALE_MOTO_CASES=N` (DynamoDB on moto) run bigger ones. Every case waits at
//! the Xihu police (manual review), so the county's queue holds all of them.

use crate::helpers::*;
use crate::moto;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Submit `n` cases and wait until the county's queue holds them all.
async fn seed(app: &TestApp, n: usize) {
    let g = app.guardian(FATHER_A);
    let days = n / 9 + 1;
    for i in 0..n {
        let form = testkit::family::form_a_nth(i, days);
        let r = app.submit(&g, &format!("scale-{i}"), &form).await;
        assert_eq!(r.status, 202, "{:?}", r.body);
    }
    let store = &app.running.as_ref().unwrap().app.store;
    for _ in 0..6000 {
        let open = store
            .open_tasks(domain::Dept::Police, Some("330106"))
            .await
            .unwrap()
            .len();
        if open == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the queue never held {n} tasks");
}

/// Time the county's first queue page and the month's report.
async fn measure(app: &TestApp, n: usize) -> (Duration, Duration) {
    let county = app.scoped(
        "dept_officer",
        Some("police"),
        "p-xh",
        (Some("330106"), None, None),
    );
    let started = Instant::now();
    let r = app.get("/v1/tasks?limit=100", &county).await;
    let tasks = started.elapsed();
    assert_eq!(r.status, 200);
    assert_eq!(r.body["tasks"].as_array().unwrap().len(), n.min(100));
    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    let from = today - chrono::Duration::days(30);
    let started = Instant::now();
    let r = app
        .get(
            &format!("/v1/supervision/report?from={from}&to={today}"),
            &app.supervisor(),
        )
        .await;
    let report = started.elapsed();
    assert_eq!(r.status, 200);
    assert_eq!(r.body["cases"]["total"], n);
    (tasks, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_countys_queue_and_a_months_report_on_the_embedded_store() {
    let n = size("ONETHING_SCALE_CASES", 300);
    let app = TestApp::start_loaded(&["police"]).await;
    let started = Instant::now();
    seed(&app, n).await;
    eprintln!("embedded: {n} cases seeded in {:?}", started.elapsed());
    let (tasks, report) = measure(&app, n).await;
    eprintln!(
        "embedded, {n} cases: GET /v1/tasks (county, first 100 of {n}) {tasks:?}; \
         GET /v1/supervision/report (a month) {report:?}; one SQLite query each"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_countys_queue_and_a_months_report_on_dynamodb() {
    let n = size("ONETHING_SCALE_MOTO_CASES", 20);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let m = moto::Moto::start(&root);
    let outputs = m.deploy("scale");
    let a = aws::Aws::new(
        &m.sdk_config().await,
        &aws::Resources::from_outputs(&outputs).unwrap(),
        5,
    );
    let sharing =
        Arc::new(application::FixtureSharing::from_json(application::sample_registry()).unwrap());
    let settings: domain::Settings = serde_json::from_str(testkit::family::LOAD_SETTINGS).unwrap();
    let cal = domain::Calendar::builtin(settings.unknown_year_policy);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = onething::Config::new("127.0.0.1:0".parse().unwrap(), dir.path().to_path_buf());
    cfg.manual = [domain::Dept::Police].into();
    cfg.sla_interval = Duration::from_secs(3600);
    let app = onething::aws_app(&a, sharing, cal, settings, &cfg);
    let secret = b"scale-secret-0123456789abcdef012345".to_vec();
    let running = onething::start_app(cfg, app, a.queues.clone(), secret.clone())
        .await
        .unwrap();
    let t = TestApp::attach(&running, secret);
    let started = Instant::now();
    seed_attached(&t, &running, n).await;
    eprintln!(
        "dynamodb (moto): {n} cases seeded in {:?}",
        started.elapsed()
    );
    let before = a.usage.snapshot();
    let county = t.scoped(
        "dept_officer",
        Some("police"),
        "p-xh",
        (Some("330106"), None, None),
    );
    let started = Instant::now();
    let r = t.get("/v1/tasks?limit=100", &county).await;
    let tasks = started.elapsed();
    assert_eq!(r.body["tasks"].as_array().unwrap().len(), n.min(100));
    let mid = a.usage.snapshot();
    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    let from = today - chrono::Duration::days(30);
    let started = Instant::now();
    let r = t
        .get(
            &format!("/v1/supervision/report?from={from}&to={today}"),
            &t.supervisor(),
        )
        .await;
    let report = started.elapsed();
    assert_eq!(r.body["cases"]["total"], n);
    let after = a.usage.snapshot();
    running.abort();
    let diff = |x: &[(&str, u64)], y: &[(&str, u64)]| -> String {
        x.iter()
            .zip(y)
            .filter(|((_, a), (_, b))| a != b)
            .map(|((k, a), (_, b))| format!("{k} {}", a - b))
            .collect::<Vec<_>>()
            .join(", ")
    };
    eprintln!(
        "dynamodb (moto), {n} cases: GET /v1/tasks (county) {tasks:?} [{}]; \
         GET /v1/supervision/report (a month) {report:?} [{}]",
        diff(&mid, &before),
        diff(&after, &mid)
    );
    // The queue is answered from the index: queries only, no case read.
    let gets = mid
        .iter()
        .zip(&before)
        .find(|((k, _), _)| *k == "dynamodb.GetItem")
        .map(|((_, a), (_, b))| a - b)
        .unwrap_or(0);
    assert!(gets <= 2, "the queue read {gets} items one by one");
}

async fn seed_attached(t: &TestApp, running: &onething::Running, n: usize) {
    let g = t.guardian(FATHER_A);
    let days = n / 9 + 1;
    for i in 0..n {
        let r = t
            .submit(
                &g,
                &format!("scale-{i}"),
                &testkit::family::form_a_nth(i, days),
            )
            .await;
        assert_eq!(r.status, 202, "{:?}", r.body);
    }
    for _ in 0..3000 {
        let open = running
            .app
            .store
            .open_tasks(domain::Dept::Police, Some("330106"))
            .await
            .unwrap()
            .len();
        if open == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the queue never held {n} tasks");
}
