//! Lists at scale: how many store requests and how long a county officer's task queue
//! and a month's supervision report take, with many cases in the store, on both backends.
//! CI runs a small size; `ONETHING_SCALE_CASES=N` (embedded) and
//! `ONETHING_SCALE_MOTO_CASES=N` (DynamoDB on moto) run bigger ones, of which
//! `ONETHING_SCALE_OPEN` (default a tenth) wait at the Xihu police (manual review) and the
//! rest are completed.

use crate::helpers::*;
use crate::moto;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A clock some minutes ahead.
struct MinutesOn(i64);
impl ports::Clock for MinutesOn {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::minutes(self.0)
    }
}

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Fill `store` with `total` cases of which `open` wait at the Xihu police: two cases go
/// through the API (one left at the police review, one approved to completion), then
/// copies of them (new ids, newborns and submission times over the last 60 days) are
/// created through the store port, which maintains every read model as in production.
async fn seed(
    app: &TestApp,
    store: &application::App,
    import: Option<&aws::DynamoStore>,
    open: usize,
    total: usize,
    relay: Option<tokio::sync::watch::Sender<bool>>,
) {
    let g = app.guardian(FATHER_A);
    let waiting = app.apply(&g, &testkit::family::form_a_nth(0, 1)).await;
    let done = app.apply(&g, &testkit::family::form_a_nth(1, 1)).await;
    app.task_for("police", &waiting).await;
    let task = app.task_for("police", &done).await;
    assert_eq!(
        app.decide("police", &task, "approve", &[]).await.status,
        200
    );
    app.wait_for(&done, &g, "completed").await;
    // The stream relay served the two cases above; the copies below send nothing.
    if let Some(stop) = relay {
        let _ = stop.send(true);
    }
    let mut templates = vec![];
    for id in [waiting, done] {
        let c = store.store.get(&id).await.unwrap().unwrap();
        templates.push((id, serde_json::to_string(&c).unwrap()));
    }
    let cal = domain::Calendar::builtin(domain::UnknownYearPolicy::AssumeWeekdays);
    let now = chrono::Utc::now().with_timezone(&domain::calendar::shanghai());
    let clones = (2..total).map(|i| {
        let (id, doc) = &templates[usize::from(i > open)];
        let new_id = format!("BCSEED{i:07}");
        let mut v: serde_json::Value =
            serde_json::from_str(&doc.replace(id.as_str(), &new_id)).unwrap();
        let submitted = now - chrono::Duration::minutes((i as i64 * 60 * 24 * 60) / total as i64);
        v["submitted_at"] = serde_json::json!(submitted);
        v["idempotency_key"] = serde_json::json!(format!("seed-{i}"));
        // A newborn of its own: birth order 1-9 on its own day.
        let born = now - chrono::Duration::days(1 + (i / 9) as i64);
        v["form"]["newborn"]["birth_time"] = serde_json::json!(born);
        v["form"]["newborn"]["birth_order"] = serde_json::json!(1 + i % 9);
        v["form"]["newborn"]["multiple_birth"] = serde_json::json!(9);
        v.as_object_mut().unwrap().remove("indexed");
        // As the SLA monitor leaves them: looked at after their last change (whose look
        // is due two minutes after it), except one in 500, due for that look.
        if i % 500 != 0 {
            v["monitored_at"] = serde_json::json!(now + chrono::Duration::minutes(3));
        }
        let mut c: domain::Case = serde_json::from_value(v).unwrap();
        c.prepare_commit(&cal, &domain::Settings::default());
        c
    });
    use futures_util::StreamExt;
    match import {
        // DynamoDB: in batches (moto copies its tables on every transaction, so one
        // transaction per case slows down with the table's size).
        Some(dynamo) => {
            let clones: Vec<domain::Case> = clones.collect();
            for chunk in clones.chunks(1000) {
                dynamo.import(chunk).await.unwrap();
            }
        }
        None => {
            futures_util::stream::iter(clones)
                .map(|c| async move {
                    let r = store.store.create(&c, "seed", &[]).await.unwrap();
                    assert!(matches!(r, ports::Created::New), "{}", c.case_id());
                })
                .buffer_unordered(8)
                .collect::<Vec<()>>()
                .await;
        }
    }
    let mut queued = 0;
    let mut after = None;
    loop {
        let (tasks, next) = store
            .tasks
            .open_tasks(domain::Dept::Police, Some("330106"), after.as_deref(), 1000)
            .await
            .unwrap();
        queued += tasks.len();
        match next {
            Some(k) => after = Some(k),
            None => break,
        }
    }
    assert_eq!(queued, open, "the county's queue holds the open cases");
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
async fn measure(
    app: &TestApp,
    n: usize,
    open: usize,
    usage: Option<&aws::Usage>,
) -> (Measured, Measured) {
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
    let (r, tasks) = timed("/v1/tasks?limit=100".into(), county.clone()).await;
    let page = r.body["tasks"].as_array().unwrap();
    assert_eq!(page.len(), open.min(100));
    let due: Vec<&str> = page.iter().map(|t| t["due_at"].as_str().unwrap()).collect();
    assert!(due.windows(2).all(|w| w[0] <= w[1]), "oldest due first");
    // Page by page, every task once (at the CI size; at 50,000 that is 7,000 requests).
    if open <= 1000 {
        let (mut seen, mut cursor) = (vec![], None::<String>);
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/tasks?limit=7&cursor={c}"),
                None => "/v1/tasks?limit=7".into(),
            };
            let r = app.get(&path, &county).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            for t in r.body["tasks"].as_array().unwrap() {
                let key = (
                    t["due_at"].as_str().unwrap(),
                    t["case_id"].as_str().unwrap(),
                );
                seen.push((key.0.to_string(), key.1.to_string()));
            }
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(seen.len(), open, "every open task, page by page");
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "in queue order, once each"
        );
    }
    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    let from = today - chrono::Duration::days(29);
    let path = format!("/v1/supervision/report?from={from}&to={today}");
    let (r, report) = timed(path, app.supervisor()).await;
    // Submissions are spread evenly over 60 days: about half fall in the last 30.
    let total = r.body["cases"]["total"].as_u64().unwrap() as usize;
    assert!(total >= n / 3 && total <= n * 2 / 3 + 2, "{total} of {n}");
    let police = r.body["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dept"] == "police")
        .cloned()
        .unwrap();
    assert!(police["open_tasks"].as_u64().unwrap() > 0);
    assert_eq!(r.body["per_case"].as_array().unwrap().len(), total.min(100));
    (tasks, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_countys_queue_and_a_months_report_on_the_embedded_store() {
    let n = size("ONETHING_SCALE_CASES", 2_000);
    let open = size("ONETHING_SCALE_OPEN", n / 10).max(1);
    let app = TestApp::start_loaded(&["police"]).await;
    let started = Instant::now();
    seed(
        &app,
        &app.running.as_ref().unwrap().app,
        None,
        open,
        n,
        None,
    )
    .await;
    eprintln!("embedded: {n} cases seeded in {:?}", started.elapsed());
    let (tasks, report) = measure(&app, n, open, None).await;
    eprintln!(
        "embedded, {n} cases: GET /v1/tasks (county, first 100 of {open}) {:?}; \
         GET /v1/supervision/report (30 days) {:?}",
        tasks.took, report.took
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_countys_queue_and_a_months_report_on_dynamodb() {
    let n = size("ONETHING_SCALE_MOTO_CASES", 200);
    let open = size("ONETHING_SCALE_OPEN", n / 10).max(1);
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
    // The stream relay while the two cases go through the API (a reader of a stream of
    // 100,000 imported items would keep moto busy for nothing).
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(onething::pollers::stream_relay(
        a.stream_reader(),
        running.app.queues.clone(),
        stopped,
    ));
    let t = TestApp::attach(&running, secret);
    let started = Instant::now();
    seed(&t, &running.app, Some(&a.core.store), open, n, Some(stop)).await;
    eprintln!(
        "dynamodb (moto): {n} cases seeded in {:?}",
        started.elapsed()
    );
    let (tasks, report) = measure(&t, n, open, Some(&a.usage)).await;
    // One SLA monitor run ten minutes on: it reads the due index, and only the cases due.
    // The pollers stop first: the notifications the run re-sends for the seeded copies
    // (whose deliveries were never recorded) would be delivered meanwhile, reading cases.
    let mut later = running.app.clone();
    running.abort();
    later.clock = Arc::new(MinutesOn(10));
    let before = a.usage.snapshot();
    let started = Instant::now();
    let tick = application::handlers::sla_tick(&later, chrono::Duration::seconds(120))
        .await
        .unwrap();
    let took = started.elapsed();
    let after = a.usage.snapshot();
    let used = |op: &str| {
        let i = after.iter().position(|(k, _)| *k == op).unwrap();
        after[i].1 - before[i].1
    };
    let due = (2..n).filter(|i| i % 500 == 0).count();
    eprintln!(
        "dynamodb (moto), {n} cases ({open} unfinished): one SLA monitor run {took:?}, \
         {} cases read, {} Query, {} GetItem, {} TransactWriteItems",
        tick.scanned,
        used("dynamodb.Query"),
        used("dynamodb.GetItem"),
        used("dynamodb.TransactWriteItems")
    );
    assert!(tick.scanned <= due + 2, "only due cases are read: {tick:?}");
    assert_eq!(used("dynamodb.GetItem") as usize, tick.scanned);
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
    // Its first page is one query of the index, however long the queue.
    assert_eq!(tasks.count("dynamodb.Query"), 1, "{}", tasks.requests());
    // The report sums aggregates: a query per month and one page of rows, no case read.
    assert_eq!(report.count("dynamodb.GetItem"), 0, "{}", report.requests());
}
