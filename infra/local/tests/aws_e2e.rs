//! The deployed system on AWS, emulated by moto: the SAM template is translated and
//! deployed, `onething serve --backend aws --stack NAME` runs the same API and handlers
//! against DynamoDB, SQS and S3, and applications travel to completion.

use bytes::Bytes;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use testkit::family::{self, FATHER_A, MOTHER_A};
use testkit::http::{Http, Resp};
use testkit::moto;
use testkit::serve::Serve;
use testkit::tools::root;

const FATHER_C: &str = "330302198808080157";
const MOTHER_C: &str = "330302198910100265";
const SECRET: &str = "aws-e2e-secret-0123456789abcdef01234567";

fn onething(m: &moto::Moto, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_onething"));
    c.args(args)
        .env("ONETHING_JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn");
    for (k, v) in m.env() {
        c.env(k, v);
    }
    c
}

fn serve(m: &moto::Moto, stack: &str, manual: &str) -> Serve {
    serve_with(m, stack, manual, "")
}

/// `onething serve --backend aws --stack STACK` against the emulator (its data dir
/// only holds the signing secret, which comes from the environment here).
fn serve_with(m: &moto::Moto, stack: &str, manual: &str, faults: &str) -> Serve {
    // One guardian submits many applications here: the per-guardian limits are raised.
    let settings = std::env::temp_dir().join(format!(
        "onething-aws-e2e-settings-{}.json",
        std::process::id()
    ));
    std::fs::write(&settings, family::LOAD_SETTINGS).unwrap();
    let settings = settings.to_str().unwrap().to_string();
    let mut args = vec![
        "--backend",
        "aws",
        "--stack",
        stack,
        "--settings",
        &settings,
    ];
    if !manual.is_empty() {
        args.extend(["--manual", manual]);
    }
    let mut envs: Vec<(String, String)> = m.env().into_iter().map(|(k, v)| (k.into(), v)).collect();
    envs.push(("ONETHING_JWT_SECRET".into(), SECRET.into()));
    // The API keeps the catalogue's latest version for a while (30 s by default); 1 s
    // here, so the test of an apply waits a second, not half a minute.
    envs.push(("ONETHING_CATALOGUE_TTL_MS".into(), "1000".into()));
    if !faults.is_empty() {
        envs.push(("ONETHING_FAULTS".into(), faults.into()));
    }
    let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
    let f = std::fs::File::create(format!("/tmp/serve-{stack}.log")).unwrap();
    envs.push(("RUST_LOG".into(), "info".into()));
    Serve::start_with(
        Path::new(env!("CARGO_BIN_EXE_onething")),
        &dir.path().join("data"),
        &args,
        envs,
        std::process::Stdio::from(f),
    )
}

fn token(role: &str, dept: Option<&str>, sub: &str) -> String {
    testkit::tokens::sign(SECRET.as_bytes(), role, dept, sub)
}

/// The smoke form's hospital's system (pushing delivery records for its institution).
fn hospital() -> String {
    testkit::tokens::hospital_system(SECRET.as_bytes(), "H330106001")
}

/// A boy born two days ago at `hospital` to these parents, for pick-up.
fn form(father: (&str, &str), mother: (&str, &str), hospital: &str) -> Value {
    let mut f = family::with_parents(family::form_a(), Some(father), mother);
    f["newborn"]["sex"] = json!("male");
    f["newborn"]["hospital_code"] = json!(hospital);
    f["delivery"] =
        json!({"method": "pickup", "address": null, "pickup_site": "西湖区行政服务中心"});
    f["applicant"]["phone"] = json!("13800000000");
    f
}

/// Submit an application (the birth recorded first) and expect it acknowledged (202);
/// the response body.
async fn apply(http: &Http, base: &str, token: &str, form: &Value, key: &str) -> Value {
    http.record_birth(base, SECRET.as_bytes(), form).await;
    let r = http
        .json(
            "POST",
            &format!("{base}/v1/applications"),
            token,
            form,
            Some(key),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    // A father no marriage record binds to the mother: she confirms in her own account
    // (on DynamoDB the confirmation's commit takes the newborn's claim).
    if r.body["status"] == "awaiting_confirmation" {
        let mother = self::token(
            "guardian",
            None,
            form["mother"]["id_number"].as_str().unwrap(),
        );
        let id = r.body["case_id"].as_str().unwrap();
        let c = http
            .json(
                "POST",
                &format!("{base}/v1/cases/{id}/confirm-parent"),
                &mother,
                &json!({}),
                None,
            )
            .await;
        assert_eq!(c.status, 200, "{}", c.body);
        assert_eq!(c.body["status"], "submitted", "{}", c.body);
    }
    r.body
}

/// Waiting for a case, over the kit's client.
trait WaitCase {
    async fn wait_case(
        &self,
        base: &str,
        id: &str,
        token: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value;
}

impl WaitCase for Http {
    async fn wait_case(
        &self,
        base: &str,
        id: &str,
        token: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let mut last = Value::Null;
        for _ in 0..300 {
            let Resp {
                status: s, body: v, ..
            } = self
                .call(
                    "GET",
                    &format!("{base}/v1/cases/{id}"),
                    Some(token),
                    &[],
                    Bytes::new(),
                )
                .await;
            if s == 503 {
                // An injected throttle: the portal retries.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            assert_eq!(s, 200, "{v}");
            if pred(&v) {
                return v;
            }
            last = v;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("case {id} never reached the expected state: {last}");
    }
}

/// The six certificates of a completed case were signed with the stack's KMS key (its id
/// is the `kid`); the API publishes it and the retired key, and verifies each; the
/// offline verifier agrees; the PDF served from S3 carries a seal KMS signed.
async fn certificates_are_signed_in_kms_and_verify(
    m: &moto::Moto,
    http: &Http,
    base: &str,
    id: &str,
    g: &str,
    outputs: &std::collections::HashMap<String, String>,
) {
    let get = |path: String, t: Option<String>| async move {
        let r = http
            .call(
                "GET",
                &format!("{base}{path}"),
                t.as_deref(),
                &[],
                Bytes::new(),
            )
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.body
    };
    let list = get(format!("/v1/cases/{id}/certificates"), Some(g.to_string())).await;
    let certs = list["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 6, "{list}");
    let keys = get("/.well-known/onething-keys.json".into(), None).await;
    let kids: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2, "the signing key and the retired one: {keys}");
    assert!(outputs["CertificateKeyArn"].ends_with(&format!("/{}", kids[0])));
    assert!(outputs["RetiredCertificateKeyArns"].ends_with(&format!("/{}", kids[1])));
    let dir = tempfile::tempdir().unwrap();
    let keys_file = dir.path().join("keys.json");
    std::fs::write(&keys_file, keys.to_string()).unwrap();
    let keys_arg = keys_file.to_str().unwrap();
    // `onething verify WHAT --keys keys.json`, as a relying party runs it.
    let verifies_offline = |what: &str| {
        let out = onething(m, &["verify", what, "--keys", keys_arg])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{said}");
    };
    for c in certs {
        let url = c["verify_url"].as_str().unwrap();
        let v = get(url[url.find("/v1/verify/").unwrap()..].to_string(), None).await;
        assert_eq!(
            (v["valid"].clone(), v["status"].clone()),
            (json!(true), json!("valid"))
        );
        verifies_offline(c["token"].as_str().unwrap());
    }
    let (status, _, pdf) = http
        .bytes(
            certs[0]["document_url"].as_str().expect("a document_url"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let file = dir.path().join("cert.pdf");
    std::fs::write(&file, &pdf).unwrap();
    verifies_offline(file.to_str().unwrap());
}

/// `onething catalogue apply | history --backend aws --stack NAME` on the stack's table.
fn catalogue_applies_to_the_stack(m: &moto::Moto, stack: &str) {
    let mut c: Value = serde_json::from_str(domain::catalogue::BUILTIN_JSON).unwrap();
    c["bundles"][0]["situations"][0]["items"][2]["working_days"] = json!(2);
    let file = std::env::temp_dir().join(format!("onething-catalogue-{}.json", std::process::id()));
    std::fs::write(&file, c.to_string()).unwrap();
    let aws = ["--backend", "aws", "--stack", stack];
    let mut args = vec![
        "catalogue",
        "apply",
        file.to_str().unwrap(),
        "--operator",
        "ops-e2e",
    ];
    args.extend(aws);
    let out = onething(m, &args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&file);
    let mut args = vec!["catalogue", "history", "--json"];
    args.extend(aws);
    let out = onething(m, &args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().last().unwrap().contains("ops-e2e"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_deploys_and_cases_complete_on_aws() {
    let m = moto::Moto::start(&root());
    let outputs = m.deploy("e2e");
    assert!(outputs.contains_key("TableName") && outputs.contains_key("CertifyBirthDlqUrl"));
    let s = serve(&m, "e2e", "");
    let http = Http::default();

    // The happy path.
    let g = token("guardian", None, FATHER_A);
    let v = apply(
        &http,
        &s.base,
        &g,
        &form(("王海", FATHER_A), ("李梅", MOTHER_A), "H330106001"),
        "aws-1",
    )
    .await;
    let id = v["case_id"].as_str().unwrap().to_string();
    let case = http
        .wait_case(&s.base, &id, &g, |c| {
            c["status"] == "completed" && !c["archive"].is_null()
        })
        .await;
    let nid = case["results"]["newborn_id_number"].as_str().unwrap();
    let parsed = domain::idnum::IdNumber::parse(nid, chrono::Utc::now().date_naive())
        .expect("valid newborn ID");
    assert_eq!(parsed.address_code(), "330106");
    assert_eq!(parsed.sex(), domain::idnum::Sex::Male);
    assert!(case["results"]["birth_certificate_number"]
        .as_str()
        .unwrap()
        .starts_with('Q'));
    assert_eq!(case["results"]["social_security_card"]["number"], nid);
    assert_eq!(case["results"]["issuance"]["method"], "pickup");
    assert!(case["archive"]["location"]
        .as_str()
        .unwrap()
        .starts_with("s3://"));
    certificates_are_signed_in_kms_and_verify(&m, &http, &s.base, &id, &g, &outputs).await;
    // Idempotent replay on DynamoDB.
    let Resp {
        status: st2,
        body: v2,
        ..
    } = http
        .json(
            "POST",
            &format!("{}/v1/applications", s.base),
            &g,
            &form(("王海", FATHER_A), ("李梅", MOTHER_A), "H330106001"),
            Some("aws-1"),
        )
        .await;
    assert_eq!((st2, v2["case_id"].clone()), (202, json!(id)));
    let Resp {
        status: _,
        body: list,
        ..
    } = http
        .call(
            "GET",
            &format!("{}/v1/cases", s.base),
            Some(&g),
            &[],
            Bytes::new(),
        )
        .await;
    assert_eq!(list["cases"].as_array().unwrap().len(), 1);

    // The operator applies a catalogue to the stack's table while it serves: the next
    // case is made under it.
    assert_eq!(case["catalogue_version"], 1);
    catalogue_applies_to_the_stack(&m, "e2e");
    // The API keeps the latest version for a few seconds (one read per application
    // otherwise): the new one is in force within that time.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let r = http
            .call(
                "GET",
                &format!("{}/v1/catalogue", s.base),
                None,
                &[],
                Bytes::new(),
            )
            .await;
        if r.body["version"] == 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "version 2 not in force: {:?}",
            r.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }

    // One notice, an upload through an S3 presigned URL, resubmission, a police review.
    let gc = token("guardian", None, FATHER_C);
    let v = apply(
        &http,
        &s.base,
        &gc,
        &form(("张伟", FATHER_C), ("刘芳", MOTHER_C), "H330302001"),
        "aws-2",
    )
    .await;
    let idc = v["case_id"].as_str().unwrap().to_string();
    let case = http
        .wait_case(&s.base, &idc, &gc, |c| c["status"] == "incomplete")
        .await;
    assert_eq!(case["missing"][0]["material"], "marriage_certificate");
    assert_eq!(
        case["catalogue_version"], 2,
        "made under the applied catalogue"
    );
    let pdf = b"%PDF-1.4 marriage certificate scan\n%%EOF\n".to_vec();
    let Resp {
        status: st,
        body: t,
        ..
    } = http
        .json(
            "POST",
            &format!("{}/v1/cases/{idc}/materials", s.base),
            &gc,
            &json!({
                "kind": "marriage_certificate",
                "content_type": "application/pdf",
                "size": pdf.len(),
            }),
            None,
        )
        .await;
    assert_eq!(st, 201, "{t}");
    let url = t["upload_url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Signature"), "a presigned S3 URL: {url}");
    // The URL is write-once: `If-None-Match: *` is signed into it.
    assert!(url.to_ascii_lowercase().contains("if-none-match"), "{url}");
    let headers: Vec<(String, String)> = t["upload_headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    assert!(
        headers.contains(&("if-none-match".into(), "*".into())),
        "{headers:?}"
    );
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let Resp {
        status: put,
        body: _,
        ..
    } = http
        .call("PUT", url, None, &headers, Bytes::from(pdf.clone()))
        .await;
    assert_eq!(put, 200);
    // Replaying the URL cannot replace the bytes.
    let mut other = pdf.clone();
    *other.last_mut().unwrap() ^= 1;
    let again = http
        .call("PUT", url, None, &headers, Bytes::from(other))
        .await;
    assert!(
        !(200..300).contains(&again.status),
        "a second PUT to the upload URL was accepted: {}",
        again.status
    );
    let Resp {
        status: st,
        body: v,
        ..
    } = http
        .json(
            "POST",
            &format!("{}/v1/cases/{idc}/resubmit", s.base),
            &gc,
            &json!({"materials": [t["material_id"]]}),
            None,
        )
        .await;
    assert_eq!(st, 202, "{v}");
    let police = token("dept_officer", Some("police"), "officer-1");
    let mut task = Value::Null;
    for _ in 0..300 {
        let Resp {
            status: _,
            body: tasks,
            ..
        } = http
            .call(
                "GET",
                &format!("{}/v1/tasks?status=open", s.base),
                Some(&police),
                &[],
                Bytes::new(),
            )
            .await;
        if let Some(t) = tasks["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["case_id"] == idc.as_str())
        {
            task = t.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !task.is_null(),
        "the uploaded marriage certificate is reviewed by the police"
    );
    // On DynamoDB a region's queue is one query by department and region prefix: the
    // Wenzhou household's task is in Wenzhou's queue, not Hangzhou's.
    assert_eq!(task["region"], "330302", "{task}");
    for (region, expected) in [("3303", true), ("330302", true), ("3301", false)] {
        let scoped = testkit::tokens::sign_scoped(
            SECRET.as_bytes(),
            "dept_officer",
            Some("police"),
            &format!("police-{region}"),
            (Some(region), None, None),
        );
        let Resp { body: tasks, .. } = http
            .call(
                "GET",
                &format!("{}/v1/tasks?status=open", s.base),
                Some(&scoped),
                &[],
                Bytes::new(),
            )
            .await;
        let listed = tasks["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["case_id"] == idc.as_str());
        assert_eq!(listed, expected, "region {region}: {tasks}");
    }
    let Resp {
        status: st,
        body: v,
        ..
    } = http
        .json(
            "POST",
            &format!(
                "{}/v1/tasks/{}/decision",
                s.base,
                task["task_id"].as_str().unwrap()
            ),
            &police,
            &json!({"decision": "approve", "version": task["version"]}),
            None,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let case = http
        .wait_case(&s.base, &idc, &gc, |c| {
            c["status"] == "completed" && !c["archive"].is_null()
        })
        .await;
    assert_eq!(case["materials"][0]["status"], "uploaded");
    assert!(
        case["archive"]["files"].as_u64().unwrap() >= 7,
        "the uploaded scan is archived"
    );
}

/// `infra/scripts/smoke STACK --api-url BASE [ARGS]` against the emulator, with `env`:
/// (passed, its report).
fn smoke(
    m: &moto::Moto,
    stack: &str,
    base: &str,
    args: &[&str],
    env: &[(&str, String)],
) -> (bool, String) {
    let mut c = Command::new(moto::venv(&root()).join("bin/python"));
    c.arg(root().join("infra/scripts/smoke"))
        .args([stack, "--api-url", base])
        .args(args);
    for (k, v) in m.env() {
        c.env(k, v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_message_reaches_its_dlq_and_ops_redrive_it() {
    let m = moto::Moto::start(&root());
    let outputs = m.deploy("poison");
    let s = serve(&m, "poison", "");
    // The post-deployment smoke check finds the stack healthy, and takes one case (born
    // this minute; the family's other newborn below was born days ago) end to end
    // through the queues.
    let dir = tempfile::tempdir().unwrap();
    let smoke_form = dir.path().join("smoke-form.json");
    let f = form(("王海", FATHER_A), ("李梅", MOTHER_A), "H330106001");
    std::fs::write(&smoke_form, serde_json::to_vec(&f).unwrap()).unwrap();
    let (ok, said) = smoke(
        &m,
        "poison",
        &s.base,
        &[
            "--case",
            smoke_form.to_str().unwrap(),
            "--case-timeout",
            "120",
        ],
        &[
            (
                "ONETHING_SMOKE_GUARDIAN_TOKEN",
                token("guardian", None, FATHER_A),
            ),
            ("ONETHING_SMOKE_HOSPITAL_TOKEN", hospital()),
        ],
    );
    assert!(ok, "{said}");
    assert!(
        said.contains("ok   the certificate keys are published"),
        "{said}"
    );
    for step in [
        "birth_certificate",
        "household_registration",
        "unified_issuance",
    ] {
        assert!(said.contains(&format!(": {step} done (")), "{step}: {said}");
    }
    assert!(said.contains("completed and archived ("), "{said}");
    assert!(
        said.contains("ok   certificate birth_medical_certificate verifies"),
        "{said}"
    );
    let sqs = aws_sdk_sqs::Client::new(&m.sdk_config().await);
    let queue = &outputs["CertifyBirthQueueUrl"];
    sqs.send_message()
        .queue_url(queue)
        .message_body(r#"{"kind":"step","case_id":"BC-NOPE","step":"birth_certificate"}"#)
        .send()
        .await
        .unwrap();
    // The rest of the traffic is not blocked.
    let http = Http::default();
    let g = token("guardian", None, FATHER_A);
    let v = apply(
        &http,
        &s.base,
        &g,
        &form(("王海", FATHER_A), ("李梅", MOTHER_A), "H330106001"),
        "p-1",
    )
    .await;
    http.wait_case(&s.base, v["case_id"].as_str().unwrap(), &g, |c| {
        c["status"] == "completed"
    })
    .await;
    // After the maximum receives the poison message is in the DLQ.
    let mut shown = String::new();
    for _ in 0..90 {
        let out = onething(
            &m,
            &[
                "dlq",
                "show",
                "certify-birth",
                "--backend",
                "aws",
                "--stack",
                "poison",
            ],
        )
        .output()
        .unwrap();
        shown = String::from_utf8_lossy(&out.stdout).to_string();
        if shown.contains("BC-NOPE") {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(shown.contains("BC-NOPE"), "dead letter listed: {shown}");
    // The smoke check now fails, naming the queue.
    let (ok, said) = smoke(&m, "poison", &s.base, &[], &[]);
    assert!(!ok, "{said}");
    assert!(
        said.contains("FAIL dead-letter queue CertifyBirth is empty"),
        "{said}"
    );
    // One entry per case.
    let out = onething(
        &m,
        &[
            "dlq",
            "show",
            "certify-birth",
            "--by-case",
            "--backend",
            "aws",
            "--stack",
            "poison",
        ],
    )
    .output()
    .unwrap();
    let grouped: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(grouped[0]["case_id"], "BC-NOPE", "{grouped}");
    assert_eq!(grouped[0]["messages"], 1, "{grouped}");
    let out = onething(
        &m,
        &[
            "dlq",
            "redrive",
            "certify-birth",
            "--backend",
            "aws",
            "--stack",
            "poison",
        ],
    )
    .output()
    .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("redrove 1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    drop(s);
}

/// The AWS adapters under injected duplicate deliveries, reordered batches and
/// throttling/5xx errors: every case completes exactly once with its own numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_aws_lose_and_duplicate_nothing() {
    let m = moto::Moto::start(&root());
    m.deploy("faults");
    let s = serve_with(&m, "faults", "", "dup=0.2,reorder=0.5,throttle=0.05");
    let http = Http::default();
    let g = token("guardian", None, FATHER_A);
    let mut ids = vec![];
    for i in 0..20u32 {
        let mut f = form(("王海", FATHER_A), ("李梅", MOTHER_A), "H330106001");
        f["newborn"]["sex"] = json!(if i.is_multiple_of(2) {
            "female"
        } else {
            "male"
        });
        // A newborn of its own each (birth orders of a ninefold birth, three days).
        f["newborn"]["birth_time"] = json!(family::born_days_ago(1 + (i % 3) as i64));
        f["newborn"]["birth_order"] = json!(1 + i / 3);
        f["newborn"]["multiple_birth"] = json!(9);
        http.record_birth(&s.base, SECRET.as_bytes(), &f).await;
        let key = format!("f-{i}");
        let mut id = None;
        for _ in 0..100 {
            let Resp {
                status: st,
                body: v,
                ..
            } = http
                .json(
                    "POST",
                    &format!("{}/v1/applications", s.base),
                    &g,
                    &f,
                    Some(&key),
                )
                .await;
            if st == 202 {
                id = v["case_id"].as_str().map(String::from);
                break;
            }
            assert_eq!(st, 503, "only an injected throttle may refuse: {v}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ids.push(id.expect("accepted"));
    }
    let mut numbers = std::collections::HashSet::new();
    for id in &ids {
        let c = http
            .wait_case(&s.base, id, &g, |c| {
                c["status"] == "completed" && !c["archive"].is_null()
            })
            .await;
        let nid = c["results"]["newborn_id_number"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            numbers.insert(nid.clone()),
            "{nid} issued twice (case {id}): {}",
            serde_json::to_string(&c["timeline"]).unwrap()
        );
        let done = c["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "step_done")
            .count();
        assert_eq!(done, 5, "each step done once");
        let completed = c["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "completed")
            .count();
        assert_eq!(completed, 1);
    }
}
