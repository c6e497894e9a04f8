//! schemathesis against `/openapi.json` of a running `onething serve`, once per role
//! (guardian, window officers, each department's officer, supervisor), so that every
//! operation is also exercised by someone allowed to call it: generated requests (from
//! the schemas, the examples, and the links between operations) never get a 5xx, and
//! every response matches the document. Schema-valid requests that the API rejects on
//! semantic grounds (ID check characters, cross-field rules, data sharing) are expected,
//! so that one check (`positive_data_acceptance`) is excluded.
//!
//! CI runs a fixed seed and a few examples per operation. `ONETHING_FUZZ_CASES=N` runs
//! about N generated requests in all (at least 5,000 is the long mode), with a random
//! seed that the output names.

const ST_SECRET: &str = "st-secret-0123456789abcdef0123456789abcd";

use std::path::Path;
use std::process::Command;
use testkit::serve::Serve;

/// The API's operations (for spreading `ONETHING_FUZZ_CASES` over them).
const OPERATIONS: usize = 17;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_failure_for_any_role() {
    let st = testkit::tools::py("schemathesis");
    assert!(st.exists(), "{} is missing: run scripts/test", st.display());
    // schemathesis keeps its cache in its working directory: a temporary one.
    let dir = tempfile::tempdir().unwrap();
    // Manual review everywhere, so officers find open tasks to decide.
    let server = Serve::start_fresh(
        Path::new(env!("CARGO_BIN_EXE_onething")),
        &[
            "--manual",
            "hospital,police,medical_insurance,hrss,service_center",
        ],
        [("ONETHING_JWT_SECRET", ST_SECRET)],
    );
    let base = server.base.clone();
    let sign = |role: &str, dept: Option<&str>, sub: &str| {
        testkit::tokens::sign(ST_SECRET.as_bytes(), role, dept, sub)
    };
    // A few cases to work on: one waiting at the hospital, one offline at a window.
    let http = testkit::http::Http::default();
    let guardian = sign("guardian", None, testkit::family::FATHER_A);
    for (i, token) in [
        guardian.clone(),
        sign("window_officer", Some("service_center"), "st-w"),
    ]
    .iter()
    .enumerate()
    {
        let mut form = testkit::family::form_a_nth(i, 3);
        if i == 1 {
            form["channel"] = serde_json::json!("service_center");
            form["window"] = serde_json::json!({"site": "西湖区行政服务中心", "number": "1"});
            form["delivery"] = serde_json::Value::Null;
        }
        http.record_birth(&base, ST_SECRET.as_bytes(), &form).await;
        let url = format!("{base}/v1/applications");
        let r = http
            .json("POST", &url, token, &form, Some(&format!("st-{i}")))
            .await;
        assert_eq!(r.status, 202, "{:?}", r.body);
    }
    let mut roles: Vec<(String, String)> = vec![
        ("guardian".into(), guardian),
        (
            "supervisor".into(),
            sign("supervisor", None, "st-supervisor"),
        ),
    ];
    for dept in ["service_center", "hospital"] {
        let sub = format!("st-window-{dept}");
        roles.push((
            format!("window_officer/{dept}"),
            sign("window_officer", Some(dept), &sub),
        ));
    }
    for dept in [
        "hospital",
        "police",
        "medical_insurance",
        "hrss",
        "service_center",
        "health",
    ] {
        let sub = format!("st-{dept}");
        roles.push((
            format!("dept_officer/{dept}"),
            sign("dept_officer", Some(dept), &sub),
        ));
    }
    let long: Option<usize> = std::env::var("ONETHING_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    let per_operation = match long {
        Some(total) => total.div_ceil(roles.len() * OPERATIONS).max(10),
        None => 8,
    };
    let seed = match long {
        Some(_) => format!("{}", rand_seed()),
        None => "20261130".to_string(),
    };
    let mut failures = vec![];
    let mut generated = 0usize;
    for (role, token) in &roles {
        let out = Command::new(&st)
            .args([
                "run",
                &format!("{base}/openapi.json"),
                "-c",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "-n",
                &per_operation.to_string(),
                "--seed",
                &seed,
            ])
            .args(["-H", &format!("Authorization: Bearer {token}")])
            .env("SCHEMATHESIS_TELEMETRY", "false")
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let summary: Vec<&str> = text.lines().filter(|l| l.contains("generated")).collect();
        generated += summary
            .iter()
            .filter_map(|l| l.split_whitespace().next()?.parse::<usize>().ok())
            .sum::<usize>();
        eprintln!(
            "schemathesis as {role} (seed {seed}): {}",
            summary.join(" | ")
        );
        if !out.status.success()
            || !summary
                .iter()
                .any(|l| l.contains("passed") || l.contains("generated"))
        {
            failures.push(format!("as {role}:\n{text}"));
        }
    }
    drop(server);
    eprintln!(
        "schemathesis: {generated} requests generated over {} roles",
        roles.len()
    );
    assert!(
        failures.is_empty(),
        "schemathesis failed:\n{}",
        failures.join("\n")
    );
    if let Some(total) = long {
        assert!(
            generated >= total.min(5000) / 2,
            "only {generated} requests were generated"
        );
    }
}

/// A seed for the long mode, from the clock (printed, so a failure can be replayed).
fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 % 1_000_000_000)
        .unwrap_or(1)
}
