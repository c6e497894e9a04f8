//! `onething bench`: start a fresh `onething serve` (a child process, on a temporary data
//! directory and its own generated registry), drive N automated cases through its HTTP
//! API at a steady rate (or as fast as it takes them), and print cases/s completed,
//! submission→completed latency p50/p99 (server timestamps) and the server's peak RSS.

use bytes::Bytes;
use chrono::{Duration as CDuration, Utc};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// How many cases.
    #[arg(long, default_value_t = 2000)]
    cases: usize,
    /// Submissions per second; 0 submits as fast as the server accepts them.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Concurrent client connections.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// How durable each commit of the server is.
    #[arg(long, value_enum, default_value_t = crate::DurabilityArg::Full)]
    durability: crate::DurabilityArg,
    /// Give up waiting for completion after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// Print the figures as one JSON document (progress still goes to stderr).
    #[arg(long)]
    json: bool,
}

/// The server child and its temporary directory: both gone when this is dropped, whether
/// the bench ends, fails, panics or is interrupted.
struct Server {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Synthetic families: every case is a newborn of its own (family, birth date), and no
/// guardian needs more than a few applications.
const FAMILIES: usize = 500;
/// Birth dates spread over the last this many days.
const DAYS: usize = 25;
const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

fn id(area: &str, date: &str, seq: u32) -> String {
    let s = format!("{area}{date}{seq:03}");
    let sum: u32 = s
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    format!(
        "{s}{}",
        ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize]
    )
}

const COUNTIES: [&str; 8] = [
    "330102", "330105", "330106", "330108", "330203", "330302", "330402", "330602",
];

/// (father, mother) per family and the registry JSON.
fn registry() -> (Vec<(String, String)>, Value) {
    let (mut people, mut households, mut marriages, mut fam) = (vec![], vec![], vec![], vec![]);
    for i in 0..FAMILIES {
        let county = COUNTIES[i % COUNTIES.len()];
        // Sequences: odd for fathers, even for mothers, three digits.
        let (block, j) = (i / 400, (i % 400) as u32);
        let f = id(county, ["19900101", "19890303"][block], 2 * j + 1);
        let m = id(county, ["19920202", "19910404"][block], 2 * j + 2);
        let hh = format!("{county}{:06}", 900000 + i);
        people.push(json!({
            "id_number": f,
            "name": "测试父",
            "sex": "male",
            "ethnicity": "汉族",
            "household_number": hh,
            "employee_insured": true,
        }));
        people.push(json!({
            "id_number": m,
            "name": "测试母",
            "sex": "female",
            "ethnicity": "汉族",
            "household_number": hh,
            "employee_insured": true,
        }));
        households.push(json!({
            "household_number": hh,
            "address_code": county,
            "address": "测试地址",
            "head_id_number": f,
            "kind": "family",
        }));
        marriages.push(json!({
            "certificate_number": format!("JBENCH{i}"),
            "husband_id_number": f,
            "wife_id_number": m,
        }));
        fam.push((f, m));
    }
    let inst = json!([{
        "code": "H330106001",
        "name": "测试妇产医院",
        "county_code": "330106",
        "kind": "midwifery",
    }]);
    (
        fam,
        json!({
            "people": people,
            "households": households,
            "marriages": marriages,
            "institutions": inst,
        }),
    )
}

fn form(father: &str, mother: &str, i: usize) -> Value {
    // Family i % FAMILIES, its ((i / FAMILIES) % DAYS)-th day: a newborn of its own; both
    // sexes, as citizen ID sequences are per (county, date, sex). Beyond FAMILIES x DAYS
    // cases, later birth orders of multiple births.
    let day = (i / FAMILIES) % DAYS;
    let order = 1 + (i / (FAMILIES * DAYS)) % 9;
    let birth = Utc::now() - CDuration::days(1 + day as i64);
    let birth = birth
        .with_timezone(&domain::calendar::shanghai())
        .format("%Y-%m-%dT08:30:00+08:00")
        .to_string();
    json!({
        "channel": "zlb_app",
        "newborn": {"name": "测试宝宝", "sex": if (i / FAMILIES).is_multiple_of(2) { "female" } else { "male" }, "birth_time": birth,
                    "hospital_code": "H330106001", "weight_g": 3200, "length_cm": 50, "gestational_weeks": 39, "ethnicity": "汉族",
                    "birth_order": order, "multiple_birth": if order > 1 { 9 } else { 1 }},
        "mother": {"name": "测试母", "id_number": mother},
        "father": {"name": "测试父", "id_number": father},
        "household": {"register_with": "father"},
        "insurance": {"enrol_newborn": true, "maternity_benefit": true},
        "social_security_card": {"apply": true},
        "delivery": {"method": "mail", "address": "杭州市西湖区文三路 1 号", "pickup_site": null},
        "applicant": {"name": "测试父", "id_number": father, "relation": "father", "phone": "13800000000"}
    })
}

/// The hospital's delivery record of the birth a form names.
fn birth_record(form: &Value) -> Value {
    let nb = &form["newborn"];
    json!({
        "institution_code": nb["hospital_code"],
        "mother_id_number": form["mother"]["id_number"],
        "birth_time": nb["birth_time"],
        "sex": nb["sex"],
        "birth_order": nb["birth_order"],
        "multiple_birth": nb["multiple_birth"],
        "weight_g": nb["weight_g"],
        "length_cm": nb["length_cm"],
        "gestational_weeks": nb["gestational_weeks"],
    })
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub async fn run(a: Args) -> Result<(), String> {
    let dir =
        std::env::temp_dir().join(format!("onething-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (families, reg) = registry();
    let reg_path = dir.join("registry.json");
    // A load test: the per-guardian daily and unfinished-case limits are raised.
    let settings_path = dir.join("settings.json");
    let written = std::fs::write(&reg_path, reg.to_string())
        .and_then(|_| {
            std::fs::write(
                &settings_path,
                r#"{"max_applications_per_day": 1000000, "max_unfinished_cases": 1000000}"#,
            )
        })
        .map_err(|e| e.to_string());
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    let secret = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let child = std::process::Command::new(exe)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--durability",
            a.durability.as_str(),
        ])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--registry")
        .arg(&reg_path)
        .arg("--settings")
        .arg(&settings_path)
        .env("ONETHING_JWT_SECRET", &secret)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut server = match child {
        Ok(child) => Server { child, dir },
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e.to_string());
        }
    };
    let pid = server.child.id();
    let mut line = String::new();
    std::io::BufReader::new(server.child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let base = line.trim().rsplit(' ').next().unwrap_or("").to_string();
    if !base.starts_with("http://") {
        return Err(format!("server did not start: {line:?}"));
    }
    eprintln!("bench: server {base} (pid {pid}), {} cases", a.cases);
    let result = tokio::select! {
        r = drive(&a, &base, &secret, &families) => r,
        _ = crate::wait_for_signal() => Err("interrupted; server stopped".to_string()),
    };
    let rss_kb = vm_hwm_kb(pid);
    drop(server);
    let r = result?;
    let rate = if a.rate > 0.0 {
        format!("{:.0} cases/s", a.rate)
    } else {
        "saturation".into()
    };
    report(&a, &r, rss_kb.map(|k| k as f64 / 1024.0), &rate);
    Ok(())
}

/// Print a run's figures (JSON with `--json`).
fn report(a: &Args, r: &Outcome, rss_mb: Option<f64>, rate: &str) {
    if a.json {
        println!(
            "{}",
            json!({
                "cases_submitted": r.submitted,
                "cases_completed": r.completed,
                "durability": a.durability.as_str(),
                "offered_rate_per_s": (a.rate > 0.0).then_some(a.rate),
                "throughput_per_s": r.throughput,
                "latency_ms": {"p50": r.p50, "p99": r.p99, "max": r.max},
                "server_peak_rss_mb": rss_mb,
            })
        );
        return;
    }
    println!("cases submitted            {}", r.submitted);
    println!("cases completed            {}", r.completed);
    println!("durability                 {}", a.durability.as_str());
    println!("offered rate               {rate}");
    println!(
        "completed throughput       {:.1} cases/s (first submission to last completion)",
        r.throughput
    );
    println!(
        "latency submit→completed   p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        r.p50, r.p99, r.max
    );
    println!(
        "server peak RSS            {}",
        rss_mb.map(|m| format!("{m:.1} MB")).unwrap_or("n/a".into())
    );
}

struct Outcome {
    submitted: usize,
    completed: usize,
    throughput: f64,
    p50: f64,
    p99: f64,
    max: f64,
}

/// Guardians' tokens for the bench families, and the hospital system's.
fn tokens(secret: &str, families: &[(String, String)]) -> (Vec<String>, String) {
    let now = Utc::now().timestamp();
    let claims = |sub: &str, role: &str| api::auth::Claims {
        sub: sub.to_string(),
        role: role.into(),
        exp: now + 86400,
        ..Default::default()
    };
    let guardians = families
        .iter()
        .map(|(f, _)| api::auth::sign(secret.as_bytes(), &claims(f, "guardian")))
        .collect();
    // The hospital's system records each birth before the family applies; every bench
    // family's baby is born at one institution (records only from it).
    let hospital = api::auth::Claims {
        dept: Some("hospital".into()),
        scope: domain::case::Scope {
            region: Some("33".into()),
            hospital: Some("H330106001".into()),
            ..Default::default()
        },
        ..claims("hospital-system", "dept_officer")
    };
    (guardians, api::auth::sign(secret.as_bytes(), &hospital))
}

type Http = Arc<Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>>;

/// POST `body` to `url` until it is taken (`ok`), retrying while the server is busy; the
/// answer's body, or None when refused.
async fn post_until(
    client: &Http,
    url: &str,
    token: &str,
    key: Option<&str>,
    body: &str,
    ok: &[u16],
) -> Option<Bytes> {
    for _ in 0..20 {
        let mut req = http::Request::post(url)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"));
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        let req = req
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("request");
        match client.request(req).await {
            Ok(r) if ok.contains(&r.status().as_u16()) => {
                return r.into_body().collect().await.ok().map(|b| b.to_bytes())
            }
            Ok(r) if r.status() == 503 || r.status() == 429 => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Ok(r) => {
                eprintln!("{url}: HTTP {}", r.status());
                return None;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    None
}

async fn drive(
    a: &Args,
    base: &str,
    secret: &str,
    families: &[(String, String)],
) -> Result<Outcome, String> {
    let client: Http = Arc::new(
        Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(a.concurrency)
            .build_http(),
    );
    let (tokens, hospital) = tokens(secret, families);
    let (tokens, hospital) = (Arc::new(tokens), Arc::new(hospital));
    let sem = Arc::new(tokio::sync::Semaphore::new(a.concurrency));
    let start = Instant::now();
    let mut handles = vec![];
    let step = (a.cases / 10).max(1);
    for i in 0..a.cases {
        if i > 0 && i % step == 0 {
            eprintln!("bench: submitting {i}/{}", a.cases);
        }
        if a.rate > 0.0 {
            let at = start + Duration::from_secs_f64(i as f64 / a.rate);
            tokio::time::sleep_until(at.into()).await;
        }
        let permit = sem
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let (client, tokens, base) = (client.clone(), tokens.clone(), base.to_string());
        let hospital = hospital.clone();
        let fam = i % families.len();
        let form = form(&families[fam].0, &families[fam].1, i);
        let birth = birth_record(&form).to_string();
        handles.push(tokio::spawn(async move {
            let _permit = permit;
            let births = format!("{base}/v1/births");
            post_until(&client, &births, &hospital, None, &birth, &[200, 201]).await?;
            let apply = format!("{base}/v1/applications");
            let key = format!("bench-{i}");
            let b = post_until(
                &client,
                &apply,
                &tokens[fam],
                Some(&key),
                &form.to_string(),
                &[202],
            )
            .await?;
            let v: Value = serde_json::from_slice(&b).ok()?;
            Some((fam, v["case_id"].as_str()?.to_string()))
        }));
    }
    let mut pending = vec![];
    for h in handles {
        if let Some(x) = h.await.map_err(|e| e.to_string())? {
            pending.push(x);
        }
    }
    let submitted = pending.len();
    eprintln!("bench: {submitted} submitted; waiting for completion");
    let done = completions(a, base, &client, &tokens, pending).await;
    Ok(outcome(submitted, &done))
}

/// When each case was submitted and finished, polled (the oldest unfinished first) until
/// all are done or the run's timeout.
async fn completions(
    a: &Args,
    base: &str,
    client: &Http,
    tokens: &[String],
    mut pending: Vec<(usize, String)>,
) -> Vec<(
    chrono::DateTime<chrono::FixedOffset>,
    chrono::DateTime<chrono::FixedOffset>,
)> {
    let submitted = pending.len();
    let mut last_report = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(a.timeout);
    let mut done = vec![];
    while !pending.is_empty() && Instant::now() < deadline {
        let mut still = vec![];
        let mut misses = 0;
        for (fam, id) in pending.drain(..) {
            if misses >= 8 {
                still.push((fam, id));
                continue;
            }
            let req = http::Request::get(format!("{base}/v1/cases/{id}"))
                .header("authorization", format!("Bearer {}", tokens[fam]))
                .body(Full::new(Bytes::new()))
                .expect("request");
            let v: Option<Value> = match client.request(req).await {
                Ok(r) => r
                    .into_body()
                    .collect()
                    .await
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b.to_bytes()).ok()),
                Err(_) => None,
            };
            match v {
                Some(v) if v["status"] == "completed" => {
                    let at = |k: &str| {
                        v[k].as_str()
                            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    };
                    if let (Some(s), Some(f)) = (at("submitted_at"), at("finished_at")) {
                        done.push((s, f));
                    }
                }
                Some(v)
                    if v["status"].as_str().is_some_and(|s| {
                        ["rejected", "not_accepted", "incomplete", "returned"].contains(&s)
                    }) =>
                {
                    eprintln!("case {id} ended as {}", v["status"]);
                }
                _ => {
                    misses += 1;
                    still.push((fam, id));
                }
            }
        }
        pending = still;
        if last_report.elapsed() >= Duration::from_secs(2) {
            eprintln!("bench: {}/{submitted} completed", done.len());
            last_report = Instant::now();
        }
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    done
}

/// Throughput (first submission to last completion) and latency percentiles.
fn outcome(
    submitted: usize,
    done: &[(
        chrono::DateTime<chrono::FixedOffset>,
        chrono::DateTime<chrono::FixedOffset>,
    )],
) -> Outcome {
    let mut lat: Vec<f64> = done
        .iter()
        .map(|(s, f)| (*f - *s).num_microseconds().unwrap_or(0) as f64 / 1000.0)
        .collect();
    lat.sort_by(|x, y| x.partial_cmp(y).expect("no NaN"));
    let first = done.iter().map(|x| x.0).min();
    let last = done.iter().map(|x| x.1).max();
    let span = match (first, last) {
        (Some(a), Some(b)) => (b - a).num_microseconds().unwrap_or(1) as f64 / 1e6,
        _ => f64::NAN,
    };
    Outcome {
        submitted,
        completed: done.len(),
        throughput: done.len() as f64 / span,
        p50: pct(&lat, 50.0),
        p99: pct(&lat, 99.0),
        max: lat.last().copied().unwrap_or(f64::NAN),
    }
}
