//! The web front in a real browser: `tests/browser/run.mjs` drives Debian's headless
//! Chromium (playwright-core) against the real `onething serve --dev-login --manual
//! police`: a parent applies, answers the one notice, a police officer returns the case
//! and approves it after the correction, the parent downloads a certificate, a
//! supervisor's charts show the data, and every page state passes axe-core's WCAG 2.1
//! A/AA rules without a console error. Needs Node.js, `tests/browser/node_modules` and
//! Debian's chromium; `scripts/test` installs them. Screenshots at phone and desktop
//! widths go to `ONETHING_SCREENSHOTS_DIR` (default: under the target directory).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use testkit::serve::Serve;

#[test]
fn a_family_and_the_officers_and_a_supervisor_complete_a_case_in_a_real_browser() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").exists()
            && dir.join("node_modules/axe-core").exists(),
        "tests/browser/node_modules is missing: scripts/test installs it (npm ci)"
    );
    let chromium = std::env::var("ONETHING_CHROMIUM").unwrap_or("/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: scripts/test installs Debian's chromium"
    );
    let shots = std::env::var("ONETHING_SCREENSHOTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots"));
    let bin = Path::new(env!("CARGO_BIN_EXE_onething"));
    let data = tempfile::tempdir().expect("a temporary data directory");
    let server = Serve::start(
        bin,
        &data.path().join("data"),
        &["--dev-login", "--manual", "police,hospital"],
        [("ONETHING_SLA_INTERVAL_SECS", "3600")],
    );
    apply_a_catalogue_with_a_sub_bundle(bin, data.path());
    let mut child = Command::new("node")
        .arg("run.mjs")
        .current_dir(&dir)
        .env("BASE_URL", &server.base)
        .env("SCREENSHOTS_DIR", &shots)
        .env("CHROMIUM", &chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node (Node.js) runs the browser test");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for node") {
            break Some(s);
        }
        if started.elapsed() > Duration::from_secs(600) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut out).ok();
    child.stderr.take().unwrap().read_to_string(&mut err).ok();
    eprintln!("{out}");
    let status = status.expect("the browser test finished within 10 minutes");
    assert!(
        status.success(),
        "the browser test failed:\n{err}\n(screenshots of each page in {})",
        shots.display()
    );
    assert!(
        out.contains("axe: 18 page states checked, 0 violations"),
        "{out}"
    );
    drop(server);
}

/// The operator applies (while the server runs) a catalogue holding, besides 出生一件事,
/// a 子项 made of data alone: the hospital's certificates and the hand-over.
fn apply_a_catalogue_with_a_sub_bundle(bin: &Path, dir: &Path) {
    let mut c: serde_json::Value = serde_json::from_str(domain::catalogue::BUILTIN_JSON).unwrap();
    let mut sub = c["bundles"][0].clone();
    sub["bundle_id"] = "birth_certificates".into();
    sub["name"] = "出生医学证明和预防接种证".into();
    sub["units"] = serde_json::json!(["health", "hospital", "service_center"]);
    sub["promise_working_days"] = 2.into();
    let items = sub["situations"][0]["items"].as_array_mut().unwrap();
    items.retain(|i| {
        ["acceptance", "birth_certificate", "unified_issuance"]
            .contains(&i["item_id"].as_str().unwrap())
    });
    c["bundles"].as_array_mut().unwrap().push(sub);
    let file = dir.join("catalogue.json");
    std::fs::write(&file, c.to_string()).unwrap();
    let out = Command::new(bin)
        .args(["catalogue", "apply"])
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env("RUST_LOG", "warn")
        .output()
        .expect("onething catalogue apply");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
