//! What one completed case costs on AWS, counted by the adapters while cases run end to
//! end on moto through the same API and pollers as `serve --backend aws`: requests by
//! operation, and the write and read units DynamoDB bills for them, computed from the
//! items' sizes (`aws::billing`).

use crate::moto;

use crate::helpers::*;
use serde_json::{json, Value};
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
    let sharing = Arc::new(application::FixtureSharing::from_json(&registry(CASES)).unwrap());
    let settings = domain::Settings::default();
    let cal = domain::Calendar::builtin(settings.unknown_year_policy);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = onething::Config::new("127.0.0.1:0".parse().unwrap(), dir.path().to_path_buf());
    // As deployed: the stack's KMS key signs each result's certificate.
    let resources = aws::Resources::from_outputs(&outputs).unwrap();
    let key = resources
        .cert_key
        .clone()
        .expect("the stack's certificate key");
    let signer = Arc::new(CountingSigner {
        inner: aws::KmsSigner::new(&m.sdk_config().await, &key, vec![]),
        signs: Default::default(),
        certifications: Default::default(),
    });
    let app = onething::aws_app(&a, sharing, cal, settings, &cfg).with_signer(signer.clone());
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
    const CASES: usize = 3;
    // The SLA monitor ticks once at the start: its queries (one per due-index partition)
    // are a cost per tick, not per case (printed apart below).
    let monitor = wait_for_first_tick(&a.usage).await;
    let before = a.usage.snapshot();
    use std::sync::atomic::Ordering::SeqCst;
    let signs_before = signer.signs.load(SeqCst);
    // The usual case: a family's first application, for a single birth.
    let families = families(CASES);
    // Watch through a second set of adapters, so that watching is not counted.
    let observer = aws::Aws::new(
        &m.sdk_config().await,
        &aws::Resources::from_outputs(&outputs).unwrap(),
        5,
    );
    // One case after another, so that the figures are a case's own: cases at the same
    // moment race for the same counters (the parcels' tracking numbers), and a lost race
    // costs a retry of that step's read and write (the chaos runs measure those).
    for (father, form) in &families {
        let id = t.apply(&t.guardian(father), form).await;
        let mut state = String::new();
        for _ in 0..600 {
            use ports::{CaseStore, Notifier};
            let c = observer.store.get(&id).await.unwrap().unwrap();
            let sent = observer.notifier.sent(&id).await.unwrap().len();
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
    // Every message sent is settled (the render queue gathers for two seconds first).
    let count = |snap: &[(&'static str, u64)], k: &str| {
        let now = snap.iter().find(|(x, _)| *x == k).unwrap().1;
        let was = before.iter().find(|(x, _)| *x == k).unwrap().1;
        now - was
    };
    for _ in 0..100 {
        let now = a.usage.snapshot();
        if count(&now, "sqs.DeleteMessage") >= count(&now, "sqs.SendMessage") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = a.usage.snapshot();
    let signs = (signer.signs.load(SeqCst) - signs_before) as f64 / CASES as f64;
    eprintln!(
        "KMS Sign per completed case: {signs:.1} (and {} certification(s) of a process's \
         document-sealing key, once per process and 12 hours, not per case)",
        signer.certifications.load(SeqCst)
    );
    assert!(
        signs <= 6.0 * 1.1,
        "KMS Sign: {signs:.1} per case, over 6 + 10 %"
    );
    // Each aggregate update was billed as one write unit (twice, in its transaction): so
    // the items it updated must be within a kilobyte after it (they only grow, so their
    // size now bounds every update's).
    let month = domain::projection::month_of(domain::case::shanghai_now(chrono::Utc::now()));
    let sizes = observer.store.aggregate_sizes(&month).await.unwrap();
    assert!(!sizes.is_empty());
    for (sk, bytes) in &sizes {
        assert!(
            *bytes <= 1024,
            "aggregate item {sk}: {bytes} bytes, billed as one unit"
        );
    }
    eprintln!("aggregate items this month: {sizes:?}");
    no_two_cases_commit_to_a_hot_item(&m.endpoint).await;
    running.abort();
    let per_case: Vec<(&str, f64)> = after
        .iter()
        .zip(before.iter())
        .map(|((k, x), (_, y))| (*k, (x - y) as f64 / CASES as f64))
        .collect();
    eprintln!(
        "the SLA monitor's first tick (any number of cases; more during the 09:00 hour, \
         when it reminds appointments): {monitor} Query"
    );
    eprintln!(
        "requests per completed case (mean of {CASES}; ReceiveMessage calls include idle long polls):",
    );
    for (k, v) in &per_case {
        eprintln!("  {k:<36} {v:>6.1}");
    }
    let get = |name: &str| per_case.iter().find(|(k, _)| *k == name).unwrap().1;
    // Deterministic: accept, five steps, six notifications (accepted, three units'
    // hand-overs online, the premium notice, completed), four renderings of certificates'
    // PDFs (one per step that issues certificates), one archive.
    assert_eq!(get("sqs.SendMessage"), 17.0);
    // The archive message is sent when the last notification is delivered; two
    // notifications delivered at the same moment may both send it (the second is a no-op).
    let received = get("sqs.ReceiveMessage.messages");
    assert!(
        (17.0..=18.0).contains(&received),
        "each message received once (the archive at most twice): {received}"
    );
    assert_eq!(get("sqs.DeleteMessage"), 17.0);

    // DynamoDB, against issue 12's targets: a case that costs more than a target plus
    // 10 % fails here. S3 has no such bound: its target (two writes) predates the six
    // certificates' PDFs, which are stored as they are issued so that a family can
    // download each at once; the bound is what this layout writes (six PDFs and the one
    // archive object that holds them), plus 10 % (docs/benchmarks.md).
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
    // Every case's six certificates have their PDF stored (rendered by the render queue),
    // besides the archive object: a run without documents would measure less than
    // production does.
    let s3_writes = get("s3.PutObject") + get("s3.CopyObject");
    assert!(
        s3_writes >= 7.0,
        "{s3_writes:.1} S3 writes per case: the certificates' PDFs were not stored (no CJK font?)"
    );
    let wcu = get("dynamodb.write_units.table");
    let index_wcu = get("dynamodb.write_units.indexes");
    let rcu = get("dynamodb.read_units.halves") / 2.0;
    // Write units: issue 12's target predates the daily caps on a family's messages
    // (API.md "Notifications"), which count each message in the transaction that records
    // it: the message and its phone's count of the day, each billed twice, 4 units where
    // an unconditional put of the message took 1 (a held one takes that transaction
    // again). The bound is the target plus those 4 units for each of a case's 6 messages.
    let messages = 6.0;
    eprintln!("per completed case        measured   target   bound asserted");
    for (name, v, target, bound) in [
        ("DynamoDB requests", requests, 30.0, 30.0),
        ("write units (table)", wcu, 80.0, 80.0 + 4.0 * messages),
        ("write units (indexes)", index_wcu, f64::NAN, 48.0),
        ("read units", rcu, 20.0, 20.0),
        (
            "S3 PUTs and copies",
            get("s3.PutObject") + get("s3.CopyObject"),
            2.0,
            7.0,
        ),
    ] {
        eprintln!("  {name:<24} {v:>8.1} {target:>8} {bound:>8}");
        assert!(
            v <= bound * 1.1,
            "{name}: {v:.1} per case, over {bound} + 10 %"
        );
    }
}

/// Which items the cases' transactions wrote, read from the emulator's record of every
/// `TransactWriteItems`: an item that every case's step writes in its commit (a
/// province-wide counter, a county's day of aggregates) makes concurrent steps cancel
/// each other's transactions. Two cases may share only an aggregate shard they both hash
/// to, and the ID sequence's counter of their county, birth date and sex (a few births a
/// day, the series that must have no gaps).
async fn no_two_cases_commit_to_a_hot_item(endpoint: &str) {
    use std::collections::{BTreeMap, BTreeSet};
    let r = testkit::http::Http::default()
        .call(
            "GET",
            &format!("{endpoint}/_onething/transactions"),
            None,
            &[],
            bytes::Bytes::new(),
        )
        .await;
    assert_eq!(r.status, 200);
    let mut writers: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut shards: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for tx in r.body.as_array().unwrap() {
        let keys: Vec<(String, String)> = tx
            .as_array()
            .unwrap()
            .iter()
            .map(|k| (k[0].as_str().unwrap().into(), k[1].as_str().unwrap().into()))
            .collect();
        let Some(case) = keys
            .iter()
            .find(|(pk, sk)| pk.starts_with("CASE#") && sk == "CASE")
            .map(|(pk, _)| pk["CASE#".len()..].to_string())
        else {
            continue;
        };
        for k in keys {
            if k.0.starts_with("AGG#") {
                shards
                    .entry(case.clone())
                    .or_default()
                    .insert(k.1.rsplit('#').next().unwrap().to_string());
            }
            writers.entry(k).or_default().insert(case.clone());
        }
    }
    assert!(writers.len() > 10, "the record holds the cases' commits");
    for (case, used) in &shards {
        assert_eq!(
            used,
            &BTreeSet::from([aws::aggregate_shard(case).to_string()]),
            "{case}'s commits add to its own aggregate shard only"
        );
    }
    for ((pk, sk), cases) in &writers {
        if cases.len() < 2 {
            continue;
        }
        let sharded = pk.starts_with("AGG#") && sk.split('#').count() == 3;
        let id_sequence = pk.starts_with("ALLOC#citizen_id:") && sk == "COUNTER";
        assert!(
            sharded || id_sequence,
            "{pk} / {sk} is written in the commits of {} cases",
            cases.len()
        );
    }
}

/// Wait until the monitor's first tick is over (its queries: one per partition of the due
/// index, an empty table answering each in one page, and during the 09:00 hour one per
/// site for the appointment reminders); their count.
async fn wait_for_first_tick(usage: &aws::Usage) -> u64 {
    let queries = || {
        usage
            .snapshot()
            .into_iter()
            .find(|(k, _)| *k == "dynamodb.Query")
            .map_or(0, |(_, v)| v)
    };
    let (mut last, mut still) = (0, 0);
    for _ in 0..400 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let n = queries();
        still = if n == last { still + 1 } else { 0 };
        last = n;
        if n >= aws::DUE_SHARDS as u64 && still >= 10 {
            return n;
        }
    }
    panic!("the monitor's first tick did not end: {last} queries");
}

/// Family A and `n - 1` more like it (married, both parents on record in Xihu), so that
/// each case is a family's first application for a single birth: the usual case. (Many
/// newborns of one family would be a multiple birth, whose acceptance also reads the
/// siblings' cases.)
fn family(k: usize) -> (String, String) {
    let id = |rest: String| format!("{rest}{}", domain::idnum::check_char(&rest));
    (
        id(format!("33010619900101{:03}", 100 + 10 * k + 3)),
        id(format!("33010619920304{:03}", 100 + 10 * k + 2)),
    )
}

fn registry(n: usize) -> String {
    let mut r: Value = serde_json::from_str(application::sample_registry()).unwrap();
    for k in 1..n {
        let (father, mother) = family(k);
        let household = format!("33010690{k:04}");
        for (who, name, sex) in [(&father, "王山", "male"), (&mother, "李兰", "female")] {
            r["people"].as_array_mut().unwrap().push(json!({
                "id_number": who, "name": name, "sex": sex, "ethnicity": "汉族",
                "household_number": household, "employee_insured": true
            }));
        }
        r["households"].as_array_mut().unwrap().push(json!({
            "household_number": household, "address_code": "330106",
            "address": format!("杭州市西湖区文三路 {} 号", 100 + k),
            "head_id_number": father, "kind": "family"
        }));
        r["marriages"].as_array_mut().unwrap().push(json!({
            "certificate_number": format!("J330106-2021-{k:06}"),
            "husband_id_number": father, "wife_id_number": mother,
            "registered_on": "2021-05-20"
        }));
    }
    r.to_string()
}

fn families(n: usize) -> Vec<(String, Value)> {
    let mut out = vec![(FATHER_A.to_string(), form_a())];
    for k in 1..n {
        let (father, mother) = family(k);
        let mut form = with_parents(form_a(), Some(("王山", &father)), ("李兰", &mother));
        // Each family its own phone (the daily caps count per phone).
        form["applicant"]["phone"] = json!(format!("1390000{k:04}"));
        out.push((father, form));
    }
    out
}

/// The stack's KMS signer, counting its `Sign` requests (each `sign` is one): those over
/// certificates, and apart those certifying a process's document-sealing key.
struct CountingSigner {
    inner: aws::KmsSigner,
    signs: std::sync::atomic::AtomicU64,
    certifications: std::sync::atomic::AtomicU64,
}

#[async_trait::async_trait]
impl ports::CertSigner for CountingSigner {
    fn kid(&self) -> String {
        self.inner.kid()
    }
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ports::StoreError> {
        use base64::Engine;
        let header = message.split(|b| *b == b'.').next().unwrap_or_default();
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap_or_default();
        let typ = serde_json::from_slice::<Value>(&header).unwrap_or_default()["typ"].clone();
        let counter = if typ == "onething-doc-key" {
            &self.certifications
        } else {
            &self.signs
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.sign(message).await
    }
    async fn public_keys(&self) -> Result<Value, ports::StoreError> {
        self.inner.public_keys().await
    }
}
