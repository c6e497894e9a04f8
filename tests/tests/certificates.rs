//! Electronic certificates (issue 13): one per result document, signed in the write of the
//! step that issues it, verifiable by anyone online and offline with the published keys;
//! a tampered or forged token is `{"valid": false}`; a correction supersedes exactly the
//! certificates of the results it replaced.

use crate::helpers::*;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::BTreeSet;

async fn public(app: &TestApp, url: &str) -> Value {
    let r = app.raw("GET", url, None, &[], Bytes::new()).await;
    assert_eq!(r.status, 200, "{url}: {}", r.body);
    r.body
}

async fn certificates(app: &TestApp, id: &str, token: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/v1/cases/{id}/certificates"), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["certificates"].as_array().unwrap().clone()
}

/// The path and query of a verify_url (the test server's own address is in it).
fn local(url: &str) -> String {
    let at = url.find("/v1/verify/").expect("a verify path");
    url[at..].to_string()
}

#[tokio::test]
async fn a_completed_case_has_six_certificates_that_verify_online_and_offline() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let case = app.wait_for(&id, &g, "completed").await;
    let certs = certificates(&app, &id, &g).await;
    let kinds: BTreeSet<&str> = certs.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "birth_medical_certificate",
            "vaccination_certificate",
            "household_registration",
            "medical_insurance_enrolment",
            "social_security_card",
            "maternity_benefit_decision",
        ])
    );
    let bmc = certs
        .iter()
        .find(|c| c["kind"] == "birth_medical_certificate")
        .unwrap();
    assert_eq!(bmc["number"], case["results"]["birth_certificate_number"]);
    let hhr = certs
        .iter()
        .find(|c| c["kind"] == "household_registration")
        .unwrap();
    assert_eq!(hhr["number"], case["results"]["newborn_id_number"]);
    let keys = public(&app, "/.well-known/onething-keys.json").await;
    let key = &keys["keys"][0];
    assert!(key["kid"].is_string() && key["kty"] == "EC" && key["crv"] == "P-256");
    assert!(key.get("d").is_none(), "no private part is published");
    for c in &certs {
        assert_eq!(c["status"], "valid");
        assert!(!c["issuer"].as_str().unwrap().is_empty());
        let v = public(&app, &local(c["verify_url"].as_str().unwrap())).await;
        assert_eq!(v["valid"], true, "{v}");
        assert_eq!(v["status"], "valid");
        assert_eq!(v["number"], c["number"]);
        // The holder masked: the newborn, or for the maternity benefit the mother.
        let holder = if c["kind"] == "maternity_benefit_decision" {
            "李*"
        } else {
            "王*溪"
        };
        assert_eq!(v["holder"], holder, "the holder masked");
        // Offline, with the published keys only: the same claims.
        let token = c["token"].as_str().unwrap();
        let claims = application::certs::verify_token(token, &keys).expect("verifies offline");
        assert_eq!(claims.cert_id, c["cert_id"].as_str().unwrap());
        assert_eq!(json!(claims.number), c["number"]);
    }
    // A retried step issues nothing twice: the same six after a duplicate message.
    let running = app.running.as_ref().unwrap();
    application::handlers::handle(
        &running.app,
        &application::Envelope::Step {
            case_id: id.clone(),
            step: domain::Step::BirthCertificate,
        },
    )
    .await
    .unwrap();
    assert_eq!(certificates(&app, &id, &g).await.len(), 6);
    // Another guardian sees none of it.
    let other = app.guardian(MOTHER_B);
    let r = app
        .get(&format!("/v1/cases/{id}/certificates"), &other)
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn tampered_and_forged_tokens_are_reported_invalid_and_nothing_else() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.wait_for(&id, &g, "completed").await;
    let certs = certificates(&app, &id, &g).await;
    let (a, b) = (&certs[0], &certs[1]);
    let token = a["token"].as_str().unwrap();
    let cert_id = a["cert_id"].as_str().unwrap();
    // The payload changed by one character (another number, say).
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = parts[1].to_string();
    let flip = if payload.ends_with('A') { "B" } else { "A" };
    payload.replace_range(payload.len() - 1.., flip);
    let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
    // Another certificate's genuine token presented for this one.
    let other = b["token"].as_str().unwrap();
    // Another certificate's check code, and this one's with one character changed.
    let code_of = |c: &Value| {
        let url = c["verify_url"].as_str().unwrap().to_string();
        url[url.find("?t=").unwrap() + 3..].to_string()
    };
    let mut near = code_of(a);
    let last = if near.ends_with('A') { "B" } else { "A" };
    near.replace_range(near.len() - 1.., last);
    let other_code = code_of(b);
    for t in [
        tampered.as_str(),
        other,
        "not-a-token",
        "",
        &near,
        &other_code,
    ] {
        let v = public(&app, &format!("/v1/verify/{cert_id}?t={t}")).await;
        assert_eq!(v, json!({"valid": false}), "{t}");
    }
    let v = public(&app, &format!("/v1/verify/{cert_id}")).await;
    assert_eq!(v, json!({"valid": false}));
    let v = public(&app, &format!("/v1/verify/NOCASE-BMC1?t={token}")).await;
    assert_eq!(v, json!({"valid": false}));
    // Offline the same.
    let keys = public(&app, "/.well-known/onething-keys.json").await;
    assert!(application::certs::verify_token(&tampered, &keys).is_none());
    // A key the server never published signs nothing it accepts.
    let foreign = json!({"keys": []});
    assert!(application::certs::verify_token(token, &foreign).is_none());
}

#[tokio::test]
async fn a_name_correction_supersedes_exactly_the_hospitals_certificates() {
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let task = app.task_for("police", &id).await;
    let first = certificates(&app, &id, &g).await;
    let kinds: BTreeSet<&str> = first.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["birth_medical_certificate", "vaccination_certificate"]),
        "the hospital's, as soon as its step is done"
    );
    app.decide("police", &task, "return", &["请核对新生儿姓名"])
        .await;
    app.wait_for(&id, &g, "returned").await;
    let r = app
        .post(
            &format!("/v1/cases/{id}/resubmit"),
            &g,
            &json!({"corrections": {"newborn": {"name": "王小河"}}}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let task = app.task_for("police", &id).await;
    assert_eq!(
        app.decide("police", &task, "approve", &[]).await.status,
        200
    );
    app.wait_for(&id, &g, "completed").await;
    let all = certificates(&app, &id, &g).await;
    let superseded: Vec<&Value> = all.iter().filter(|c| c["status"] == "superseded").collect();
    let old_ids: BTreeSet<&str> = first
        .iter()
        .map(|c| c["cert_id"].as_str().unwrap())
        .collect();
    let superseded_ids: BTreeSet<&str> = superseded
        .iter()
        .map(|c| c["cert_id"].as_str().unwrap())
        .collect();
    assert_eq!(superseded_ids, old_ids, "exactly the hospital's first two");
    assert_eq!(all.iter().filter(|c| c["status"] == "valid").count(), 6);
    for old in superseded {
        let v = public(&app, &local(old["verify_url"].as_str().unwrap())).await;
        assert_eq!(v["valid"], true, "still our signature");
        assert_eq!(v["status"], "superseded");
        let by = v["superseded_by"].as_str().unwrap();
        let new = all.iter().find(|c| c["cert_id"] == by).unwrap();
        assert_eq!(new["kind"], old["kind"]);
        assert_eq!(new["status"], "valid");
        assert_eq!(new["holder"], "王*河", "the corrected name");
    }
}

/// A renderer that holds every page back until the test lets them go, and counts the
/// pages it has been asked for.
#[derive(Default)]
struct HeldBack {
    state: std::sync::Mutex<(bool, usize)>,
    turn: std::sync::Condvar,
}

impl HeldBack {
    fn asked(&self) -> usize {
        self.state.lock().unwrap().1
    }
    fn let_go(&self) {
        self.state.lock().unwrap().0 = true;
        self.turn.notify_all();
    }
}

impl ports::CertRenderer for HeldBack {
    fn render(&self, page: &domain::certificate::DocumentPage) -> Result<Vec<u8>, String> {
        let mut s = self.state.lock().unwrap();
        s.1 += 1;
        // Held at most a minute, so that a failing test still ends (the runtime waits
        // for its blocking threads when it stops).
        let (s, waited) = self
            .turn
            .wait_timeout_while(s, std::time::Duration::from_secs(60), |s| !s.0)
            .unwrap();
        if waited.timed_out() && !s.0 {
            return Err("held back too long".into());
        }
        Ok(format!("%PDF-1.7\n% {}\n%%EOF\n", page.title).into_bytes())
    }
}

#[tokio::test]
async fn a_case_completes_while_its_certificates_pdfs_are_still_being_rendered() {
    let renderer = std::sync::Arc::new(HeldBack::default());
    let app = TestApp::start_rendering(&["police"], renderer.clone()).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let task = app.task_for("police", &id).await;
    // The hospital's two certificates are being rendered, and held there.
    for _ in 0..500 {
        if renderer.asked() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        renderer.asked() > 0,
        "the hospital's certificates go to rendering"
    );
    let r = app.decide("police", &task, "approve", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut case = Value::Null;
    for _ in 0..500 {
        case = app.case(&id, &g).await;
        if case["status"] == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        case["status"], "completed",
        "no PDF is rendered yet: {case}"
    );
    // The PDFs follow once rendering goes on (a family asking for them before waits for
    // theirs to be rendered); the archive waits for them.
    renderer.let_go();
    let done = app.wait_for(&id, &g, "completed").await;
    assert!(!done["archive"].is_null());
    let certs = certificates(&app, &id, &g).await;
    let url = certs[0]["document_url"].as_str().expect("a document_url");
    let (status, pdf) = app.download(url).await;
    assert_eq!(status, 200);
    assert!(pdf.starts_with(b"%PDF-1.7\n% "), "the held renderer's page");
}

/// A relying party with only the QR code: a short URL that opens a Chinese page in a
/// browser and answers JSON to a client that asks for it, the holder masked.
#[tokio::test]
async fn the_qr_codes_short_url_opens_a_chinese_verification_page() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.wait_for(&id, &g, "completed").await;
    for c in certificates(&app, &id, &g).await {
        let url = c["verify_url"].as_str().unwrap();
        assert!(url.len() < 100, "{} characters: {url}", url.len());
        assert!(!url.contains(c["token"].as_str().unwrap()));
        let path = local(url);
        let json = app
            .raw(
                "GET",
                &path,
                None,
                &[("accept", "application/json")],
                Bytes::new(),
            )
            .await;
        assert_eq!(json.body["valid"], true, "{}", json.body);
        let (masked, full) = if c["kind"] == "maternity_benefit_decision" {
            ("李*", "李梅")
        } else {
            ("王*溪", "王小溪")
        };
        assert_eq!(json.body["holder"], masked);
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        let (status, headers, page) = app.page(&path, browser).await;
        assert_eq!(status, 200);
        assert!(headers
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with("text/html")));
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("证照真实有效"), "{page}");
        assert!(
            page.contains(masked) && !page.contains(full),
            "the holder masked: {page}"
        );
        assert!(page.contains(c["number"].as_str().unwrap()));
        assert!(!page.contains("\"valid\""), "a page, not JSON");
    }
    // A wrong code: the page says it could not verify, and nothing else.
    let certs = certificates(&app, &id, &g).await;
    let cert_id = certs[0]["cert_id"].as_str().unwrap();
    let (status, _, page) = app
        .page(
            &format!("/v1/verify/{cert_id}?t=AAAAAAAAAAAAAAAA"),
            "text/html",
        )
        .await;
    assert_eq!(status, 200);
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("未能核验") && !page.contains(certs[0]["number"].as_str().unwrap()));
}
