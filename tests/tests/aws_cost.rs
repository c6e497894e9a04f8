//! What one completed case costs on AWS, counted by the adapters while cases run end to
//! end on moto through the same API and pollers as `serve --backend aws`: requests by
//! operation, and the write and read units DynamoDB bills for them, computed from the
//! items' sizes (`aws::billing`).

use crate::moto;

use crate::helpers::*;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_per_completed_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let m = moto::Moto::start(&root);
    let outputs = m.deploy("cost");
    let a = aws::Aws::new(
        &m.sdk_config().await,
        &aws::Resources::from_outputs(&outputs).unwrap(),
        5,
    );
    let sharing =
        Arc::new(application::FixtureSharing::from_json(application::sample_registry()).unwrap());
    let settings = domain::Settings::default();
    let cal = domain::Calendar::builtin(settings.unknown_year_policy);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = onething::Config::new("127.0.0.1:0".parse().unwrap(), dir.path().to_path_buf());
    let app = onething::aws_app(&a, sharing, cal, settings, &cfg);
    cfg.workers_per_queue = 1;
    cfg.sla_interval = Duration::from_secs(3600);
    let secret = b"cost-secret".to_vec();
    let mut running = onething::start_app(cfg, app, a.queues.clone(), secret.clone())
        .await
        .unwrap();
    running.relay_stream(a.stream_reader());
    let t = TestApp::attach(&running, secret);

    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_test_writer()
        .try_init();
    let before = a.usage.snapshot();
    const CASES: usize = 3;
    let g = t.guardian(FATHER_A);
    let mut ids = vec![];
    for n in 1..=CASES {
        ids.push(t.apply(&g, &crate::helpers::newborn(n)).await);
    }
    // Watch through a second set of adapters, so that watching is not counted.
    let observer = aws::Aws::new(
        &m.sdk_config().await,
        &aws::Resources::from_outputs(&outputs).unwrap(),
        5,
    );
    for id in &ids {
        let mut state = String::new();
        for _ in 0..600 {
            use ports::{CaseStore, Notifier};
            let c = observer.store.get(id).await.unwrap().unwrap();
            let sent = observer.notifier.sent(id).await.unwrap().len();
            if c.status() == domain::CaseStatus::Completed && c.archive().is_some() && sent == 6 {
                state.clear();
                break;
            }
            state = format!(
                "{:?}, archived {}, {sent} notifications",
                c.status(),
                c.archive().is_some()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(state.is_empty(), "{id} not completed: {state}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = a.usage.snapshot();
    running.abort();
    let per_case: Vec<(&str, f64)> = after
        .iter()
        .zip(before.iter())
        .map(|((k, x), (_, y))| (*k, (x - y) as f64 / CASES as f64))
        .collect();
    eprintln!(
        "requests per completed case (mean of {CASES}; ReceiveMessage calls include idle long polls):",
    );
    for (k, v) in &per_case {
        eprintln!("  {k:<36} {v:>6.1}");
    }
    let get = |name: &str| per_case.iter().find(|(k, _)| *k == name).unwrap().1;
    // Deterministic: accept, five steps, six notifications (accepted, three units'
    // hand-overs online, the premium notice, completed), one archive.
    assert_eq!(get("sqs.SendMessage"), 13.0);
    // The archive message is sent when the last notification is delivered; two
    // notifications delivered at the same moment may both send it (the second is a no-op).
    let received = get("sqs.ReceiveMessage.messages");
    assert!(
        (13.0..=14.0).contains(&received),
        "each message received once (the archive at most twice): {received}"
    );
    assert_eq!(get("sqs.DeleteMessage"), 13.0);
    assert_eq!(
        get("s3.PutObject"),
        1.0,
        "one archive object (its materials are copied, and this case has none)"
    );

    // DynamoDB, against issue 12's targets. The bounds asserted are the figures measured
    // when this write path landed (or the target, where it is met), plus 10 %: a change
    // that costs more fails here. The request and write-unit targets are not met yet
    // (see docs/benchmarks.md).
    let requests: f64 = [
        "dynamodb.GetItem",
        "dynamodb.Query",
        "dynamodb.PutItem",
        "dynamodb.DeleteItem",
        "dynamodb.UpdateItem",
        "dynamodb.TransactWriteItems",
        "dynamodb.BatchWriteItem",
        "dynamodb.BatchGetItem",
    ]
    .iter()
    .map(|k| get(k))
    .sum();
    let wcu = get("dynamodb.write_units.table");
    let index_wcu = get("dynamodb.write_units.indexes");
    let rcu = get("dynamodb.read_units.halves") / 2.0;
    eprintln!("per completed case        measured   target   bound asserted");
    for (name, v, target, bound) in [
        ("DynamoDB requests", requests, 30.0, 42.0),
        ("write units (table)", wcu, 80.0, 106.0),
        ("write units (indexes)", index_wcu, f64::NAN, 48.0),
        ("read units", rcu, 20.0, 20.0),
        (
            "S3 PUTs",
            get("s3.PutObject") + get("s3.CopyObject"),
            2.0,
            1.0,
        ),
    ] {
        eprintln!("  {name:<24} {v:>8.1} {target:>8} {bound:>8}");
        assert!(
            v <= bound * 1.1,
            "{name}: {v:.1} per case, over {bound} + 10 %"
        );
    }
}
