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
        assert_eq!(v["holder"], "王*溪", "the holder masked");
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
    for t in [tampered.as_str(), other, "not-a-token", ""] {
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
