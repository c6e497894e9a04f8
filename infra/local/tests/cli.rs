//! The `onething` command as a new user meets it: mistakes are refused with a message and
//! exit status 2, and `bench` reports in JSON and leaves nothing running.

use std::process::{Command, Output};

fn onething(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_onething"))
        .args(args)
        .current_dir(dir)
        .env_remove("ONETHING_JWT_SECRET")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run onething")
}

#[test]
fn token_without_a_servers_secret_is_refused_instead_of_inventing_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = onething(
        dir.path(),
        &["token", "--role", "guardian", "--sub", "330106199001010130"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no signing secret"));
    assert!(
        !dir.path().join(".onething").exists(),
        "no data dir was created"
    );
}

#[test]
fn dlq_show_of_an_unknown_queue_fails_and_names_the_queues() {
    let dir = tempfile::tempdir().unwrap();
    let out = onething(dir.path(), &["dlq", "show", "acept"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no queue named") && err.contains("accept"),
        "{err}"
    );
}

#[test]
fn an_officer_token_needs_a_department() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_onething"))
        .args(["token", "--role", "dept_officer", "--sub", "officer-1"])
        .env("ONETHING_JWT_SECRET", "cli-secret")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dept"));
}

#[test]
fn bench_reports_json_and_stops_its_server() {
    let dir = tempfile::tempdir().unwrap();
    let out = onething(
        dir.path(),
        &["bench", "--cases", "20", "--durability", "normal", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["cases_completed"], 20);
    assert!(v["throughput_per_s"].as_f64().unwrap() > 0.0);
    let err = String::from_utf8_lossy(&out.stderr);
    let pid: u32 = err
        .split("(pid ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|p| p.parse().ok())
        .expect("bench names its server's pid");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.contains(") Z ")),
        "the bench's server {pid} is still running"
    );
}
