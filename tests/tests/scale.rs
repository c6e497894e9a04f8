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

/// Submit `n` cases and wait until the county's queue in `store` holds them all.
async fn seed(app: &TestApp, store: &dyn ports::CaseStore, n: usize) {
    let g = app.guardian(FATHER_A);
    let days = n / 9 + 1;
    for i in 0..n {
        let form = testkit::family::form_a_nth(i, days);
        let r = app.submit(&g, &format!("scale-{i}"), &form).await;
        assert_eq!(r.status, 202, "{:?}", r.body);
    }
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

/// One timed request and the store requests it made (when counted).
struct Measured {
    took: Duration,
    requests: Vec<(&'static str, u64)>,
}

impl Measured {
    fn count(&self, op: &str) -> u64 {
        self.requests
            .iter()
            .find(|(k, _)| *k == op)
            .map_or(0, |(_, n)| *n)
    }
    fn requests(&self) -> String {
        let r: Vec<String> = self
            .requests
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        r.join(", ")
    }
}

/// Time the county's first queue page and the month's report, counting the requests
/// `usage` sees (DynamoDB) if given.
async fn measure(app: &TestApp, n: usize, usage: Option<&aws::Usage>) -> (Measured, Measured) {
    let timed = |path: String, token: String| async move {
        let before = usage.map(|u| u.snapshot()).unwrap_or_default();
        let started = Instant::now();
        let r = app.get(&path, &token).await;
        let took = started.elapsed();
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        let after = usage.map(|u| u.snapshot()).unwrap_or_default();
        let requests = after
            .iter()
            .zip(&before)
            .filter(|((k, a), (_, b))| a != b && !k.starts_with("sqs."))
            .map(|((k, a), (_, b))| (*k, a - b))
            .collect();
        (r, Measured { took, requests })
    };
    let county = app.scoped(
        "dept_officer",
        Some("police"),
        "p-xh",
        (Some("330106"), None, None),
    );
    let (r, tasks) = timed("/v1/tasks?limit=100".into(), county).await;
    assert_eq!(r.body["tasks"].as_array().unwrap().len(), n.min(100));
    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    let from = today - chrono::Duration::days(30);
    let path = format!("/v1/supervision/report?from={from}&to={today}");
    let (r, report) = timed(path, app.supervisor()).await;
    assert_eq!(r.body["cases"]["total"], n);
    (tasks, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_countys_queue_and_a_months_report_on_the_embedded_store() {
    let n = size("ONETHING_SCALE_CASES", 300);
    let app = TestApp::start_loaded(&["police"]).await;
    let started = Instant::now();
    seed(&app, app.running.as_ref().unwrap().app.store.as_ref(), n).await;
    eprintln!("embedded: {n} cases seeded in {:?}", started.elapsed());
    let (tasks, report) = measure(&app, n, None).await;
    eprintln!(
        "embedded, {n} cases: GET /v1/tasks (county, first 100 of {n}) {:?}; \
         GET /v1/supervision/report (a month) {:?}; one SQLite query each",
        tasks.took, report.took
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
    seed(&t, running.app.store.as_ref(), n).await;
    eprintln!(
        "dynamodb (moto): {n} cases seeded in {:?}",
        started.elapsed()
    );
    let (tasks, report) = measure(&t, n, Some(&a.usage)).await;
    running.abort();
    eprintln!(
        "dynamodb (moto), {n} cases: GET /v1/tasks (county) {:?} [{}]; \
         GET /v1/supervision/report (a month) {:?} [{}]",
        tasks.took,
        tasks.requests(),
        report.took,
        report.requests()
    );
    // The queue is answered from the index: queries only, no case read.
    assert_eq!(tasks.count("dynamodb.GetItem"), 0, "{}", tasks.requests());
    assert!(tasks.count("dynamodb.Query") >= 1);
}
