//! schemathesis against `/openapi.json` of a running `onething serve`: generated requests
//! (from the schemas, the examples, and the links between operations) never get a 5xx,
//! and every response matches the document. Schema-valid requests that the API rejects
//! on semantic grounds (ID check characters, cross-field rules, data sharing) are expected,
//! so that one check (`positive_data_acceptance`) is excluded.

#[path = "../../../tests/support/moto.rs"]
mod moto;

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn schemathesis_finds_no_failure() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let st = moto::venv(&root).join("bin/schemathesis");
    assert!(st.exists(), "{} is missing: run scripts/test", st.display());
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_onething"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("ONETHING_JWT_SECRET", "st-secret")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_string();
    let token = api::auth::sign(
        b"st-secret",
        &api::auth::Claims {
            sub: "330106199001010130".into(),
            role: "guardian".into(),
            dept: None,
            exp: chrono::Utc::now().timestamp() + 3600,
            iat: None,
            iss: None,
            aud: None,
        },
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
    child.kill().unwrap();
    child.wait().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = text.lines().filter(|l| l.contains("generated")).collect();
    eprintln!("schemathesis: {}", summary.join(" | "));
    assert!(out.status.success(), "schemathesis failed:\n{text}");
    assert!(summary.iter().any(|l| l.contains("passed")), "{text}");
}
