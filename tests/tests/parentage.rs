//! Parents and consent, from the hostile side: a stranger who names himself the father,
//! a squatter, a parent who did not apply, and the police who void a fraud.

use crate::helpers::*;
use serde_json::{json, Value};

/// Family C (张伟 and 刘芳, no marriage record), or anyone naming himself its father.
fn family_c(father: &str) -> Value {
    with_parents(form_a(), Some(("张伟", father)), ("刘芳", MOTHER_C))
}

fn kinds(case: &Value) -> Vec<String> {
    case["notifications"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| n["kind"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A stranger who knows a mother's ID number and her baby's birth applies as its father:
/// his case waits for her confirmation, allocates nothing, holds no claim on the newborn
/// and reveals nothing; the mother lists it, reads it without his ID number, and ends it
/// in one call.
#[tokio::test]
async fn a_stranger_as_father_gets_a_case_that_allocates_nothing_and_the_mother_ends_it() {
    let app = TestApp::start().await;
    let stranger = app.guardian(FATHER_D);
    let r = app
        .submit(&stranger, &uuid_key(), &family_c(FATHER_D))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["status"], "awaiting_confirmation");
    let id = r.body["case_id"].as_str().unwrap().to_string();
    // Nothing runs: no acceptance, no department's step, no result, no certificate.
    app.wait_notifications(&id, &stranger, 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let case = app.case(&id, &stranger).await;
    assert_eq!(case["status"], "awaiting_confirmation");
    for s in case["steps"].as_array().unwrap() {
        assert_eq!(s["status"], "pending", "{s}");
    }
    assert_eq!(case["acceptance_notice"], Value::Null);
    assert!(case["results"]["birth_certificate_number"].is_null());
    assert_eq!(
        case["missing"],
        json!([]),
        "no notice tells him about her records"
    );
    let certs = app
        .get(&format!("/v1/cases/{id}/certificates"), &stranger)
        .await;
    assert_eq!(certs.body["certificates"], json!([]));
    assert_eq!(
        kinds(&case),
        vec!["awaiting_confirmation", "confirmation_requested"]
    );
    // Nobody's queue holds it.
    let tasks = app
        .get("/v1/tasks?status=open", &app.hospital_officer("H330106001"))
        .await;
    assert!(!tasks.body.to_string().contains(&id));
    // A second stranger's attempt is accepted the same way: it says nothing about the first.
    let other = app.guardian(FATHER_E);
    let r = app.submit(&other, &uuid_key(), &family_c(FATHER_E)).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let other_id = r.body["case_id"].as_str().unwrap().to_string();

    // The mother finds both under her own account, as their mother.
    let mother = app.guardian(MOTHER_C);
    let list = app.get("/v1/cases", &mother).await.body;
    let listed: Vec<(&str, &str)> = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["case_id"].as_str().unwrap(), c["role"].as_str().unwrap()))
        .collect();
    assert!(listed.contains(&(id.as_str(), "mother")), "{listed:?}");
    assert!(
        listed.contains(&(other_id.as_str(), "mother")),
        "{listed:?}"
    );
    let seen = app.case(&id, &mother).await;
    assert!(
        !seen.to_string().contains(FATHER_D),
        "the stranger's ID number is masked"
    );
    // Nobody else may act for her: not the stranger, not another guardian.
    for who in [stranger.clone(), app.guardian(MOTHER_B)] {
        let r = app
            .post(&format!("/v1/cases/{id}/decline"), &who, &json!({}))
            .await;
        assert!([403, 404].contains(&r.status), "{}", r.body);
    }
    let r = app
        .post(
            &format!("/v1/cases/{id}/confirm-parent"),
            &app.guardian(MOTHER_B),
            &json!({}),
        )
        .await;
    assert_eq!(
        r.status, 404,
        "a guardian the case does not name cannot tell it exists"
    );
    // One call ends it; the stranger is told, in words none of which are his.
    let r = app
        .post(
            &format!("/v1/cases/{id}/decline"),
            &mother,
            &json!({"reason": "不认识此人"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "withdrawn");
    let case = app.wait_notifications(&id, &stranger, 3).await;
    assert_eq!(kinds(&case).last().map(String::as_str), Some("declined"));
    assert!(!case["notifications"].to_string().contains("不认识此人"));
    // Her own application ends the other unconfirmed one, and is accepted at once.
    let mut own = family_c(FATHER_C);
    own["applicant"] = json!({"name": "刘芳", "id_number": MOTHER_C, "relation": "mother",
                              "phone": "13700000000"});
    let r = app.submit(&mother, &uuid_key(), &own).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["status"], "submitted");
    assert_eq!(app.case(&other_id, &other).await["status"], "withdrawn");
}

/// The father's application waits for the mother: his own confirmation does not stand in
/// for hers; hers starts acceptance and claims the newborn, so a second confirmed case
/// for the same baby is refused.
#[tokio::test]
async fn only_the_mothers_confirmation_lets_a_fathers_application_be_accepted() {
    let app = TestApp::start().await;
    let father = app.guardian(FATHER_C);
    let r = app.submit(&father, &uuid_key(), &family_c(FATHER_C)).await;
    assert_eq!(r.body["status"], "awaiting_confirmation", "{}", r.body);
    let id = r.body["case_id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/v1/cases/{id}/confirm-parent"),
            &father,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["status"], "awaiting_confirmation",
        "his word is not hers"
    );
    let mother = app.guardian(MOTHER_C);
    let r = app
        .post(
            &format!("/v1/cases/{id}/confirm-parent"),
            &mother,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "submitted");
    // Acceptance runs: the one notice asks for the marriage certificate (registering with
    // an unmarried father).
    let case = app.wait_for(&id, &father, "incomplete").await;
    assert!(
        case["missing"].to_string().contains("marriage_certificate"),
        "{}",
        case["missing"]
    );
    // Confirming again changes nothing; she may not decline a case she confirmed.
    let r = app
        .post(
            &format!("/v1/cases/{id}/confirm-parent"),
            &mother,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .post(&format!("/v1/cases/{id}/decline"), &mother, &json!({}))
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    // Another man's application for the same baby waits too; her confirmation of it is
    // refused while the confirmed case lives, and she is told which case holds the baby.
    let r = app
        .submit(&app.guardian(FATHER_D), &uuid_key(), &family_c(FATHER_D))
        .await;
    let second = r.body["case_id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/v1/cases/{second}/confirm-parent"),
            &mother,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "duplicate_newborn");
    assert_eq!(r.body["error"]["existing_case_id"], id.as_str());
    assert_eq!(
        app.case(&second, &mother).await["status"],
        "awaiting_confirmation"
    );
}

/// The mother objects to a case her husband filed: the police review it, with her
/// objection as the reason, even though every rule would have passed it automatically.
#[tokio::test]
async fn a_mothers_objection_sends_the_case_to_the_police() {
    let app = TestApp::start_with(&["hospital"]).await;
    let father = app.guardian(FATHER_A);
    let id = app.apply(&father, &form_a()).await;
    let r = app
        .post(
            &format!("/v1/cases/{id}/object"),
            &app.guardian(MOTHER_A),
            &json!({"reason": "孩子的姓名未经我同意"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let hospital = app.task_for("hospital", &id).await;
    app.decide("hospital", &hospital, "approve", &[]).await;
    // Every rule passes this married family, yet the police's step waits for an officer,
    // whose task says why.
    let police = app.task_for("police", &id).await;
    assert!(
        police["findings"]
            .to_string()
            .contains("孩子的姓名未经我同意"),
        "{police}"
    );
}

/// The police void a fraudulent case that completed: its certificates are revoked (and
/// verification says so), its numbers superseded and never issued again, the newborn is
/// free for the real family, and the applicant and the mother are told.
#[tokio::test]
async fn a_police_officer_voids_a_fraudulent_case_and_every_effect_is_revoked() {
    let app = TestApp::start().await;
    let father = app.guardian(FATHER_A);
    let id = app.apply(&father, &form_a()).await;
    let done = app.wait_for(&id, &father, "completed").await;
    let number = done["results"]["newborn_id_number"]
        .as_str()
        .unwrap()
        .to_string();
    let certs = app
        .get(&format!("/v1/cases/{id}/certificates"), &father)
        .await
        .body;
    let first = certs["certificates"][0].clone();
    // Who may not: the family, another city's police (for whom the case does not
    // exist), another department that handled it.
    let far = app.scoped(
        "dept_officer",
        Some("police"),
        "p-wz",
        (Some("3303"), None, None),
    );
    for (who, status) in [
        (father.clone(), 403),
        (far, 404),
        (app.officer("hrss"), 403),
    ] {
        let r = app
            .post(
                &format!("/v1/cases/{id}/void"),
                &who,
                &json!({"reason": "虚假申请"}),
            )
            .await;
        assert_eq!(r.status, status, "{}", r.body);
    }
    let police = app.scoped(
        "dept_officer",
        Some("police"),
        "p-xh",
        (Some("330106"), None, None),
    );
    let r = app
        .post(
            &format!("/v1/cases/{id}/void"),
            &police,
            &json!({"reason": "冒名申请，经核实"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "voided");
    let r = app
        .post(
            &format!("/v1/cases/{id}/void"),
            &police,
            &json!({"reason": "再次"}),
        )
        .await;
    assert_eq!(r.status, 409);
    let case = app.case(&id, &father).await;
    assert_eq!(case["status"], "voided");
    let superseded = case["results"]["superseded"].to_string();
    assert!(superseded.contains(&number), "{superseded}");
    let certs = app
        .get(&format!("/v1/cases/{id}/certificates"), &father)
        .await
        .body;
    for c in certs["certificates"].as_array().unwrap() {
        assert_eq!(c["status"], "revoked", "{c}");
    }
    // A relying party with only the QR code's URL learns it is revoked.
    let url = first["verify_url"].as_str().unwrap();
    let path = &url[url.find("/v1/verify").unwrap()..];
    let v = app.raw("GET", path, None, &[], Default::default()).await;
    assert_eq!(v.body["valid"], false, "{}", v.body);
    assert_eq!(v.body["status"], "revoked");
    // The applicant and the mother were told.
    let mut k = vec![];
    for _ in 0..200 {
        k = kinds(&app.case(&id, &father).await);
        if k.iter().any(|x| x == "voided") && k.iter().any(|x| x == "voided_to_parent") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(k.iter().any(|x| x == "voided_to_parent"), "{k:?}");
    // The real family applies again: accepted, and never the voided number.
    let mut own = form_a();
    own["applicant"] = json!({"name": "李梅", "id_number": MOTHER_A, "relation": "mother",
                              "phone": "13700000000"});
    let mother = app.guardian(MOTHER_A);
    let again = app.apply(&mother, &own).await;
    let case = app.wait_for(&again, &mother, "completed").await;
    assert_ne!(case["results"]["newborn_id_number"], number.as_str());
}
