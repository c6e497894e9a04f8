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

/// The token secret of the servers these tests start.
const SECRET: &str = "cli-secret-0123456789abcdef0123456789ab";

/// `serve` on `data` with [`SECRET`], nothing else set.
fn serve_on(data: &std::path::Path) -> testkit::serve::Serve {
    testkit::serve::Serve::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_onething")),
        data,
        &[],
        [("ONETHING_JWT_SECRET", SECRET)],
    )
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
fn dlq_show_and_redrive_take_every_queue_that_dlq_list_lists() {
    // The render queue included (the relay parks there what it could not send): the
    // name passes the check and the command goes on to the data, of which there is none.
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["show", "redrive"] {
        for queue in ["render", "notify", "archive", "accept"] {
            let out = onething(dir.path(), &["dlq", cmd, queue]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!err.contains("no queue named"), "dlq {cmd} {queue}: {err}");
            assert!(err.contains("no onething data"), "dlq {cmd} {queue}: {err}");
        }
    }
}

#[test]
fn an_officer_token_needs_a_department() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_onething"))
        .args(["token", "--role", "dept_officer", "--sub", "officer-1"])
        .env(
            "ONETHING_JWT_SECRET",
            "cli-secret-0123456789abcdef0123456789ab",
        )
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

/// The local database holds personal data: only its owner may read the data directory,
/// and a short or planted secret is refused.
#[test]
fn the_data_directory_is_the_owners_alone_and_secrets_are_long_and_never_followed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A fresh data directory and its secret are created owner-only.
    let secret = onething::jwt_secret(&data).unwrap();
    assert!(secret.len() >= onething::MIN_SECRET_BYTES);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("jwt-secret")), 0o600);
    // World-readable: refused, naming the fix.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let e = onething::secure_data_dir(&data).unwrap_err().to_string();
    assert!(e.contains("chmod"), "{e}");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    // A secret planted as a link to another file is not followed.
    let other = tempfile::tempdir().unwrap();
    let target = other.path().join("stolen");
    std::fs::write(&target, "x".repeat(64)).unwrap();
    let planted = dir.path().join("planted");
    std::fs::create_dir(&planted).unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink(&target, planted.join("jwt-secret")).unwrap();
    assert!(onething::jwt_secret(&planted).is_err());
    // A one-character secret in the environment is refused by serve.
    let out = Command::new(env!("CARGO_BIN_EXE_onething"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("short"))
        .env("ONETHING_JWT_SECRET", "x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at least 32"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `onething audit --case ID` reads the audit trail of one case: who read or changed its
/// personal data, through which request; the trail holds no unmasked ID number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_lists_who_read_and_changed_a_case() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve_on(&data);
    let http = testkit::http::Http::default();
    let form = testkit::family::form_a();
    http.record_birth(&server.base, SECRET.as_bytes(), &form)
        .await;
    let g = testkit::tokens::sign(
        SECRET.as_bytes(),
        "guardian",
        None,
        testkit::family::FATHER_A,
    );
    let r = http
        .json(
            "POST",
            &format!("{}/v1/applications", server.base),
            &g,
            &form,
            Some("k1"),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let id = r.body["case_id"].as_str().unwrap().to_string();
    let r = http
        .call(
            "GET",
            &format!("{}/v1/cases/{id}", server.base),
            Some(&g),
            &[("x-request-id", "read-by-the-guardian")],
            bytes::Bytes::new(),
        )
        .await;
    assert_eq!(r.status, 200);
    let data_arg = data.to_str().unwrap();
    let out = onething(
        dir.path(),
        &["audit", "--case", &id, "--data-dir", data_arg, "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The application, acceptance's own data-sharing lookups (whenever the accept
    // worker ran) and the guardian's read.
    assert_eq!(events.len(), 3, "{text}");
    // The accept worker may record its lookups before the API records the application
    // (the API writes its event after the commit): find each by what it is.
    let apply = events
        .iter()
        .find(|e| e["operation"] == "POST /v1/applications")
        .expect("the application is recorded");
    assert_eq!(apply["action"], "write");
    let lookups = events
        .iter()
        .find(|e| e["operation"] == "data_sharing")
        .expect("acceptance's lookups are recorded");
    assert_eq!(lookups["actor"], "system:service_center");
    assert!(lookups["fields"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("data_sharing:birth")));
    let read = events
        .iter()
        .find(|e| e["request_id"] == "read-by-the-guardian")
        .expect("the guardian's read");
    assert_eq!(read["action"], "read");
    assert!(!text.contains(testkit::family::FATHER_A), "{text}");
    // Another case has no events; the table form names the operation.
    let out = onething(
        dir.path(),
        &["audit", "--case", "BC0", "--data-dir", data_arg],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
    let out = onething(
        dir.path(),
        &["audit", "--case", &id, "--data-dir", data_arg],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("GET /v1/cases/{case_id}"));
    // The trail is the owner's alone.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(data.join("audit.jsonl"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "audit.jsonl mode {mode:o}");
}

/// `serve --cors-origin` answers preflights without a token for the configured origins
/// only, and marks their responses; other origins get nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_is_allowed_for_configured_portals_only() {
    let portal = "https://portal.example.gov.cn";
    let server = testkit::serve::Serve::start_fresh(
        std::path::Path::new(env!("CARGO_BIN_EXE_onething")),
        &["--cors-origin", portal],
        [("ONETHING_JWT_SECRET", SECRET)],
    );
    let http = testkit::http::Http::default();
    let preflight = |origin: &'static str| {
        let (http, url) = (http.clone(), format!("{}/v1/applications", server.base));
        async move {
            http.call(
                "OPTIONS",
                &url,
                None,
                &[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                    (
                        "access-control-request-headers",
                        "authorization, content-type, idempotency-key",
                    ),
                ],
                bytes::Bytes::new(),
            )
            .await
        }
    };
    let ok = preflight(portal).await;
    assert_eq!(ok.status, 204);
    assert_eq!(ok.headers["access-control-allow-origin"], portal);
    let allowed = ok.headers["access-control-allow-headers"].to_str().unwrap();
    for h in [
        "authorization",
        "content-type",
        "idempotency-key",
        "x-request-id",
    ] {
        assert!(allowed.contains(h), "{allowed}");
    }
    let other = preflight("https://evil.example").await;
    assert_eq!(other.status, 403);
    assert!(other.headers.get("access-control-allow-origin").is_none());
    // An actual request from the portal is marked and exposes the request id.
    let r = http
        .call(
            "GET",
            &format!("{}/v1/guide", server.base),
            None,
            &[("origin", portal)],
            bytes::Bytes::new(),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["access-control-allow-origin"], portal);
    assert!(r.headers["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .contains("x-request-id"));
    assert!(r.headers.get("x-request-id").is_some());
    let r = http
        .call(
            "GET",
            &format!("{}/v1/guide", server.base),
            None,
            &[("origin", "https://evil.example")],
            bytes::Bytes::new(),
        )
        .await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
}

/// The web pages come with a strict Content-Security-Policy; the development sign-in
/// exists only with `serve --dev-login` (never with `--backend aws`), signs tokens the
/// API accepts, and refuses what `onething token` refuses, in Chinese.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_are_served_and_the_development_sign_in_exists_only_with_its_flag() {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_onething"));
    let http = testkit::http::Http::default();
    let post = |base: String, body: serde_json::Value| {
        let http = http.clone();
        async move {
            http.call(
                "POST",
                &format!("{base}/dev/token"),
                None,
                &[("content-type", "application/json")],
                bytes::Bytes::from(body.to_string()),
            )
            .await
        }
    };

    let plain = testkit::serve::Serve::start_fresh(bin, &[], [("RUST_LOG", "warn")]);
    let (status, headers, body) = http.bytes(&format!("{}/", plain.base), None).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("<html lang=\"zh-CN\">"));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let (_, headers, _) = http
        .bytes(&format!("{}/js/common.js", plain.base), None)
        .await;
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    let (_, _, cfg) = http
        .bytes(&format!("{}/config.json", plain.base), None)
        .await;
    let cfg: serde_json::Value = serde_json::from_slice(&cfg).unwrap();
    assert_eq!(cfg["dev_login"], false);
    let r = post(
        plain.base.clone(),
        serde_json::json!({"role": "supervisor", "sub": "s"}),
    )
    .await;
    assert_eq!(r.status, 404, "no development sign-in without the flag");
    drop(plain);

    let dev = testkit::serve::Serve::start_fresh(bin, &["--dev-login"], [("RUST_LOG", "warn")]);
    let (_, _, cfg) = http.bytes(&format!("{}/config.json", dev.base), None).await;
    let cfg: serde_json::Value = serde_json::from_slice(&cfg).unwrap();
    assert_eq!(cfg["dev_login"], true);
    let r = post(
        dev.base.clone(),
        serde_json::json!({"role": "guardian", "sub": testkit::family::FATHER_A}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.body["token"].as_str().unwrap();
    let (status, _, _) = http
        .bytes(&format!("{}/v1/cases", dev.base), Some(token))
        .await;
    assert_eq!(status, 200, "the API accepts the token");
    for (ask, word) in [
        (
            serde_json::json!({"role": "dept_officer", "sub": "p-1"}),
            "部门",
        ),
        (
            serde_json::json!({"role": "guardian", "sub": " "}),
            "用户标识",
        ),
        (serde_json::json!({"role": "admin", "sub": "x"}), "角色"),
    ] {
        let r = post(dev.base.clone(), ask.clone()).await;
        assert_eq!(r.status, 400, "{ask}");
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(word) && !msg.is_ascii(), "{ask}: {msg}");
    }
    drop(dev);

    let dir = tempfile::tempdir().unwrap();
    let out = onething(
        dir.path(),
        &[
            "serve",
            "--dev-login",
            "--backend",
            "aws",
            "--stack",
            "x",
            "--data-dir",
            "d",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dev-login"));
}

/// The infrastructure's scripts (the template generator, the Lambda build, the footprint
/// and arm64 runners) read the flow's queues and functions from `infra/flow.json`; that
/// file is what `onething flow --json` prints from the domain's table, never a copy edited
/// by hand.
#[test]
fn infra_flow_json_is_what_onething_flow_prints() {
    let dir = tempfile::tempdir().unwrap();
    let out = onething(dir.path(), &["flow", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../flow.json");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        printed, committed,
        "infra/flow.json is stale: run `onething flow --json > infra/flow.json`, then \
         `python3 infra/gen_template.py`"
    );
    let functions = printed["functions"].as_array().unwrap();
    // Every function the table names has its crate (one crate per Lambda).
    for f in functions {
        let krate = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../functions")
            .join(f.as_str().unwrap());
        assert!(krate.join("Cargo.toml").exists(), "{}", krate.display());
    }
}

/// The development sign-in signs tokens of any role: `serve --dev-login` refuses a
/// non-loopback address (exit 2, with the reason), and `/dev/token` refuses a request
/// whose `Host` is another name (a page that rebound its DNS name to 127.0.0.1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_development_sign_in_stays_on_the_machine() {
    let dir = tempfile::tempdir().unwrap();
    let out = onething(dir.path(), &["serve", "--dev-login", "--addr", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("loopback"), "{err}");

    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_onething"));
    let dev = testkit::serve::Serve::start_fresh(bin, &["--dev-login"], [("RUST_LOG", "warn")]);
    let http = testkit::http::Http::default();
    let port = dev.base.rsplit(':').next().unwrap().to_string();
    let body = serde_json::json!({"role": "supervisor", "region": "33", "sub": "s"}).to_string();
    for (host, status) in [
        (format!("evil.example:{port}"), 403),
        (format!("localhost:{port}"), 200),
        (format!("127.0.0.1:{port}"), 200),
    ] {
        let r = http
            .call(
                "POST",
                &format!("{}/dev/token", dev.base),
                None,
                &[("content-type", "application/json"), ("host", &host)],
                bytes::Bytes::from(body.clone()),
            )
            .await;
        assert_eq!(r.status, status, "Host {host}: {}", r.body);
    }
}

/// The routes API Gateway serves without the JWT authorizer, and the OpenAPI document's
/// public operations, come from `infra/routes.json`: what `onething routes --json` prints
/// from the API's route table.
#[test]
fn infra_routes_json_is_what_onething_routes_prints() {
    let dir = tempfile::tempdir().unwrap();
    let out = onething(dir.path(), &["routes", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../routes.json");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        printed, committed,
        "infra/routes.json is stale: run `onething routes --json > infra/routes.json`, then \
         `python3 infra/gen_template.py` and `python3 docs/gen_openapi.py`"
    );
    // The template serves exactly the public GET routes without the authorizer.
    let template = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"),
    )
    .unwrap();
    for r in printed["routes"].as_array().unwrap() {
        let path = r["path"].as_str().unwrap();
        let public = r["who"] == "public";
        let open = template.contains(&format!("Path: {path}\n"))
            || template.contains(&format!("Path: '{path}'\n"));
        assert_eq!(
            public, open,
            "{path}: public {public}, open in the template {open}"
        );
    }
}

/// `serve --portal-config FILE`: the portal's bridge script and app are allowed by the
/// pages' CSP, and `config.json` carries the sign-in, the claims that pre-fill the form and
/// the payment link; a file with a wildcard source is refused at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_configuration_opens_the_pages_to_the_portal_and_nothing_else() {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_onething"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("portal.json");
    std::fs::write(
        &file,
        r#"{"script_src": ["https://assets.zjzwfw.gov.cn"],
            "frame_ancestors": ["https://portal.zjzwfw.gov.cn"],
            "oidc": {"authorize_url": "https://sso.zjzwfw.gov.cn/authorize", "client_id": "onething"},
            "prefill": {"applicant.name": "name", "applicant.phone": "mobile"},
            "payment_url": "https://pay.zjzwfw.gov.cn/premium"}"#,
    )
    .unwrap();
    let http = testkit::http::Http::default();
    let s = testkit::serve::Serve::start_fresh(
        bin,
        &["--portal-config", file.to_str().unwrap()],
        [("RUST_LOG", "warn")],
    );
    let (status, headers, _) = http.bytes(&format!("{}/guardian.html", s.base), None).await;
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self' https://assets.zjzwfw.gov.cn;"),
        "{csp}"
    );
    assert!(
        csp.contains("frame-ancestors https://portal.zjzwfw.gov.cn"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe") && !csp.contains('*'), "{csp}");
    let (_, _, cfg) = http.bytes(&format!("{}/config.json", s.base), None).await;
    let cfg: serde_json::Value = serde_json::from_slice(&cfg).unwrap();
    assert_eq!(cfg["payment_url"], "https://pay.zjzwfw.gov.cn/premium");
    assert_eq!(cfg["prefill"]["applicant.phone"], "mobile");
    assert_eq!(cfg["oidc"]["client_id"], "onething");
    drop(s);

    std::fs::write(&file, r#"{"script_src": ["https://*.example.cn"]}"#).unwrap();
    let out = std::process::Command::new(bin)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--portal-config",
            file.to_str().unwrap(),
        ])
        .args(["--data-dir", dir.path().join("data").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("https://*.example.cn"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `onething catalogue`: a faulty file is refused with every problem (exit 1) and nothing
/// applied; a good one applied while the server runs is in force for the next
/// application at once, without a restart; history lists both versions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalogue_applied_while_the_server_runs_is_in_force_for_the_next_case() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap().to_string();
    let server = serve_on(&data);
    let http = testkit::http::Http::default();
    let shipped: serde_json::Value = serde_json::from_str(domain::catalogue::BUILTIN_JSON).unwrap();

    let mut bad = shipped.clone();
    bad["bundles"][0]["lead_unit"] = "nobody".into();
    bad["bundles"][0]["situations"][0]["items"][2]["queue"] = "elsewhere".into();
    let bad_file = dir.path().join("bad.json");
    std::fs::write(&bad_file, bad.to_string()).unwrap();
    for cmd in ["check", "apply"] {
        let out = onething(
            dir.path(),
            &[
                "catalogue",
                cmd,
                bad_file.to_str().unwrap(),
                "--data-dir",
                &data_arg,
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("lead_unit_not_listed"), "{text}");
        assert!(text.contains("engine_unit"), "{text}");
    }

    let mut good = shipped.clone();
    good["bundles"][0]["situations"][0]["items"][2]["working_days"] = 2.into();
    let good_file = dir.path().join("good.json");
    std::fs::write(&good_file, good.to_string()).unwrap();
    let good_arg = good_file.to_str().unwrap();
    let diff = onething(
        dir.path(),
        &["catalogue", "diff", good_arg, "--data-dir", &data_arg],
    );
    assert!(diff.status.success());
    let diff = String::from_utf8_lossy(&diff.stdout);
    assert!(
        diff.contains("item_id=household_registration].working_days\t1 → 2"),
        "{diff}"
    );
    let out = onething(
        dir.path(),
        &[
            "catalogue",
            "apply",
            good_arg,
            "--data-dir",
            &data_arg,
            "--operator",
            "ops-li",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("第 2 版"));

    let r = http
        .call(
            "GET",
            &format!("{}/v1/catalogue", server.base),
            None,
            &[],
            bytes::Bytes::new(),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["version"], 2);
    let form = testkit::family::form_a();
    http.record_birth(&server.base, SECRET.as_bytes(), &form)
        .await;
    let g = testkit::tokens::sign(
        SECRET.as_bytes(),
        "guardian",
        None,
        testkit::family::FATHER_A,
    );
    let url = format!("{}/v1/applications", server.base);
    let r = http.json("POST", &url, &g, &form, Some("k1")).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let id = r.body["case_id"].as_str().unwrap();
    let r = http
        .call(
            "GET",
            &format!("{}/v1/cases/{id}", server.base),
            Some(&g),
            &[],
            bytes::Bytes::new(),
        )
        .await;
    assert_eq!(r.body["catalogue_version"], 2, "{:?}", r.body);

    let out = onething(
        dir.path(),
        &["catalogue", "history", "--data-dir", &data_arg, "--json"],
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["applied_by"], "builtin");
    assert_eq!(lines[1]["applied_by"], "ops-li");
}
