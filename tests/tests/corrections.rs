//! Corrections after completion (issue 13): the owner of a completed case asks; each
//! department whose result depends on the change reviews and reissues; the replaced
//! certificates become superseded; the case is archived again, naming the earlier archive.

use crate::helpers::*;
use serde_json::json;

/// A correction of the newborn's name is reviewed by every department from the
/// hospital's on: each officer approves it.
async fn approve_in_every_department(app: &TestApp, id: &str) {
    for dept in [
        "hospital",
        "police",
        "medical_insurance",
        "hrss",
        "service_center",
    ] {
        let task = app.task_for(dept, id).await;
        let d = app.decide(dept, &task, "approve", &[]).await;
        assert_eq!(d.status, 200, "{dept}: {}", d.body);
    }
}

#[tokio::test]
async fn a_name_corrected_after_completion_is_reviewed_and_reissued_by_each_department() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let done = app.wait_for(&id, &g, "completed").await;
    let first_archive = done["archive"]["location"].clone();
    assert!(first_archive.is_string());
    let old_bmc = done["results"]["birth_certificate_number"].clone();
    let old_id = done["results"]["newborn_id_number"].clone();
    let path = format!("/v1/cases/{id}/corrections");

    // Immutable fields and empty reasons are refused beside their fields.
    let r = app
        .post(
            &path,
            &g,
            &json!({"corrections": {"newborn": {"birth_time": "2026-11-20T08:00:00+08:00"}}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let fields: Vec<&str> = r.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert!(fields.contains(&"reason"), "{fields:?}");
    assert!(r.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["code"] == "immutable"));
    // No change at all.
    let same = json!({"corrections": {"newborn": {"name": "王小溪"}}, "reason": "核对"});
    let r = app.post(&path, &g, &same).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["details"][0]["code"], "no_change");
    // Only the owner.
    let other = app.guardian(MOTHER_B);
    let body = json!({"corrections": {"newborn": {"name": "王小河"}}, "reason": "姓名登记有误"});
    assert_eq!(app.post(&path, &other, &body).await.status, 404);

    let r = app.post(&path, &g, &body).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["status"], "in_review");
    let correction_id = r.body["correction_id"].as_str().unwrap().to_string();
    // A second one waits for the first.
    assert_eq!(app.post(&path, &g, &body).await.status, 409);

    // Every step from the hospital's on is reviewed by its department's officer.
    approve_in_every_department(&app, &id).await;
    let case = app.wait_for(&id, &g, "completed").await;
    assert_eq!(case["form"]["newborn"]["name"], "王小河");
    assert_ne!(
        case["results"]["birth_certificate_number"], old_bmc,
        "reissued"
    );
    assert_eq!(
        case["results"]["newborn_id_number"], old_id,
        "the ID number stays"
    );
    let c = &case["corrections"][0];
    assert_eq!(c["correction_id"], correction_id.as_str());
    assert_eq!(c["status"], "completed");
    assert!(c["finished_at"].is_string());
    assert_eq!(c["changes"], json!(["newborn.name"]));

    // Every certificate of the newborn names them (王*溪, now 王*河): those five are
    // superseded by new ones, though only the hospital's numbers changed. The maternity
    // benefit decision is the mother's and stands.
    let certs = app
        .get(&format!("/v1/cases/{id}/certificates"), &g)
        .await
        .body;
    let certs = certs["certificates"].as_array().unwrap();
    let superseded: Vec<&str> = certs
        .iter()
        .filter(|c| c["status"] == "superseded")
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(superseded.len(), 5, "{superseded:?}");
    assert!(!superseded.contains(&"maternity_benefit_decision"));
    assert_eq!(certs.iter().filter(|c| c["status"] == "valid").count(), 6);

    // Archived again, naming the first archive.
    let mut archived = case.clone();
    for _ in 0..100 {
        if archived["archive"]["location"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        archived = app.case(&id, &g).await;
    }
    let loc = archived["archive"]["location"]
        .as_str()
        .expect("archived again");
    assert_ne!(json!(loc), first_archive);
    let blobs = &app.running.as_ref().unwrap().app.blobs;
    let key = format!("{}/archive.json", loc.trim_start_matches("onething-blob:"));
    let bundle: serde_json::Value =
        serde_json::from_slice(&blobs.get(&key).await.unwrap().unwrap()).unwrap();
    assert_eq!(
        bundle["manifest"]["earlier_archives"][0]["location"],
        first_archive
    );
    assert_eq!(
        bundle["documents"]["certificates.json"]
            .as_array()
            .unwrap()
            .len(),
        11,
        "both generations of the newborn's five, and the mother's one"
    );
    // And each certificate's sealed PDF, both generations, with its checksum.
    let pdfs = pdfs_in(&bundle);
    assert_eq!(pdfs, 11);
}

#[tokio::test]
async fn a_correction_before_completion_is_refused() {
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.task_for("police", &id).await;
    let path = format!("/v1/cases/{id}/corrections");
    let body = json!({"corrections": {"newborn": {"name": "王小河"}}, "reason": "姓名有误"});
    let r = app.post(&path, &g, &body).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["error"]["code"], "not_completed");
}

#[tokio::test]
async fn a_surname_corrected_after_completion_reissues_every_certificate_even_where_numbers_stand()
{
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let done = app.wait_for(&id, &g, "completed").await;
    let body = json!({"corrections": {"newborn": {"name": "汪小溪"}}, "reason": "姓氏登记有误"});
    let r = app
        .post(&format!("/v1/cases/{id}/corrections"), &g, &body)
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    approve_in_every_department(&app, &id).await;
    let case = app.wait_for(&id, &g, "completed").await;
    assert_eq!(
        case["results"]["newborn_id_number"], done["results"]["newborn_id_number"],
        "the ID number stays"
    );
    let certs = app
        .get(&format!("/v1/cases/{id}/certificates"), &g)
        .await
        .body;
    let certs = certs["certificates"].as_array().unwrap();
    // The masked holder changed (王*溪 → 汪*溪): the newborn's five are reissued,
    // numbers or not; the mother's maternity benefit decision stands.
    assert_eq!(
        certs.iter().filter(|c| c["status"] == "superseded").count(),
        5
    );
    for c in certs.iter().filter(|c| c["status"] == "valid") {
        let holder = if c["kind"] == "maternity_benefit_decision" {
            "李*"
        } else {
            "汪*溪"
        };
        assert_eq!(c["holder"], holder, "{c}");
    }
    let hhr: Vec<&serde_json::Value> = certs
        .iter()
        .filter(|c| c["kind"] == "household_registration")
        .collect();
    assert_eq!(hhr.len(), 2);
    assert_eq!(
        hhr[0]["number"], hhr[1]["number"],
        "same number, new certificate"
    );
    assert_eq!(hhr[0]["superseded_by"], hhr[1]["cert_id"]);
}

/// A correction that does not change the insurance choices keeps the premium payment
/// already recorded: medical security's step is done again without a new payment notice.
#[tokio::test]
async fn a_recorded_premium_payment_survives_a_correction_that_leaves_insurance_alone() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let done = app.wait_for(&id, &g, "completed").await;
    let amount = done["results"]["medical_insurance"]["premium_notice"]["amount_cny"].clone();
    let pay = json!({"paid_at": chrono::Utc::now().to_rfc3339(), "amount_cny": amount,
                     "receipt": "R2026-0009"});
    let r = app
        .post(
            &format!("/v1/cases/{id}/premium-payment"),
            &app.officer("medical_insurance"),
            &pay,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let premium_notices = |c: &serde_json::Value| {
        c["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "premium_due")
            .count()
    };
    let before = premium_notices(&app.case(&id, &g).await);
    let r = app
        .post(
            &format!("/v1/cases/{id}/corrections"),
            &g,
            &json!({"corrections": {"newborn": {"name": "王小河"}}, "reason": "姓名录入有误"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    approve_in_every_department(&app, &id).await;
    let case = app.wait_for(&id, &g, "completed").await;
    let ins = &case["results"]["medical_insurance"];
    assert_eq!(ins["status"], "paid", "{ins}");
    assert_eq!(ins["payment"]["receipt"], "R2026-0009", "{ins}");
    assert_eq!(premium_notices(&case), before, "no second payment notice");
}

/// A correction after completion runs acceptance again on the corrected form: registering
/// with the father of a couple data sharing holds no marriage record for is refused with
/// everything it lacks at once, and nothing changes; with a marriage certificate uploaded
/// it goes to review, and the acceptance record says the certificate was uploaded.
#[tokio::test]
async fn a_correction_after_completion_is_accepted_again_on_the_corrected_form() {
    let app = TestApp::start().await;
    let g = app.guardian(MOTHER_C);
    let mut f = with_parents(form_a(), Some(("张伟", FATHER_C)), ("刘芳", MOTHER_C));
    f["applicant"] = json!({"name": "刘芳", "id_number": MOTHER_C, "relation": "mother",
                            "phone": "13900000000"});
    f["household"] = json!({"register_with": "mother"});
    let id = app.apply(&g, &f).await;
    let done = app.wait_for(&id, &g, "completed").await;
    let version = done["version"].as_u64().unwrap();
    let path = format!("/v1/cases/{id}/corrections");
    let to_father = json!({"corrections": {"household": {"register_with": "father"}},
                           "reason": "改为随父落户"});
    let r = app.post(&path, &g, &to_father).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let details = r.body["error"]["details"].as_array().unwrap();
    assert!(
        details
            .iter()
            .any(|d| d["field"] == "materials.marriage_certificate" && d["code"] == "missing"),
        "{details:?}"
    );
    for d in details {
        assert!(!d["message"].as_str().unwrap().is_ascii(), "{d}");
    }
    let same = app.case(&id, &g).await;
    assert_eq!(
        same["version"].as_u64().unwrap(),
        version,
        "nothing recorded"
    );
    assert_eq!(same["status"], "completed");
    assert_eq!(same["form"]["household"]["register_with"], "mother");
    // With the certificate uploaded, the correction is accepted and goes to review.
    let mid = app.upload(&id, &g, "marriage_certificate").await;
    let mut with_cert = to_father.clone();
    with_cert["materials"] = json!([mid]);
    let r = app.post(&path, &g, &with_cert).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let case = app.case(&id, &g).await;
    let received = case["acceptance_notice"]["received_materials"]
        .as_array()
        .unwrap();
    let cert = received
        .iter()
        .find(|m| m["material"] == "marriage_certificate")
        .expect("the certificate is received");
    assert_eq!(cert["source"], "upload");
}

/// A correction naming a material whose bytes never arrived is refused with that material
/// beside every other problem of the request, and records nothing.
#[tokio::test]
async fn a_correction_naming_a_material_never_uploaded_is_refused_with_its_other_problems() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let done = app.wait_for(&id, &g, "completed").await;
    let r = app
        .post(
            &format!("/v1/cases/{id}/materials"),
            &g,
            &json!({"kind": "other", "content_type": "application/pdf", "size": 300}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mid = r.body["material_id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/v1/cases/{id}/corrections"),
            &g,
            &json!({"corrections": {"newborn": {"name": "王小河"}}, "materials": [mid]}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let problems: Vec<(String, String)> = r.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["field"].as_str().unwrap().to_string(),
                d["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        problems.contains(&(format!("materials.{mid}"), "not_uploaded".into())),
        "{problems:?}"
    );
    assert!(problems.iter().any(|(f, _)| f == "reason"), "{problems:?}");
    let after = app.case(&id, &g).await;
    assert_eq!(
        after["version"],
        done["version"].as_u64().unwrap() + 1,
        "only the material's registration"
    );
    assert_eq!(after["status"], "completed");
}
