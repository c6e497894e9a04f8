//! schemathesis against `/openapi.json` of a running `onething serve`: generated requests
//! (from the schemas, the examples, and the links between operations) never get a 5xx,
//! and every response matches the document. Schema-valid requests that the API rejects
//! on semantic grounds (ID check characters, cross-field rules, data sharing) are expected,
//! so that one check (`positive_data_acceptance`) is excluded.

const ST_SECRET: &str = "st-secret-0123456789abcdef0123456789abcd";

use std::path::Path;
use std::process::Command;
use testkit::serve::Serve;

#[test]
fn schemathesis_finds_no_failure() {
    let st = testkit::tools::py("schemathesis");
    assert!(st.exists(), "{} is missing: run scripts/test", st.display());
    // schemathesis keeps its cache in its working directory: a temporary one.
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start_fresh(
        Path::new(env!("CARGO_BIN_EXE_onething")),
        &[],
        [("ONETHING_JWT_SECRET", ST_SECRET)],
    );
    let base = server.base.clone();
    let token = testkit::tokens::sign(
        ST_SECRET.as_bytes(),
        "guardian",
        None,
        testkit::family::FATHER_A,
    );
    let out = Command::new(&st)
        .args([
            "run",
            &format!("{base}/openapi.json"),
            "-c",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "-n",
            "25",
            "--seed",
            "20261130",
        ])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .current_dir(dir.path())
        .output()
        .unwrap();
    drop(server);
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = text.lines().filter(|l| l.contains("generated")).collect();
    eprintln!("schemathesis: {}", summary.join(" | "));
    assert!(out.status.success(), "schemathesis failed:\n{text}");
    assert!(summary.iter().any(|l| l.contains("passed")), "{text}");
}
