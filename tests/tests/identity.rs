//! One newborn, one identity: results that stay legally right on real families — one
//! live case per newborn, who may apply, birth records, county codes in force, one
//! notice, corrections that keep every result agreeing with the final form, premiums,
//! hand-overs, and Chinese texts for citizens.

use crate::helpers::*;
use serde_json::{json, Value};

fn at_window(mut f: Value, channel: &str) -> Value {
    f["channel"] = json!(channel);
    // A window files under its own site: the default windows' (see `testkit::tokens`).
    let site = match channel {
        "hospital" => "浙江大学医学院附属妇产科医院",
        _ => "西湖区行政服务中心",
    };
    f["window"] = json!({"site": site, "number": "12"});
    f.as_object_mut().unwrap().remove("delivery");
    f
}

fn codes(r: &Resp) -> Vec<(String, String)> {
    r.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["field"].as_str().unwrap().to_string(),
                d["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_second_application_for_one_newborn_is_refused_from_every_channel_and_either_parent() {
    let app = TestApp::start_with(&["police"]).await;
    let father = app.guardian(FATHER_A);
    let id = app.apply(&father, &form_a()).await;

    // The mother, online: she is named in the case, so she is told which.
    let mother = app.guardian(MOTHER_A);
    let mut f = form_a();
    f["applicant"] = json!({"name": "李梅", "id_number": MOTHER_A, "relation": "mother",
                            "phone": "13900000000"});
    let r = app.submit(&mother, &uuid_key(), &f).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "duplicate_newborn");
    assert_eq!(r.body["error"]["existing_case_id"], id.as_str());
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("新生儿"));

    // A window officer of the service centre: told which.
    let r = app
        .submit(
            &app.window("service_center"),
            &uuid_key(),
            &at_window(form_a(), "service_center"),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["error"]["existing_case_id"], id.as_str());

    // Someone else naming himself the father of the same baby (no marriage binds him to
    // her): his application waits for the mother's confirmation and holds nothing, so
    // its answer says nothing about the family's case.
    let stranger = app.guardian(FATHER_C);
    let f = with_parents(form_a(), Some(("张伟", FATHER_C)), ("李梅", MOTHER_A));
    let r = app.submit(&stranger, &uuid_key(), &f).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["status"], "awaiting_confirmation");
    let squat = r.body["case_id"].as_str().unwrap().to_string();

    // Returned by the police, the father withdraws; the newborn is free again and the
    // mother applies.
    let task = app.task_for("police", &id).await;
    app.decide("police", &task, "return", &["请由母亲申请随母落户"])
        .await;
    app.wait_for(&id, &father, "returned").await;
    // Told so far: accepted, the hospital's hand-over, returned.
    let told = 3;
    app.wait_notifications(&id, &father, told).await;
    let r = app
        .post(
            &format!("/v1/cases/{id}/withdraw"),
            &father,
            &json!({"reason": "改由母亲申请"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "withdrawn");
    app.wait_for(&id, &father, "withdrawn").await;
    let case = app.wait_notifications(&id, &father, told + 1).await;
    let kinds: Vec<&str> = case["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.last(), Some(&"withdrawn"));
    let mut f = form_a();
    f["applicant"] = json!({"name": "李梅", "id_number": MOTHER_A, "relation": "mother",
                            "phone": "13900000000"});
    let second = app.apply(&mother, &f).await;
    // Her own application ended the stranger's unconfirmed one.
    assert_eq!(app.case(&squat, &stranger).await["status"], "withdrawn");
    let task = app.task_for("police", &second).await;
    app.decide("police", &task, "approve", &[]).await;
    let case = app.wait_for(&second, &mother, "completed").await;
    // One newborn, one certificate: the number the hospital issued in the first case.
    assert_eq!(
        case["results"]["birth_certificate_number"],
        app.case(&id, &father).await["results"]["birth_certificate_number"]
    );
    // A withdrawn case cannot be withdrawn or resubmitted again.
    let r = app
        .post(&format!("/v1/cases/{id}/withdraw"), &father, &json!({}))
        .await;
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn of_concurrent_applications_for_one_newborn_exactly_one_is_accepted() {
    let app = TestApp::start().await;
    let record = testkit::family::birth_record(&form_a());
    let r = app
        .post("/v1/births", &app.hospital_system(&record), &record)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let father = app.guardian(FATHER_A);
    let mother = app.guardian(MOTHER_A);
    let mut by_mother = form_a();
    by_mother["applicant"] = json!({"name": "李梅", "id_number": MOTHER_A,
                                    "relation": "mother", "phone": "13900000000"});
    let by_father = form_a();
    let (a, b, c, d) = tokio::join!(
        app.submit_unrecorded(&father, "c-1", &by_father),
        app.submit_unrecorded(&mother, "c-2", &by_mother),
        app.submit_unrecorded(&father, "c-3", &by_father),
        app.submit_unrecorded(&mother, "c-4", &by_mother),
    );
    let statuses = [a.status, b.status, c.status, d.status];
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        3,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn online_only_a_parent_applies_and_only_as_themselves() {
    let app = TestApp::start().await;
    // A "guardian" online: refused, pointing to the window.
    let g = app.guardian(FATHER_C);
    let mut f = form_a();
    f["applicant"] = json!({"name": "张伟", "id_number": FATHER_C, "relation": "guardian",
                            "phone": "13900000000"});
    let r = app.submit(&g, &uuid_key(), &f).await;
    assert_eq!(r.status, 400);
    assert!(codes(&r).contains(&("applicant.relation".into(), "parent_required_online".into())));
    // Applying in the father's name while signed in as someone else.
    let r = app.submit(&g, &uuid_key(), &form_a()).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        codes(&r),
        vec![("applicant.id_number".to_string(), "not_caller".to_string())]
    );
}

#[tokio::test]
async fn a_guardian_applies_at_a_window_with_proof_and_the_police_review() {
    let app = TestApp::start().await;
    let window = app.window("service_center");
    let mut f = at_window(form_a(), "service_center");
    f["applicant"] = json!({"name": "王奶奶", "id_number": "330106195001010028",
                            "relation": "guardian", "phone": "13900000000"});
    let id = app.apply(&window, &f).await;
    let case = app.wait_for(&id, &window, "incomplete").await;
    let missing: Vec<&str> = case["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["material"].as_str().unwrap())
        .collect();
    assert_eq!(missing, vec!["guardianship_proof"]);
    assert_eq!(case["missing"][0]["name"], "监护关系证明");
    app.upload(&id, &window, "guardianship_proof").await;
    let r = app
        .post(&format!("/v1/cases/{id}/resubmit"), &window, &json!({}))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let task = app.task_for("police", &id).await;
    assert!(task["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x.as_str().unwrap().contains("监护")));
}

#[tokio::test]
async fn a_resubmission_never_changes_the_applicant_or_the_newborns_identity() {
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let task = app.task_for("police", &id).await;
    assert_eq!(
        app.decide("police", &task, "return", &["请核对"])
            .await
            .status,
        200
    );
    app.wait_for(&id, &g, "returned").await;
    let resubmit = |c: Value| {
        let app = &app;
        let g = g.clone();
        let id = id.clone();
        async move {
            app.post(
                &format!("/v1/cases/{id}/resubmit"),
                &g,
                &json!({ "corrections": c }),
            )
            .await
        }
    };
    let r = resubmit(json!({"mother": {"id_number": MOTHER_C}})).await;
    assert_eq!(r.status, 400);
    assert!(codes(&r).contains(&("corrections.mother.id_number".into(), "immutable".into())));
    let r = resubmit(json!({"applicant": {"id_number": MOTHER_A, "relation": "mother"}})).await;
    assert_eq!(r.status, 400);
    assert!(codes(&r).contains(&("corrections.applicant.id_number".into(), "immutable".into())));
    let r = resubmit(json!({"newborn": {"birth_order": 2, "multiple_birth": 2}})).await;
    assert!(codes(&r).contains(&("corrections.newborn.birth_order".into(), "immutable".into())));
    // Swapping the father (the owner, who applied) for someone else.
    let r = resubmit(json!({"father": {"name": "张伟", "id_number": FATHER_C},
                            "household": {"register_with": "mother"}}))
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let case = app.case(&id, &g).await;
    assert_eq!(case["form"]["father"]["id_number"], FATHER_A);
    assert_eq!(case["status"], "returned");
}

#[tokio::test]
async fn a_birth_without_a_delivery_record_waits_for_the_hospital_and_gets_no_number_before() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let r = app.submit_unrecorded(&g, &uuid_key(), &form_a()).await;
    assert_eq!(r.status, 202);
    let id = r.body["case_id"].as_str().unwrap().to_string();
    let task = app.task_for("hospital", &id).await;
    assert!(task["findings"][0].as_str().unwrap().contains("分娩记录"));
    let case = app.case(&id, &g).await;
    assert!(case["results"]["newborn_id_number"].is_null());
    assert!(case["results"]["birth_certificate_number"].is_null());
    assert_eq!(
        app.decide("hospital", &task, "approve", &[]).await.status,
        200
    );
    let case = app.wait_for(&id, &g, "completed").await;
    assert!(case["results"]["newborn_id_number"].is_string());
}

#[tokio::test]
async fn a_delivery_record_that_differs_from_the_form_is_in_the_one_notice() {
    let app = TestApp::start().await;
    let mut record = testkit::family::birth_record(&form_a());
    record["weight_g"] = json!(3100);
    record["sex"] = json!("male");
    let r = app
        .post("/v1/births", &app.hospital_system(&record), &record)
        .await;
    assert_eq!(r.status, 201);
    let again = app
        .post("/v1/births", &app.hospital_system(&record), &record)
        .await;
    assert_eq!((again.status, &again.body), (200, &r.body));
    // Only a hospital officer records births.
    let r = app
        .post("/v1/births", &app.officer("police"), &record)
        .await;
    assert_eq!(r.status, 403);
    let g = app.guardian(FATHER_A);
    let r = app.submit_unrecorded(&g, &uuid_key(), &form_a()).await;
    let id = r.body["case_id"].as_str().unwrap().to_string();
    let case = app.wait_for(&id, &g, "incomplete").await;
    let fields: Vec<&str> = case["missing"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["field"].as_str())
        .collect();
    assert_eq!(fields, vec!["newborn.sex", "newborn.weight_g"]);
}

/// Police return; the guardian corrects the newborn's name and registers with the mother:
/// the hospital certifies again (its numbers superseded), the police register again, and
/// every result agrees with the final form.
#[tokio::test]
async fn a_correction_after_a_police_return_goes_back_to_the_earliest_dependent_step() {
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let task = app.task_for("police", &id).await;
    let before = app.case(&id, &g).await;
    let old_cert = before["results"]["birth_certificate_number"]
        .as_str()
        .unwrap()
        .to_string();
    app.decide("police", &task, "return", &["请核对新生儿姓名"])
        .await;
    app.wait_for(&id, &g, "returned").await;
    let r = app
        .post(
            &format!("/v1/cases/{id}/resubmit"),
            &g,
            &json!({"corrections": {"newborn": {"name": "王小河"},
                                    "household": {"register_with": "mother"}}}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["current_step"], "birth_certificate");
    let task = app.task_for("police", &id).await;
    assert_eq!(
        app.decide("police", &task, "approve", &[]).await.status,
        200
    );
    let case = app.wait_for(&id, &g, "completed").await;
    let cert = case["results"]["birth_certificate_number"]
        .as_str()
        .unwrap();
    assert_ne!(cert, old_cert, "the certificate was reissued");
    let superseded: Vec<(&str, &str)> = case["results"]["superseded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap(), s["value"].as_str().unwrap()))
        .collect();
    assert!(superseded.contains(&("birth_certificate_number", old_cert.as_str())));
    let nid = case["results"]["newborn_id_number"].as_str().unwrap();
    assert!(nid.starts_with("330106"), "the mother's household county");
    let sex_digit = nid.as_bytes()[16] - b'0';
    assert_eq!(sex_digit % 2, 0, "a girl");
    assert_eq!(case["form"]["newborn"]["name"], "王小河");
    assert_eq!(step(&case, "birth_certificate")["round"], 2);
}

#[tokio::test]
async fn a_retired_county_code_waits_for_a_police_officer_who_supplies_the_code_in_force() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_G);
    let f = with_parents(form_a(), Some(("钱江", FATHER_G)), ("沈月", MOTHER_G));
    let id = app.apply(&g, &f).await;
    let task = app.task_for("police", &id).await;
    assert!(task["findings"][0].as_str().unwrap().contains("330104"));
    let decide = |data: Value| {
        let body = json!({"decision": "approve", "version": task["version"], "data": data});
        let app = &app;
        let path = format!("/v1/tasks/{}/decision", task["task_id"].as_str().unwrap());
        async move { app.post(&path, &app.officer("police"), &body).await }
    };
    let r = decide(json!({})).await;
    assert_eq!(r.status, 400);
    assert!(codes(&r).contains(&("data.address_code".into(), "required".into())));
    let r = decide(json!({"address_code": "330103"})).await;
    assert!(codes(&r).contains(&("data.address_code".into(), "not_in_force".into())));
    let r = decide(json!({"address_code": "330102"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let case = app.wait_for(&id, &g, "completed").await;
    let nid = case["results"]["newborn_id_number"].as_str().unwrap();
    assert!(nid.starts_with("330102"), "{nid}");
    assert_eq!(case["results"]["household_number"], "330104000007");
}

/// A police approval gives the household's county, or another one only as an explicit
/// move with its reason, recorded in the timeline.
#[tokio::test]
async fn another_countys_code_is_an_explicit_move_with_its_reason() {
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let task = app.task_for("police", &id).await;
    let decide = |data: Value| {
        let body = json!({"decision": "approve", "version": task["version"], "data": data});
        let app = &app;
        let path = format!("/v1/tasks/{}/decision", task["task_id"].as_str().unwrap());
        async move { app.post(&path, &app.officer("police"), &body).await }
    };
    // Family A's household is in 330106 (in force): 330102 is another county.
    let r = decide(json!({"address_code": "330102"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(codes(&r).contains(&("data.move_reason".into(), "required".into())));
    let r = decide(
        json!({"address_code": "330102", "move_reason": "父母已购房迁入上城区，户口同步迁移"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let case = app.wait_for(&id, &g, "completed").await;
    let nid = case["results"]["newborn_id_number"].as_str().unwrap();
    assert!(nid.starts_with("330102"), "{nid}");
    let moved = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "county_move")
        .expect("the move is in the timeline");
    // By the county's name: the family reads the timeline.
    assert!(
        moved["detail"].as_str().unwrap().contains("杭州市上城区"),
        "{moved}"
    );
}

#[tokio::test]
async fn a_marriage_record_is_asked_only_with_the_father_and_a_commitment_may_stand_in() {
    let app = TestApp::start().await;
    // Family C has no marriage record. With the mother: nothing is missing.
    let g = app.guardian(FATHER_C);
    let mut f = with_parents(form_a(), Some(("张伟", FATHER_C)), ("刘芳", MOTHER_C));
    f["newborn"]["hospital_code"] = json!("H330302001");
    f["household"]["register_with"] = json!("mother");
    let id = app.apply(&g, &f).await;
    let case = app.wait_for(&id, &g, "completed").await;
    assert!(case["results"]["newborn_id_number"]
        .as_str()
        .unwrap()
        .starts_with("330302"));
    // With the father (twins' second: a newborn of its own): the marriage certificate,
    // or a written commitment instead, which the police then review.
    f["household"]["register_with"] = json!("father");
    f["newborn"]["birth_order"] = json!(2);
    f["newborn"]["multiple_birth"] = json!(2);
    let id = app.apply(&g, &f).await;
    let case = app.wait_for(&id, &g, "incomplete").await;
    assert_eq!(case["missing"][0]["material"], "marriage_certificate");
    assert_eq!(case["missing"][0]["alternatives"], json!(["commitment"]));
    app.upload(&id, &g, "commitment").await;
    let r = app
        .post(&format!("/v1/cases/{id}/resubmit"), &g, &json!({}))
        .await;
    assert_eq!(r.status, 202);
    let task = app.task_for("police", &id).await;
    assert!(task["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x.as_str().unwrap().contains("承诺")));
}

#[tokio::test]
async fn the_premium_comes_only_from_configuration_and_its_payment_is_recorded() {
    let app = TestApp::start_settings(&[], r#"{"premiums": []}"#).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let task = app.task_for("medical_insurance", &id).await;
    let path = format!("/v1/tasks/{}/decision", task["task_id"].as_str().unwrap());
    let mi = app.officer("medical_insurance");
    let r = app
        .post(
            &path,
            &mi,
            &json!({"decision": "approve", "version": task["version"]}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(codes(&r).contains(&("data.amount_cny".into(), "required".into())));
    let r = app
        .post(
            &path,
            &mi,
            &json!({"decision": "approve", "version": task["version"],
                    "data": {"amount_cny": 380}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let case = app.wait_for(&id, &g, "completed").await;
    let ins = &case["results"]["medical_insurance"];
    assert_eq!(ins["status"], "pending_payment");
    assert_eq!(ins["premium_notice"]["amount_cny"], 380);
    let pay_by = chrono::NaiveDate::parse_from_str(
        ins["premium_notice"]["pay_by"].as_str().unwrap(),
        "%Y-%m-%d",
    )
    .unwrap();
    assert!(pay_by >= chrono::Utc::now().date_naive() + chrono::Duration::days(29));
    let pay = json!({"paid_at": chrono::Utc::now().to_rfc3339(), "amount_cny": 380,
                     "receipt": "R2026-0001"});
    let url = format!("/v1/cases/{id}/premium-payment");
    assert_eq!(app.post(&url, &g, &pay).await.status, 403);
    // Another amount than the notice's, or a time before the enrolment that sent it, is
    // refused and records nothing.
    let mut wrong = pay.clone();
    wrong["amount_cny"] = json!(1);
    let r = app.post(&url, &mi, &wrong).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"]["details"][0]["field"], "amount_cny");
    assert!(r.body["error"]["details"][0]["message"]
        .as_str()
        .unwrap()
        .contains("380"));
    let mut early = pay.clone();
    early["paid_at"] = json!("2020-01-01T10:00:00+08:00");
    let r = app.post(&url, &mi, &early).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"]["details"][0]["code"], "before_notice");
    let case = app.case(&id, &g).await;
    assert_eq!(
        case["results"]["medical_insurance"]["status"],
        "pending_payment"
    );
    let r = app.post(&url, &mi, &pay).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["medical_insurance"]["status"], "paid");
    assert_eq!(app.post(&url, &mi, &pay).await.status, 409);
    let case = app.case(&id, &g).await;
    assert_eq!(case["results"]["medical_insurance"]["status"], "paid");
    // A payment recorded by mistake is reversed by a medical-security supervisor of the
    // region, with a reason; not by the officer who records, nor a supervisor of another
    // department or city, nor without a reason.
    let reversal = format!("/v1/cases/{id}/premium-payment/reversal");
    let why = json!({"reason": "缴费平台重复推送，非本人缴费"});
    let ms = |region: &str| {
        app.scoped(
            "supervisor",
            Some("medical_insurance"),
            "s-ms-1",
            (Some(region), None, None),
        )
    };
    assert_eq!(app.post(&reversal, &mi, &why).await.status, 403);
    assert_eq!(
        app.post(&reversal, &app.supervisor(), &why).await.status,
        403
    );
    assert_eq!(app.post(&reversal, &ms("3303"), &why).await.status, 404);
    let r = app.post(&reversal, &ms("3301"), &json!({})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app.post(&reversal, &ms("3301"), &why).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["medical_insurance"]["status"], "pending_payment");
    assert!(r.body["medical_insurance"]["payment"].is_null());
    assert_eq!(app.post(&reversal, &ms("3301"), &why).await.status, 409);
    // The timeline keeps what was reversed and why; the family is told the premium is due
    // again (a fixed text, not the supervisor's words).
    let case = app.case(&id, &g).await;
    let entry = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "premium_payment_reversed")
        .expect("the reversal is in the timeline")
        .clone();
    assert!(entry["detail"].as_str().unwrap().contains("R2026-0001"));
    let mut due = 0;
    for _ in 0..200 {
        let sent = app.sent_about(&id).await;
        due = sent
            .iter()
            .filter(|d| d.notification.kind.as_str() == "premium_due")
            .count();
        assert!(sent
            .iter()
            .all(|d| !d.notification.body.contains("重复推送")));
        if due >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(due, 2, "the premium notice again after the reversal");
    // The real payment is then recorded.
    let r = app.post(&url, &mi, &pay).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["medical_insurance"]["status"], "paid");
}

#[tokio::test]
async fn results_issued_before_a_rejection_are_handed_over_by_the_accepting_window() {
    let app = TestApp::start_with(&["police"]).await;
    let window = app.window("service_center");
    let id = app
        .apply(&window, &at_window(form_a(), "service_center"))
        .await;
    let case = app.wait_for(&id, &window, "in_progress").await;
    // Offline at the service centre the hospital's certificates are immediate (即办).
    let accepted = case["accepted_at"].as_str().unwrap()[..10].to_string();
    assert!(step(&case, "birth_certificate")["due_at"]
        .as_str()
        .unwrap()
        .starts_with(&accepted));
    let task = app.task_for("police", &id).await;
    assert_eq!(
        app.decide("police", &task, "reject", &["不符合落户政策"])
            .await
            .status,
        200
    );
    let case = app.wait_for(&id, &window, "rejected").await;
    let d = &case["results"]["deliveries"];
    assert_eq!(d.as_array().unwrap().len(), 1, "{d}");
    assert_eq!(d[0]["by"], "service_center");
    assert_eq!(d[0]["method"], "window");
    assert_eq!(d[0]["items"], json!(["出生医学证明", "预防接种证"]));
}

#[tokio::test]
async fn an_offline_applicant_who_chooses_mail_gets_mail() {
    let app = TestApp::start().await;
    let window = app.window("hospital");
    let mut f = at_window(form_a(), "hospital");
    f["delivery"] = json!({"method": "mail", "address": "杭州市西湖区文三路 1 号"});
    let id = app.apply(&window, &f).await;
    let case = app.wait_for(&id, &window, "completed").await;
    assert_eq!(case["results"]["issuance"]["method"], "mail");
    assert!(case["results"]["issuance"]["tracking_number"].is_string());
    let d = case["results"]["deliveries"].as_array().unwrap();
    assert_eq!(d.len(), 1, "offline: one hand-over at the end");
    assert_eq!(d[0]["by"], "hospital");
    assert!(d[0]["items"]
        .as_array()
        .unwrap()
        .contains(&json!("出生医学证明")));
    // Asked explicitly, hand-over at the window that took the application.
    let mut f = at_window(newborn(2), "service_center");
    f["delivery"] = json!({"method": "window"});
    let id = app.apply(&app.window("service_center"), &f).await;
    let case = app
        .wait_for(&id, &app.window("service_center"), "completed")
        .await;
    assert_eq!(case["acceptance_notice"]["delivery"]["method"], "window");
    assert_eq!(case["results"]["deliveries"][0]["method"], "window");
    assert_eq!(case["results"]["deliveries"][0]["window"], "12");
    // Window hand-over is for offline applications only.
    let mut f = form_a();
    f["delivery"] = json!({"method": "window"});
    let r = app.submit(&app.guardian(FATHER_A), &uuid_key(), &f).await;
    assert!(codes(&r).contains(&("delivery.method".into(), "window_offline_only".into())));
}

#[tokio::test]
async fn a_guardian_has_a_daily_limit_of_applications() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    for n in 1..=5 {
        app.apply(&g, &newborn(n)).await;
    }
    let r = app.submit(&g, &uuid_key(), &newborn(6)).await;
    assert_eq!(r.status, 429, "{}", r.body);
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&wait));
}

#[tokio::test]
async fn twins_second_application_reuses_what_was_uploaded_for_the_first() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_C);
    let mut f = with_parents(form_a(), Some(("张伟", FATHER_C)), ("刘芳", MOTHER_C));
    f["newborn"]["hospital_code"] = json!("H330302001");
    f["newborn"]["multiple_birth"] = json!(2);
    let first = app.apply(&g, &f).await;
    app.wait_for(&first, &g, "incomplete").await;
    app.upload(&first, &g, "marriage_certificate").await;
    let r = app
        .post(&format!("/v1/cases/{first}/resubmit"), &g, &json!({}))
        .await;
    assert_eq!(r.status, 202);
    app.task_for("police", &first).await;
    f["newborn"]["birth_order"] = json!(2);
    f["newborn"]["name"] = json!("张小二");
    let second = app.apply(&g, &f).await;
    app.task_for("police", &second).await;
    let case = app.case(&second, &g).await;
    assert!(case["missing"].as_array().unwrap().is_empty());
    assert_eq!(case["materials"][0]["kind"], "marriage_certificate");
}

/// Every text a citizen reads — error messages and field messages, the one notice, the
/// notifications — is Chinese, with no internal codes or English.
#[tokio::test]
async fn citizen_facing_texts_are_chinese_without_codes() {
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_E);
    let mut texts: Vec<String> = vec![];
    let mut bad = form_a();
    bad["channel"] = json!("fax");
    bad["mother"]["id_number"] = json!("330106199203040224");
    bad["newborn"]["weight_g"] = json!(9);
    bad["applicant"]["phone"] = json!("123");
    bad["household"] = json!({});
    for r in [
        app.submit(&g, &uuid_key(), &bad).await,
        app.submit(&g, "", &form_a()).await,
        app.get("/v1/cases/BC-NONE", &g).await,
        app.get("/v1/tasks", &g).await,
        app.raw("GET", "/v1/cases", None, &[], bytes::Bytes::new())
            .await,
        app.raw(
            "POST",
            "/v1/applications",
            Some(&g),
            &[("content-type", "text/plain"), ("idempotency-key", "x")],
            bytes::Bytes::from_static(b"x"),
        )
        .await,
        app.raw(
            "POST",
            "/v1/applications",
            Some(&g),
            &[
                ("content-type", "application/json"),
                ("idempotency-key", "x"),
            ],
            bytes::Bytes::from_static(b"{"),
        )
        .await,
    ] {
        texts.push(r.body["error"]["message"].as_str().unwrap().to_string());
        for d in r.body["error"]["details"].as_array().unwrap() {
            texts.push(d["message"].as_str().unwrap().to_string());
        }
    }
    // Family E is nobody in sharing: the one notice lists everything.
    let f = with_parents(form_a(), Some(("钱进", FATHER_E)), ("郑兰", MOTHER_E));
    let id = app.apply(&g, &f).await;
    let case = app.wait_notifications(&id, &g, 1).await;
    for m in case["missing"].as_array().unwrap() {
        texts.push(m["name"].as_str().unwrap().to_string());
        texts.push(m["reason"].as_str().unwrap().to_string());
    }
    for n in case["notifications"].as_array().unwrap() {
        texts.push(n["title"].as_str().unwrap().to_string());
        texts.push(n["body"].as_str().unwrap().to_string());
    }
    assert!(texts.len() > 15);
    let word = regex_lite_english();
    for t in &texts {
        assert!(
            t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "not Chinese: {t}"
        );
        assert!(!word(t), "English or an internal code in: {t}");
    }
}

/// A lower-case run of three or more ASCII letters (an English word or a snake_case code).
fn regex_lite_english() -> impl Fn(&str) -> bool {
    |t: &str| {
        let mut run = 0;
        for c in t.chars() {
            if c.is_ascii_lowercase() || (run > 0 && c == '_') {
                run += 1;
                if run >= 3 {
                    return true;
                }
            } else {
                run = 0;
            }
        }
        false
    }
}

/// A delivery record is accepted only from the institution it names: another hospital's
/// officer, an account bound to no institution and an unknown institution are refused,
/// and no record is stored (the real hospital's push then succeeds).
#[tokio::test]
async fn a_hospital_files_only_its_own_births() {
    let app = TestApp::start().await;
    let record = testkit::family::birth_record(&form_a());
    let code = record["institution_code"].as_str().unwrap().to_string();
    assert_ne!(code, "H330302001");
    let other_hospital = app.scoped(
        "dept_officer",
        Some("hospital"),
        "rogue",
        (Some("33"), Some("H330302001"), None),
    );
    let r = app.post("/v1/births", &other_hospital, &record).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.body["error"]["message"], "只能登记本机构的分娩记录");
    // An account bound to no institution is refused before anything is read.
    let unbound = app.scoped(
        "dept_officer",
        Some("hospital"),
        "h",
        (Some("33"), None, None),
    );
    let r = app.post("/v1/births", &unbound, &record).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "scope_required");
    let mut unknown = record.clone();
    unknown["institution_code"] = json!("H999999999");
    let r = app
        .post("/v1/births", &app.hospital_system(&unknown), &unknown)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"]["details"][0]["code"], "unknown");
    // Nothing was stored: the real hospital's push is the first.
    let r = app
        .post("/v1/births", &app.hospital_system(&record), &record)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// One birth, one record: a second institution's record of the same mother, birth minute
/// and order is refused (409) and raised to the supervision lead; the institution that
/// filed it corrects its own record until a case uses it, never what identifies the birth,
/// and no other institution can touch it.
#[tokio::test]
async fn one_birth_has_one_record_which_only_its_institution_corrects_until_a_case_uses_it() {
    let settings = r#"{"supervision_leads": [{"region": "33", "phone": "13900000002"}]}"#;
    let app = TestApp::start_settings(&[], settings).await;
    let record = testkit::family::birth_record(&form_a());
    let r = app
        .post("/v1/births", &app.hospital_system(&record), &record)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["birth_id"].as_str().unwrap().to_string();
    // A rogue account of another (real) hospital files the same birth as its own.
    let mut forged = record.clone();
    forged["institution_code"] = json!("H330302001");
    forged["sex"] = json!("female");
    let r = app
        .post("/v1/births", &app.hospital_system(&forged), &forged)
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "conflicting_record");
    let refused_id = {
        let key = format!(
            "H330302001:{}:1:{}",
            MOTHER_A,
            chrono::DateTime::parse_from_rfc3339(record["birth_time"].as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono::Utc)
                .format("%Y%m%d%H%M")
        );
        domain::sharing::birth_id(&key)
    };
    let alert = app.sent_about(&refused_id).await;
    assert_eq!(alert.len(), 1, "the supervision lead is told");
    assert_eq!(alert[0].notification.phone, "13900000002");
    assert!(!alert[0].notification.body.contains(MOTHER_A));
    // The institution corrects its entries; another cannot, and nobody changes the birth.
    let own = app.hospital_system(&record);
    let mut fixed = record.clone();
    fixed["weight_g"] = json!(3300);
    let path = format!("/v1/births/{id}");
    let r = app
        .raw(
            "PUT",
            &path,
            Some(&app.hospital_system(&forged)),
            &[("content-type", "application/json")],
            bytes::Bytes::from(forged.to_string()),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let mut moved = fixed.clone();
    moved["birth_time"] = json!("2026-11-28T09:30:00+08:00");
    let put = |body: Value| {
        let own = own.clone();
        let path = path.clone();
        let app = &app;
        async move {
            app.raw(
                "PUT",
                &path,
                Some(&own),
                &[("content-type", "application/json")],
                bytes::Bytes::from(body.to_string()),
            )
            .await
        }
    };
    let r = put(moved).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"]["details"][0]["code"], "immutable");
    let r = put(fixed.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Once the family's case holds the newborn, the record is in use.
    let g = app.guardian(FATHER_A);
    let mut f = form_a();
    f["newborn"]["weight_g"] = json!(3300);
    let case = app.submit_unrecorded(&g, &uuid_key(), &f).await;
    assert_eq!(case.status, 202, "{}", case.body);
    let mut again = fixed.clone();
    again["length_cm"] = json!(52);
    let r = put(again).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "in_use");
}

/// The applicant's phone changes only by resubmission: the timeline records it (by its
/// last digits) and the old number is told; a correction after completion cannot change
/// the applicant's name or phone.
#[tokio::test]
async fn a_changed_phone_is_told_to_the_old_number_and_only_a_resubmission_changes_it() {
    let app = TestApp::start().await;
    // Family E is not in data sharing: the one notice asks for everything.
    let g = app.guardian(FATHER_E);
    let f = with_parents(form_a(), Some(("赵强", FATHER_E)), ("钱丽", MOTHER_E));
    let id = app.apply(&g, &f).await;
    app.wait_for(&id, &g, "incomplete").await;
    let r = app
        .post(
            &format!("/v1/cases/{id}/resubmit"),
            &g,
            &json!({"corrections": {"applicant": {"phone": "13612345678"}}, "materials": []}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let mut told = vec![];
    for _ in 0..200 {
        told = app.sent_about(&id).await;
        if told
            .iter()
            .any(|d| d.notification.kind.as_str() == "phone_changed")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let change = told
        .iter()
        .find(|d| d.notification.kind.as_str() == "phone_changed")
        .expect("the old number is told");
    assert_eq!(change.notification.phone, "13900000000", "the old number");
    assert!(!change.notification.body.contains("13612345678"));
    let case = app.case(&id, &g).await;
    let entry = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "phone_changed")
        .expect("recorded in the timeline")
        .clone();
    assert!(
        entry["detail"].as_str().unwrap().contains("5678"),
        "{entry}"
    );
    assert!(!entry.to_string().contains("13612345678"), "{entry}");
    // After completion, a correction of the applicant's phone is refused.
    let done = app.apply(&app.guardian(FATHER_A), &form_a()).await;
    let owner = app.guardian(FATHER_A);
    app.wait_for(&done, &owner, "completed").await;
    let r = app
        .post(
            &format!("/v1/cases/{done}/corrections"),
            &owner,
            &json!({"corrections": {"applicant": {"phone": "13700000000"}}, "reason": "换号"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"]["details"][0]["code"], "resubmission_only");
}

/// The one notice names which of the family's own entries disagree with the delivery
/// record, never its values, and twice at most: from the second resubmission that still
/// disagrees, the hospital's officer checks instead (the record cannot be guessed).
#[tokio::test]
async fn the_delivery_record_cannot_be_guessed_by_resubmitting() {
    let app = TestApp::start().await;
    let record = testkit::family::birth_record(&form_a());
    let r = app
        .post("/v1/births", &app.hospital_system(&record), &record)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let g = app.guardian(FATHER_A);
    let mut f = form_a();
    f["newborn"]["weight_g"] = json!(3000);
    let r = app.submit_unrecorded(&g, &uuid_key(), &f).await;
    let id = r.body["case_id"].as_str().unwrap().to_string();
    let real = record["weight_g"].to_string();
    for (round, guess) in [(1, 3100), (2, 3200)] {
        let case = app.wait_for(&id, &g, "incomplete").await;
        let notice = case["missing"].to_string();
        assert!(
            notice.contains("newborn.weight_g") || notice.contains("出生体重"),
            "{notice}"
        );
        assert!(
            !notice.contains(&real),
            "round {round}: the record's value is never told"
        );
        let r = app
            .post(
                &format!("/v1/cases/{id}/resubmit"),
                &g,
                &json!({"corrections": {"newborn": {"weight_g": guess}}, "materials": []}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    // The third entry still disagrees: no third notice; the hospital's officer checks.
    let case = app.wait_for(&id, &g, "awaiting_review").await;
    assert_eq!(case["status"], "in_progress", "{}", case["status"]);
    let task = app.task_for("hospital", &id).await;
    assert!(
        task["findings"].to_string().contains("分娩记录不一致"),
        "{task}"
    );
}
