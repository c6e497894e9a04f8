//! The test app: a running local runtime, an HTTP client and token helpers.

use bytes::Bytes;
use onething::{Config, Running};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

pub use testkit::family::{
    form_a, pdf_bytes, with_parents, FATHER_A, FATHER_C, FATHER_D, FATHER_E, FATHER_G, MOTHER_A,
    MOTHER_B, MOTHER_C, MOTHER_D, MOTHER_E, MOTHER_G,
};

/// The midwifery institutions of the sample registry.
pub const SAMPLE_HOSPITALS: [&str; 6] = [
    "H330106001",
    "H330203001",
    "H330302001",
    "H330105001",
    "H330106900",
    "H310101001",
];

pub struct TestApp {
    pub running: Option<Running>,
    pub dir: tempfile::TempDir,
    pub base: String,
    pub secret: Vec<u8>,
    pub manual: HashSet<domain::Dept>,
    /// The certificates' renderer the runtime is given in place of a font (None: the font).
    renderer: Option<std::sync::Arc<dyn ports::CertRenderer>>,
    client: testkit::http::Http,
}

pub use testkit::http::Resp;

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_with(&[]).await
    }

    /// A runtime whose guardians may submit many applications (load-like tests).
    pub async fn start_loaded(manual: &[&str]) -> TestApp {
        Self::start_configured(manual, Some(testkit::family::LOAD_SETTINGS)).await
    }

    /// A runtime with these operator settings (JSON).
    pub async fn start_settings(manual: &[&str], settings: &str) -> TestApp {
        Self::start_configured(manual, Some(settings)).await
    }

    pub async fn start_with(manual: &[&str]) -> TestApp {
        Self::start_configured(manual, None).await
    }

    /// A runtime with the operator's sites file (`serve --sites FILE`).
    pub async fn start_with_sites(sites: &str) -> TestApp {
        Self::start_files(&[], None, Some(sites)).await
    }

    async fn start_configured(manual: &[&str], settings: Option<&str>) -> TestApp {
        Self::start_files(manual, settings, None).await
    }

    /// A runtime that renders certificates' PDFs with this renderer.
    pub async fn start_rendering(
        manual: &[&str],
        renderer: std::sync::Arc<dyn ports::CertRenderer>,
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let manual = manual
            .iter()
            .map(|d| domain::Dept::parse(d).expect("dept"))
            .collect();
        let running = launch(dir.path().to_path_buf(), &manual, Some(renderer.clone())).await;
        let mut app = Self::around(running, dir, manual);
        app.renderer = Some(renderer);
        app
    }

    fn around(running: Running, dir: tempfile::TempDir, manual: HashSet<domain::Dept>) -> TestApp {
        let base = format!("http://{}", running.addr);
        let secret = running.secret.clone();
        TestApp {
            running: Some(running),
            dir,
            base,
            secret,
            manual,
            renderer: None,
            client: testkit::http::Http::default(),
        }
    }

    async fn start_files(manual: &[&str], settings: Option<&str>, sites: Option<&str>) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        if let Some(s) = settings {
            std::fs::write(dir.path().join("settings.json"), s).expect("settings");
        }
        if let Some(s) = sites {
            std::fs::write(dir.path().join("sites.json"), s).expect("sites");
        }
        let manual: HashSet<domain::Dept> = manual
            .iter()
            .map(|d| domain::Dept::parse(d).expect("dept"))
            .collect();
        let running = launch(dir.path().to_path_buf(), &manual, None).await;
        Self::around(running, dir, manual)
    }

    /// A client for a runtime started elsewhere (the test owns and stops it).
    pub fn attach(running: &Running, secret: Vec<u8>) -> TestApp {
        TestApp {
            running: None,
            dir: tempfile::tempdir().expect("tempdir"),
            base: format!("http://{}", running.addr),
            secret,
            manual: HashSet::new(),
            renderer: None,
            client: testkit::http::Http::default(),
        }
    }

    /// Stop (gracefully, or abruptly) and start again on the same data directory.
    pub async fn restart(&mut self, abrupt: bool) {
        let r = self.running.take().expect("running");
        if abrupt {
            r.abort();
            tokio::time::sleep(Duration::from_millis(50)).await;
        } else {
            r.shutdown().await;
        }
        let running = launch(
            self.dir.path().to_path_buf(),
            &self.manual,
            self.renderer.clone(),
        )
        .await;
        self.base = format!("http://{}", running.addr);
        self.running = Some(running);
    }

    /// A page of this server as a browser asks for it (`accept`), with its headers.
    pub async fn page(&self, path: &str, accept: &str) -> (u16, http::HeaderMap, Vec<u8>) {
        self.client
            .bytes_with(&format!("{}{path}", self.base), &[("accept", accept)])
            .await
    }

    /// The bytes behind a link this server handed out (a download or a document URL).
    pub async fn download(&self, url: &str) -> (u16, Vec<u8>) {
        let (status, _, bytes) = self.client.bytes(url, None).await;
        (status, bytes)
    }

    pub fn token(&self, role: &str, dept: Option<&str>, sub: &str) -> String {
        testkit::tokens::sign(&self.secret, role, dept, sub)
    }
    /// A token with the optional `region`, `hospital` and `site` claims.
    pub fn scoped(
        &self,
        role: &str,
        dept: Option<&str>,
        sub: &str,
        scope: (Option<&str>, Option<&str>, Option<&str>),
    ) -> String {
        testkit::tokens::sign_scoped(&self.secret, role, dept, sub, scope)
    }
    /// Every event of the audit trail so far.
    pub fn audit_events(&self) -> Vec<Value> {
        let path = self.dir.path().join("data").join("audit.jsonl");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("an audit line is JSON"))
            .collect()
    }
    /// The notifications the local runtime sent under `key` (a case id, or the id of
    /// what else a notification is about), read from its data directory.
    pub async fn sent_about(&self, key: &str) -> Vec<ports::Delivered> {
        use ports::Notifier;
        let path = self.dir.path().join("data").join("onething.db");
        let db =
            embedded::Db::open(&path, embedded::Durability::Normal).expect("the data dir's db");
        let notifier = embedded::SqliteNotifier(std::sync::Arc::new(db));
        notifier.sent(key).await.expect("notifications")
    }
    pub fn guardian(&self, sub: &str) -> String {
        self.token("guardian", None, sub)
    }
    pub fn officer(&self, dept: &str) -> String {
        self.token("dept_officer", Some(dept), &format!("officer-{dept}"))
    }
    /// A window officer of `dept` working at `site` (its id or name).
    pub fn window_at(&self, dept: &str, site: &str) -> String {
        self.scoped(
            "window_officer",
            Some(dept),
            &format!("window-{dept}-{site}"),
            (Some("33"), None, Some(site)),
        )
    }
    pub fn window(&self, dept: &str) -> String {
        self.token("window_officer", Some(dept), &format!("window-{dept}"))
    }
    /// The token of the hospital system that files `record` (bound to its institution).
    pub fn hospital_system(&self, record: &Value) -> String {
        let code = record["institution_code"].as_str().unwrap_or_default();
        self.scoped(
            "dept_officer",
            Some("hospital"),
            &format!("hospital-system-{code}"),
            (Some("33"), Some(code), None),
        )
    }
    pub fn supervisor(&self) -> String {
        self.token("supervisor", None, "supervisor-1")
    }

    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Resp {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        self.client.call(method, &url, token, headers, body).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.raw("GET", path, Some(token), &[], Bytes::new()).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.raw(
            "POST",
            path,
            Some(token),
            &[("content-type", "application/json")],
            Bytes::from(body.to_string()),
        )
        .await
    }

    /// Submit an application, the hospital's system having pushed the birth record first
    /// (as it does before a family applies).
    pub async fn submit(&self, token: &str, key: &str, form: &Value) -> Resp {
        if form.get("newborn").is_some_and(Value::is_object) {
            let record = testkit::family::birth_record(form);
            let r = self
                .post("/v1/births", &self.hospital_system(&record), &record)
                .await;
            assert!(
                [200, 201, 400, 409].contains(&r.status),
                "birth record: {} {}",
                r.status,
                r.body
            );
        }
        self.submit_unrecorded(token, key, form).await
    }

    /// Submit an application for a birth the hospital has not recorded.
    pub async fn submit_unrecorded(&self, token: &str, key: &str, form: &Value) -> Resp {
        self.raw(
            "POST",
            "/v1/applications",
            Some(token),
            &[
                ("content-type", "application/json"),
                ("idempotency-key", key),
            ],
            Bytes::from(form.to_string()),
        )
        .await
    }

    /// Submit and return the case id (asserting 202).
    /// The family applies. A father's application that no marriage record binds to the
    /// mother waits for her: she confirms it in her own account (as a family does).
    pub async fn apply(&self, token: &str, form: &Value) -> String {
        let r = self.submit(token, &uuid_key(), form).await;
        assert_eq!(r.status, 202, "{}", r.body);
        let id = r.body["case_id"].as_str().expect("case_id").to_string();
        if r.body["status"] == "awaiting_confirmation" {
            let mother = self.guardian(form["mother"]["id_number"].as_str().unwrap());
            let r = self
                .post(
                    &format!("/v1/cases/{id}/confirm-parent"),
                    &mother,
                    &json!({}),
                )
                .await;
            assert_eq!(r.status, 200, "the mother confirms: {}", r.body);
        }
        id
    }

    pub async fn case(&self, id: &str, token: &str) -> Value {
        let r = self.get(&format!("/v1/cases/{id}"), token).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }

    /// Poll until the case reaches `status` (or a step awaits review, if `status` is "awaiting_review").
    pub async fn wait_for(&self, id: &str, token: &str, status: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..300 {
            last = self.case(id, token).await;
            let awaiting = last["steps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["status"] == "awaiting_review");
            if last["status"] == status || (status == "awaiting_review" && awaiting) {
                // Let the notify/archive consumers catch up on finished cases.
                let notified = last["notifications"].as_array().map_or(0, |a| a.len());
                let finished = ["completed", "rejected", "not_accepted"].contains(&status);
                if finished && (last["archive"].is_null() || notified == 0) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                return last;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "case {id} did not reach {status}; last: {}",
            serde_json::to_string_pretty(&last).unwrap()
        );
    }

    /// Poll until the guardian has been sent `n` notifications.
    pub async fn wait_notifications(&self, id: &str, token: &str, n: usize) -> Value {
        for _ in 0..300 {
            let c = self.case(id, token).await;
            if c["notifications"].as_array().map_or(0, |a| a.len()) >= n {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("case {id}: fewer than {n} notifications");
    }

    /// The open task of a department for a case, waiting for it to appear. A hospital
    /// officer sees only their hospital's queue: every sample hospital's is looked at.
    pub async fn task_for(&self, dept: &str, case_id: &str) -> Value {
        let tokens: Vec<String> = match dept {
            "hospital" => SAMPLE_HOSPITALS
                .iter()
                .map(|h| self.hospital_officer(h))
                .collect(),
            _ => vec![self.officer(dept)],
        };
        for _ in 0..300 {
            for t in &tokens {
                let r = self.get("/v1/tasks?status=open&limit=100", t).await;
                assert_eq!(r.status, 200, "{}", r.body);
                if let Some(task) = r.body["tasks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|x| x["case_id"] == case_id)
                {
                    return task.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no {dept} task for {case_id}");
    }

    /// A province-wide hospital officer of the institution `code`.
    pub fn hospital_officer(&self, code: &str) -> String {
        self.scoped(
            "dept_officer",
            Some("hospital"),
            &format!("officer-hospital-{code}"),
            (Some("33"), Some(code), None),
        )
    }

    /// The officer who works `task`: for a hospital task, one of its hospital.
    pub fn officer_for(&self, dept: &str, task: &Value) -> String {
        match (dept, task["hospital_code"].as_str()) {
            ("hospital", Some(code)) => self.hospital_officer(code),
            _ => self.officer(dept),
        }
    }

    pub async fn decide(&self, dept: &str, task: &Value, decision: &str, reasons: &[&str]) -> Resp {
        let body = json!({"decision": decision, "reasons": reasons, "version": task["version"]});
        self.post(
            &format!("/v1/tasks/{}/decision", task["task_id"].as_str().unwrap()),
            &self.officer_for(dept, task),
            &body,
        )
        .await
    }

    /// Upload a material through the upload URL the API hands out; returns its id.
    pub async fn upload(&self, case_id: &str, token: &str, kind: &str) -> String {
        let bytes = pdf_bytes();
        let r = self
            .post(
                &format!("/v1/cases/{case_id}/materials"),
                token,
                &json!({"kind": kind, "content_type": "application/pdf", "size": bytes.len()}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let url = r.body["upload_url"].as_str().unwrap().to_string();
        let put = self
            .raw(
                "PUT",
                &url,
                None,
                &[("content-type", "application/pdf")],
                Bytes::from(bytes),
            )
            .await;
        assert_eq!(put.status, 200, "{}", put.body);
        r.body["material_id"].as_str().unwrap().to_string()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            r.abort();
        }
    }
}

async fn launch(
    dir: PathBuf,
    manual: &HashSet<domain::Dept>,
    renderer: Option<std::sync::Arc<dyn ports::CertRenderer>>,
) -> Running {
    if std::env::var_os("ONETHING_TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
            .try_init();
    }
    // The data directory is the owner's alone (the server refuses a shared one); the
    // settings file sits beside it.
    let settings = dir.join("settings.json");
    let mut cfg = Config::new("127.0.0.1:0".parse().unwrap(), dir.join("data"));
    if settings.exists() {
        cfg.settings = Some(settings);
    }
    let sites = dir.join("sites.json");
    if sites.exists() {
        cfg.sites = Some(sites);
    }
    cfg.manual = manual.clone();
    cfg.renderer = renderer;
    cfg.durability = embedded::Durability::Normal;
    cfg.workers_per_queue = 1;
    cfg.sla_interval = Duration::from_secs(3600);
    onething::start(cfg).await.expect("runtime starts")
}

/// Family A's form for their `n`-th newborn (birth order `n` of a ninefold birth): a
/// newborn of its own, for tests that need several live cases.
/// How many certificate PDFs an archive bundle's manifest lists.
pub fn pdfs_in(bundle: &Value) -> usize {
    bundle["manifest"]["files"]
        .as_array()
        .expect("a manifest")
        .iter()
        .filter(|f| f["content_type"] == "application/pdf")
        .count()
}

pub fn newborn(n: usize) -> Value {
    let mut f = form_a();
    f["newborn"]["birth_order"] = json!(n);
    f["newborn"]["multiple_birth"] = json!(9);
    f
}

/// The step named `name` of a case as the API shows it.
pub fn step<'a>(case: &'a Value, name: &str) -> &'a Value {
    case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name}"))
}

pub fn uuid_key() -> String {
    format!(
        "k-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// A clock this many days ahead of the real one (the SLA monitor's next days).
pub struct DaysLater(pub i64);
impl ports::Clock for DaysLater {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::days(self.0)
    }
}
