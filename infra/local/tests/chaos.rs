//! Chaos: push cases through the real `onething serve` while it injects duplicate and
//! reordered deliveries, throttling/5xx errors and crashes between storage operations, and
//! while the test `kill -9`s and restarts it over and over. Then every accepted case must
//! be completed exactly once, with unique numbers, each step done once, nothing stuck.
//!
//! CI runs 150 cases; the full run is
//! `ONETHING_CHAOS_CASES=1000 cargo nextest run -p onething -E 'binary(chaos)' --no-capture`.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn form(i: usize) -> Value {
    testkit::family::form_a_nth(i, 25)
}
const SECRET: &str = "chaos-secret-0123456789abcdef0123456789";
const FAULTS: &str = "dup=0.2,reorder=0.5,throttle=0.03,crash=0.003";

struct Server {
    child: Mutex<Option<Child>>,
    dir: std::path::PathBuf,
    log: std::path::PathBuf,
    settings: std::path::PathBuf,
    port: u16,
    starts: AtomicUsize,
}

impl Server {
    fn spawn(&self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_onething"))
            .args(["serve", "--addr", &format!("127.0.0.1:{}", self.port)])
            .arg("--data-dir")
            .arg(&self.dir)
            .arg("--settings")
            .arg(&self.settings)
            .env("ONETHING_JWT_SECRET", SECRET)
            .env("ONETHING_FAULTS", FAULTS)
            // The SLA monitor re-drives stragglers (e.g. messages dead-lettered by
            // repeated crashes) after 5 s here instead of 2 minutes.
            .env("ONETHING_SLA_INTERVAL_SECS", "2")
            .env("ONETHING_REDRIVE_AFTER_SECS", "5")
            .env("ONETHING_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.starts.fetch_add(1, Ordering::Relaxed);
        *self.child.lock().unwrap() = Some(child);
    }
    /// Restart if the process exited on its own (an injected crash).
    fn revive(&self) -> bool {
        let mut g = self.child.lock().unwrap();
        let dead = match g.as_mut() {
            Some(c) => c.try_wait().unwrap().is_some(),
            None => true,
        };
        drop(g);
        if dead {
            self.spawn();
        }
        dead
    }
    fn kill9(&self) {
        if let Some(mut c) = self.child.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.spawn();
    }
    fn stop(&self) {
        if let Some(mut c) = self.child.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_loses_and_duplicates_nothing() {
    let cases: usize = std::env::var("ONETHING_CHAOS_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    // Every case is a newborn of its own: family A has 9 birth orders x 25 days of them.
    assert!(
        cases <= 225,
        "form_a_nth gives 225 distinct newborns; ONETHING_CHAOS_CASES={cases} is more"
    );
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Arc::new(Server {
        child: Mutex::new(None),
        dir: tmp.path().join("data"),
        log: tmp.path().join("serve.log"),
        settings: {
            // One guardian submits every case: the per-guardian limits are raised.
            let p = tmp.path().join("settings.json");
            std::fs::write(&p, testkit::family::LOAD_SETTINGS).unwrap();
            p
        },
        port,
        starts: AtomicUsize::new(0),
    });
    server.spawn();
    let base = format!("http://127.0.0.1:{port}");
    let token = testkit::tokens::sign(
        SECRET.as_bytes(),
        "guardian",
        None,
        testkit::family::FATHER_A,
    );

    // The chaos monkey: revive crashed processes, kill -9 every 400-900 ms.
    let stop = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(AtomicUsize::new(0));
    let revived = Arc::new(AtomicUsize::new(0));
    let monkey = {
        let (server, stop, kills, revived) =
            (server.clone(), stop.clone(), kills.clone(), revived.clone());
        std::thread::spawn(move || {
            let mut next_kill = Instant::now() + Duration::from_millis(400);
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if server.revive() {
                    revived.fetch_add(1, Ordering::Relaxed);
                }
                if Instant::now() >= next_kill {
                    server.kill9();
                    kills.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                    next_kill = Instant::now() + Duration::from_millis(400 + (n * 137 % 500));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };

    let hospital = testkit::tokens::hospital_system(SECRET.as_bytes(), "H330106001");
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let call_as = move |token: String,
                        method: &'static str,
                        url: String,
                        body: Option<String>,
                        key: Option<String>| {
        let client = client.clone();
        async move {
            let mut b = http::Request::builder()
                .method(method)
                .uri(url)
                .header("authorization", format!("Bearer {token}"));
            if body.is_some() {
                b = b.header("content-type", "application/json");
            }
            if let Some(k) = key {
                b = b.header("idempotency-key", k);
            }
            let req = b
                .body(Full::new(Bytes::from(body.unwrap_or_default())))
                .unwrap();
            let r = tokio::time::timeout(Duration::from_secs(5), client.request(req))
                .await
                .ok()?
                .ok()?;
            let status = r.status().as_u16();
            let bytes = r.into_body().collect().await.ok()?.to_bytes();
            Some((
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            ))
        }
    };
    let call = {
        let call_as = call_as.clone();
        move |method: &'static str, url: String, body: Option<String>, key: Option<String>| {
            call_as(token.clone(), method, url, body, key)
        }
    };

    // Submit every case, retrying through crashes with the same idempotency key.
    let sem = Arc::new(tokio::sync::Semaphore::new(8));
    let mut handles = vec![];
    for i in 0..cases {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let (base, call, call_as, hospital) = (
            base.clone(),
            call.clone(),
            call_as.clone(),
            hospital.clone(),
        );
        handles.push(tokio::spawn(async move {
            let _p = permit;
            // The hospital's system records the birth first.
            let record = testkit::family::birth_record(&form(i)).to_string();
            let mut recorded = false;
            for _ in 0..2000 {
                match call_as(
                    hospital.clone(),
                    "POST",
                    format!("{base}/v1/births"),
                    Some(record.clone()),
                    None,
                )
                .await
                {
                    Some((200 | 201, _)) => {
                        recorded = true;
                        break;
                    }
                    Some((s, v)) if s < 500 && s != 429 => panic!("birth {i}: {s} {v}"),
                    _ => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
            assert!(recorded, "birth {i} never recorded");
            let body = form(i).to_string();
            for _ in 0..2000 {
                match call(
                    "POST",
                    format!("{base}/v1/applications"),
                    Some(body.clone()),
                    Some(format!("chaos-{i}")),
                )
                .await
                {
                    Some((202, v)) => return v["case_id"].as_str().unwrap().to_string(),
                    Some((s, v)) if s < 500 && s != 429 => panic!("submission {i}: {s} {v}"),
                    _ => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
            panic!("submission {i} never accepted");
        }));
    }
    let mut ids = vec![];
    for h in handles {
        ids.push(h.await.unwrap());
    }
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(
        distinct.len(),
        cases,
        "one case per application, however often it was retried"
    );

    // Keep killing for a while as the cases flow, then let them finish (injected crashes
    // and revivals continue).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let kills_during = kills.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut done: HashMap<String, Value> = HashMap::new();
    while done.len() < cases && Instant::now() < deadline {
        if kills.load(Ordering::Relaxed) >= kills_during + 5 {
            // Enough kills: stop the periodic kill -9 (crash faults stay on).
            stop.store(true, Ordering::Relaxed);
        }
        for id in &ids {
            if done.contains_key(id) {
                continue;
            }
            if let Some((200, v)) = call("GET", format!("{base}/v1/cases/{id}"), None, None).await {
                let notes = v["notifications"].as_array().map_or(0, |a| a.len());
                if v["status"] == "completed" && !v["archive"].is_null() && notes >= 3 {
                    done.insert(id.clone(), v);
                }
            }
        }
        if stop.load(Ordering::Relaxed) {
            server.revive();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    monkey.join().unwrap();
    // Where the unfinished ones stand (for the failure message).
    let mut states = vec![];
    for id in ids.iter().filter(|id| !done.contains_key(*id)).take(5) {
        if let Some((200, v)) = call("GET", format!("{base}/v1/cases/{id}"), None, None).await {
            let steps: Vec<String> = v["steps"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|s| format!("{}={}", s["step"], s["status"]))
                        .collect()
                })
                .unwrap_or_default();
            states.push(format!(
                "{id}: {} steps {steps:?} notifications {} archive {}",
                v["status"],
                v["notifications"].as_array().map_or(0, |a| a.len()),
                !v["archive"].is_null()
            ));
        }
    }
    server.stop();
    let stuck: Vec<&String> = ids.iter().filter(|id| !done.contains_key(*id)).collect();
    let mut kept = String::new();
    if !stuck.is_empty() {
        // The server's log outlives the test's directory, for the diagnosis.
        let path = std::env::temp_dir().join(format!("chaos-serve-{}.log", std::process::id()));
        if std::fs::copy(&server.log, &path).is_ok() {
            kept = format!(" (server log kept at {})", path.display());
        }
    }
    assert!(
        stuck.is_empty(),
        "{} cases did not complete{kept}: {:?}",
        stuck.len(),
        states
    );

    let mut nids = HashSet::new();
    let mut bmcs = HashSet::new();
    let mut cards = HashSet::new();
    for v in done.values() {
        let r = &v["results"];
        assert!(
            nids.insert(r["newborn_id_number"].as_str().unwrap().to_string()),
            "newborn ID issued twice"
        );
        assert!(
            bmcs.insert(r["birth_certificate_number"].as_str().unwrap().to_string()),
            "certificate issued twice"
        );
        assert!(
            cards.insert(
                r["social_security_card"]["card_serial"]
                    .as_str()
                    .unwrap()
                    .to_string()
            ),
            "card issued twice"
        );
        let steps_done = v["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "step_done")
            .count();
        assert_eq!(steps_done, 5, "each step done exactly once");
        let completed = v["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "completed")
            .count();
        assert_eq!(completed, 1, "told once");
    }
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    let count = |kind: &str| log.matches(&format!("\"fault\":\"{kind}\"")).count();
    eprintln!(
        "chaos: {cases} cases completed exactly once; lost 0, duplicated 0; kill -9: {}; process starts: {}; \
         injected: {} duplicate deliveries, {} reorders, {} throttles/5xx, {} crashes",
        kills.load(Ordering::Relaxed),
        server.starts.load(Ordering::Relaxed),
        count("duplicate"),
        count("reorder"),
        count("throttle"),
        count("crash")
    );
    assert!(kills.load(Ordering::Relaxed) >= 5);
    // And none of it put personal data in the logs.
    for pii in [
        testkit::family::FATHER_A,
        testkit::family::MOTHER_A,
        "13800000000",
        "王海",
        "李梅",
        "王小溪",
        "文三路",
    ] {
        assert!(!log.contains(pii), "the log contains {pii}");
    }
    assert!(count("duplicate") > 0 && count("throttle") > 0);
}
