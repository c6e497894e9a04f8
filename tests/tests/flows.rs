//! The main paths: online, offline, one-notice, not accepted, ratings and complaints,
//! supervision.

use crate::helpers::*;
use chrono::{DateTime, FixedOffset, NaiveDate};
use domain::calendar::{Calendar, UnknownYearPolicy};
use domain::idnum::{IdNumber, Sex};
use serde_json::{json, Value};

fn t(v: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}"))).unwrap()
}

fn assert_complete_results(case: &Value, county: &str, sex: Sex) {
    let r = &case["results"];
    let id = r["newborn_id_number"].as_str().expect("newborn id");
    let birth = t(&case["form"]["newborn"]["birth_time"]).date_naive();
    let parsed = IdNumber::parse(id, chrono::Utc::now().date_naive()).expect("valid newborn ID");
    assert_eq!(parsed.address_code(), county, "household county code");
    assert_eq!(parsed.birth_date(), birth, "birth date");
    assert_eq!(parsed.sex(), sex, "sex parity");
    let bmc = r["birth_certificate_number"].as_str().unwrap();
    assert!(
        bmc.len() == 10
            && bmc.as_bytes()[0].is_ascii_uppercase()
            && bmc[1..].bytes().all(|b| b.is_ascii_digit()),
        "{bmc}"
    );
    assert!(r["vaccination_certificate_number"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    assert_eq!(r["medical_insurance"]["enrolled"], true);
    assert_eq!(r["medical_insurance"]["insurance_number"], id);
    assert_eq!(
        r["social_security_card"]["number"], id,
        "social security number = citizen ID"
    );
    assert!(r["issuance"]["issued_at"].is_string());
    assert!(r["household_number"].is_string());
}

#[tokio::test]
async fn online_happy_path_completes_in_one_go() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let case = app.wait_for(&id, &g, "completed").await;

    assert_complete_results(&case, "330106", Sex::Female);
    assert_eq!(case["results"]["issuance"]["method"], "mail");
    let tracking = case["results"]["issuance"]["tracking_number"]
        .as_str()
        .unwrap();
    assert!(
        tracking.starts_with("EA") && tracking.ends_with("CN") && tracking.len() == 13,
        "{tracking}"
    );
    assert_eq!(case["results"]["maternity_benefit"]["status"], "approved");
    assert!(
        case["results"]["medical_insurance"]["premium_notice"]["amount_cny"]
            .as_u64()
            .unwrap()
            > 0
    );

    // due_at is exactly 4 working days after the day of acceptance, 23:59:59 Shanghai.
    let accepted = t(&case["accepted_at"]);
    let cal = Calendar::builtin(UnknownYearPolicy::AssumeWeekdays);
    let expected = cal.add_workdays(accepted.date_naive(), 4).unwrap().date;
    let due = t(&case["due_at"]);
    assert_eq!(due.date_naive(), expected);
    assert_eq!(due.format("%H:%M:%S%:z").to_string(), "23:59:59+08:00");
    assert_eq!(case["acceptance_notice"]["due_at"], case["due_at"]);
    assert_eq!(case["acceptance_notice"]["time_limit_working_days"], 4);

    // Every step done, in order, each by its department.
    let depts: Vec<(&str, &str)> = case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["dept"].as_str().unwrap()))
        .collect();
    assert_eq!(
        depts,
        vec![
            ("acceptance", "service_center"),
            ("birth_certificate", "hospital"),
            ("household_registration", "police"),
            ("medical_insurance", "medical_insurance"),
            ("social_security_card", "hrss"),
            ("unified_issuance", "service_center")
        ]
    );
    assert!(case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "done"));
    // All four materials came from data sharing: nothing was asked of the guardian.
    let received = case["acceptance_notice"]["received_materials"]
        .as_array()
        .unwrap();
    assert_eq!(
        received
            .iter()
            .filter(|m| m["source"] == "data_sharing")
            .count(),
        4
    );
    assert!(case["materials"].as_array().unwrap().is_empty());
    // The archive exists with its manifest, and the guardian was told.
    assert!(case["archive"]["manifest_sha256"].as_str().unwrap().len() == 64);
    let case = app.wait_notifications(&id, &g, 6).await;
    let kinds: Vec<&str> = case["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    // Online, each unit hands over its own documents as soon as its step is done.
    assert_eq!(
        kinds,
        vec![
            "accepted",
            "delivered",
            "delivered",
            "premium_due",
            "delivered",
            "completed"
        ]
    );
    let by: Vec<&str> = case["results"]["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["by"].as_str().unwrap())
        .collect();
    assert_eq!(by, vec!["hospital", "police", "hrss", "service_center"]);

    // The guardian's list shows it.
    let list = app.get("/v1/cases", &g).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["cases"][0]["case_id"], id.as_str());
}

#[tokio::test]
async fn archive_holds_manifest_with_checksums() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let case = app.wait_for(&id, &g, "completed").await;
    let loc = case["archive"]["location"]
        .as_str()
        .unwrap()
        .trim_start_matches("onething-blob:")
        .to_string();
    let blobs = &app.running.as_ref().unwrap().app.blobs;
    // One object: the documents and the manifest.
    let bundle_bytes = blobs
        .get(&format!("{loc}/archive.json"))
        .await
        .unwrap()
        .expect("archive object");
    let bundle: Value = serde_json::from_slice(&bundle_bytes).unwrap();
    assert_eq!(
        application::service::sha256_hex(&bundle_bytes),
        case["archive"]["manifest_sha256"]
    );
    let files = bundle["manifest"]["files"].as_array().unwrap();
    for name in [
        "form.json",
        "case.json",
        "results.json",
        "history.json",
        "certificates.json",
    ] {
        let f = files
            .iter()
            .find(|f| f["path"] == name)
            .unwrap_or_else(|| panic!("{name} in manifest"));
        let bytes = serde_json::to_vec_pretty(&bundle["documents"][name]).unwrap();
        assert_eq!(
            application::service::sha256_hex(&bytes),
            f["sha256"],
            "{name}"
        );
    }
    assert_eq!(bundle["documents"]["case.json"]["case_id"], id.as_str());
    // The six certificates, each with its signed token.
    let certs = bundle["documents"]["certificates.json"].as_array().unwrap();
    assert_eq!(certs.len(), 6);
    assert!(certs
        .iter()
        .all(|c| c["token"].as_str().is_some_and(|t| t.contains('.'))));
    // Their sealed PDFs, inside the archive object, each as its manifest line says.
    let pdfs: Vec<&Value> = files
        .iter()
        .filter(|f| f["content_type"] == "application/pdf")
        .collect();
    assert_eq!(pdfs.len(), 6, "{files:?}");
    for f in pdfs {
        use base64::Engine;
        let path = f["path"].as_str().unwrap();
        let b64 = bundle["pdfs"][path]
            .as_str()
            .unwrap_or_else(|| panic!("{path}"));
        let pdf = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{path}");
        assert_eq!(
            application::service::sha256_hex(&pdf),
            f["sha256"],
            "{path}"
        );
        assert_eq!(f["size"], pdf.len(), "{path}");
    }
    // Write-once: the archive cannot be overwritten with other bytes.
    assert!(blobs
        .put_once(
            &format!("{loc}/archive.json"),
            b"tampered",
            "application/json"
        )
        .await
        .is_err());
}

#[tokio::test]
async fn offline_service_center_window_hands_over_an_acceptance_notice() {
    let app = TestApp::start().await;
    let w = app.window("service_center");
    let mut f = form_a();
    f["channel"] = json!("service_center");
    f["window"] = json!({"site": "西湖区行政服务中心", "number": "12"});
    f["delivery"] = Value::Null;
    let id = app.apply(&w, &f).await;
    let case = app.wait_for(&id, &w, "completed").await;
    let notice = &case["acceptance_notice"];
    assert_eq!(notice["window"]["number"], "12");
    assert_eq!(notice["window"]["site"], "西湖区行政服务中心");
    assert!(notice["accepted_by"]
        .as_str()
        .unwrap()
        .contains("window-service_center"));
    assert_eq!(notice["time_limit_working_days"], 4);
    assert!(notice["received_materials"].as_array().unwrap().len() >= 4);
    assert_eq!(notice["delivery"]["method"], "window");
    assert_eq!(case["results"]["issuance"]["method"], "window");
    assert_eq!(case["results"]["issuance"]["window"], "12");
    // The guardian (the applicant) sees the case in the app too.
    let g = app.guardian(FATHER_A);
    assert_eq!(app.case(&id, &g).await["status"], "completed");
}

#[tokio::test]
async fn offline_at_the_hospital_certificates_are_immediate() {
    let app = TestApp::start().await;
    let w = app.window("hospital");
    let mut f = form_a();
    f["channel"] = json!("hospital");
    f["window"] = json!({"site": "浙江大学医学院附属妇产科医院", "number": "3"});
    f["delivery"] = Value::Null;
    let id = app.apply(&w, &f).await;
    let case = app.wait_for(&id, &w, "completed").await;
    let bc = step(&case, "birth_certificate");
    // Immediate: due the same day it started.
    assert_eq!(
        t(&bc["due_at"]).date_naive(),
        t(&bc["started_at"]).date_naive()
    );
    assert_eq!(case["results"]["issuance"]["method"], "window");
    assert_eq!(case["results"]["issuance"]["issued_by"], "hospital");
    assert_eq!(case["acceptance_notice"]["window"]["number"], "3");
}

#[tokio::test]
async fn single_mother_registers_without_marriage_record() {
    let app = TestApp::start().await;
    let g = app.guardian(MOTHER_B);
    let mut f = with_parents(form_a(), None, ("陈静", MOTHER_B));
    f["newborn"]["sex"] = json!("male");
    f["newborn"]["hospital_code"] = json!("H330203001");
    f["delivery"] =
        json!({"method": "pickup", "address": null, "pickup_site": "海曙区行政服务中心"});
    let id = app.apply(&g, &f).await;
    let case = app.wait_for(&id, &g, "completed").await;
    assert_complete_results(&case, "330203", Sex::Male);
    assert_eq!(
        case["results"]["maternity_benefit"]["status"],
        "not_eligible"
    );
    assert_eq!(case["results"]["issuance"]["method"], "pickup");
    assert!(case["results"]["issuance"]["pickup_code"]
        .as_str()
        .unwrap()
        .starts_with('P'));
}

#[tokio::test]
async fn one_notice_lists_everything_missing_then_upload_and_resubmit_completes() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_E);
    // Family E: data sharing has no record of either parent.
    let f = with_parents(form_a(), Some(("钱进", FATHER_E)), ("郑兰", MOTHER_E));
    let id = app.apply(&g, &f).await;
    let case = app.wait_for(&id, &g, "incomplete").await;
    let mut missing: Vec<&str> = case["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["material"].as_str().unwrap())
        .collect();
    missing.sort();
    assert_eq!(
        missing,
        vec![
            "father_id_card",
            "household_register",
            "marriage_certificate",
            "mother_id_card"
        ],
        "all at once"
    );
    assert!(case["missing"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| !m["reason"].as_str().unwrap().is_empty()));
    // Before it: the father's application waited for the mother (no marriage record binds
    // them), and both were told; then the one notice, once.
    let case = app.wait_notifications(&id, &g, 3).await;
    let kinds: Vec<&str> = case["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "awaiting_confirmation",
            "confirmation_requested",
            "incomplete"
        ]
    );
    let notes: Vec<&serde_json::Value> = case["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "incomplete")
        .collect();
    for m in [
        "新生儿母亲居民身份证",
        "新生儿父亲居民身份证",
        "新生儿拟落户方居民户口簿",
        "新生儿父母结婚证",
    ] {
        assert!(
            notes[0]["body"].as_str().unwrap().contains(m),
            "the one notice names {m}"
        );
    }

    // Upload all four scans and resubmit once.
    let mut ids = vec![];
    for kind in [
        "mother_id_card",
        "father_id_card",
        "household_register",
        "marriage_certificate",
    ] {
        ids.push(app.upload(&id, &g, kind).await);
    }
    let r = app
        .post(
            &format!("/v1/cases/{id}/resubmit"),
            &g,
            &json!({"materials": ids}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    // Uploaded household register and marriage certificate: the police verify by hand.
    let case = app.wait_for(&id, &g, "awaiting_review").await;
    assert_eq!(case["status"], "in_progress");
    assert_eq!(
        step(&case, "household_registration")["status"],
        "awaiting_review"
    );
    let task = app.task_for("police", &id).await;
    assert!(!task["findings"].as_array().unwrap().is_empty());
    let body = json!({
        "decision": "approve",
        "reasons": [],
        "version": task["version"],
        "data": {"address_code": "330102", "household_number": "330102009001"},
    });
    let r = app
        .post(
            &format!("/v1/tasks/{}/decision", task["task_id"].as_str().unwrap()),
            &app.officer("police"),
            &body,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let case = app.wait_for(&id, &g, "completed").await;
    assert_complete_results(&case, "330102", Sex::Female);
    let received = case["acceptance_notice"]["received_materials"]
        .as_array()
        .unwrap();
    assert_eq!(
        received.iter().filter(|m| m["source"] == "upload").count(),
        4
    );
    assert_eq!(case["materials"].as_array().unwrap().len(), 4);
    assert!(
        case["archive"]["files"].as_u64().unwrap() >= 10,
        "materials are archived too"
    );
}

#[tokio::test]
async fn missing_marriage_record_alone_is_reported() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_C);
    let mut f = with_parents(form_a(), Some(("张伟", FATHER_C)), ("刘芳", MOTHER_C));
    f["newborn"]["hospital_code"] = json!("H330302001");
    let id = app.apply(&g, &f).await;
    let case = app.wait_for(&id, &g, "incomplete").await;
    let missing: Vec<&str> = case["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["material"].as_str().unwrap())
        .collect();
    assert_eq!(
        missing,
        vec!["marriage_certificate"],
        "only what sharing could not provide"
    );
    // Resubmitting without it is accepted as a request but acceptance says incomplete again.
    let r = app
        .post(&format!("/v1/cases/{id}/resubmit"), &g, &json!({}))
        .await;
    assert_eq!(r.status, 202);
    let case = app.wait_for(&id, &g, "incomplete").await;
    assert_eq!(case["missing"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn not_accepted_with_reasons() {
    let app = TestApp::start().await;
    // Father's household is in Shanghai: not eligible to register in Zhejiang.
    let g = app.guardian(FATHER_D);
    let f = with_parents(form_a(), Some(("赵磊", FATHER_D)), ("孙丽", MOTHER_D));
    let id = app.apply(&g, &f).await;
    let case = app.wait_for(&id, &g, "not_accepted").await;
    let reasons = step(&case, "acceptance")["reasons"].as_array().unwrap();
    assert!(
        reasons
            .iter()
            .any(|r| r.as_str().unwrap().contains("不在浙江省")),
        "{reasons:?}"
    );
    assert!(case["finished_at"].is_string());
    assert!(case["archive"].is_object(), "ended cases are archived too");
    assert_eq!(case["notifications"][0]["kind"], "not_accepted");

    // Born outside a Zhejiang midwifery institution.
    let g = app.guardian(FATHER_A);
    let mut f = form_a();
    f["newborn"]["hospital_code"] = json!("H310101001");
    let id = app.apply(&g, &f).await;
    let case = app.wait_for(&id, &g, "not_accepted").await;
    assert!(step(&case, "acceptance")["reasons"][0]
        .as_str()
        .unwrap()
        .contains("不是本省助产机构"));
}

#[tokio::test]
async fn invalid_form_lists_every_problem() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let mut f = form_a();
    f["mother"]["id_number"] = json!("330106199203040224"); // checksum
    f["newborn"]["sex"] = json!("unknown");
    f["newborn"]["weight_g"] = json!(12);
    f["applicant"]["phone"] = json!("12345");
    f["delivery"] = json!({"method": "mail"});
    f["window"] = json!({"site": "x", "number": "1"});
    let r = app.submit(&g, "bad-1", &f).await;
    assert_eq!(r.status, 400);
    let fields: Vec<&str> = r.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    for want in [
        "mother.id_number",
        "newborn.sex",
        "newborn.weight_g",
        "applicant.phone",
        "delivery.address",
        "window",
    ] {
        assert!(fields.contains(&want), "{want} in {fields:?}");
    }
    let d = r.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["field"] == "mother.id_number")
        .unwrap();
    assert_eq!(d["code"], "checksum");
    // The error never echoes the ID number.
    assert!(!r.body.to_string().contains("330106199203040224"));
    // Missing Idempotency-Key, wrong content type, malformed JSON.
    let r = app
        .raw(
            "POST",
            "/v1/applications",
            Some(&g),
            &[("content-type", "application/json")],
            form_a().to_string().into(),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = app
        .raw(
            "POST",
            "/v1/applications",
            Some(&g),
            &[("content-type", "text/plain"), ("idempotency-key", "x")],
            "{}".into(),
        )
        .await;
    assert_eq!(r.status, 415);
    let r = app
        .raw(
            "POST",
            "/v1/applications",
            Some(&g),
            &[
                ("content-type", "application/json"),
                ("idempotency-key", "x"),
            ],
            "{".into(),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "invalid_request");
}

#[tokio::test]
async fn idempotent_submission() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let a = app.submit(&g, "same-key", &form_a()).await;
    let b = app.submit(&g, "same-key", &form_a()).await;
    assert_eq!(a.status, 202);
    assert_eq!(b.status, 202);
    assert_eq!(a.body["case_id"], b.body["case_id"]);
    assert_eq!(b.headers.get("idempotent-replayed").unwrap(), "true");
    let mut other = form_a();
    other["newborn"]["name"] = json!("王小河");
    let c = app.submit(&g, "same-key", &other).await;
    assert_eq!(c.status, 409);
    let list = app.get("/v1/cases", &g).await;
    assert_eq!(list.body["cases"].as_array().unwrap().len(), 1);
    // Concurrent duplicates also make one case.
    let f = form_a();
    let (x, y) = tokio::join!(
        app.submit(&g, "race-key", &f),
        app.submit(&g, "race-key", &f)
    );
    assert_eq!(x.body["case_id"], y.body["case_id"]);
}

#[tokio::test]
async fn ratings_and_complaints() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    // Complaints can be made any time; ratings only once finished.
    let c = app
        .post(
            &format!("/v1/cases/{id}/complaints"),
            &g,
            &json!({"text": "等待时间太长"}),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    app.wait_for(&id, &g, "completed").await;
    let r = app
        .post(
            &format!("/v1/cases/{id}/rating"),
            &g,
            &json!({"level": 2, "comment": "邮寄慢"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["label"], "不满意");
    assert!(
        r.body["bad"]["return_visit_due"].is_string(),
        "bad rating gets a return visit"
    );
    assert!(r.body["bad"]["rectify_due"].is_string());
    let f = app
        .post(
            &format!("/v1/cases/{id}/rating"),
            &g,
            &json!({"level": 4, "comment": "已改进"}),
        )
        .await;
    assert_eq!(f.status, 201);
    assert_eq!(f.body["follow_up"], true);
    let third = app
        .post(&format!("/v1/cases/{id}/rating"), &g, &json!({"level": 5}))
        .await;
    assert_eq!(third.status, 409);
    let bad = app
        .post(&format!("/v1/cases/{id}/rating"), &g, &json!({"level": 7}))
        .await;
    assert_eq!(bad.status, 400);

    // The complaint was routed; its department answers it.
    let dept = c.body["dept"].as_str().unwrap().to_string();
    let cid = c.body["complaint_id"].as_str().unwrap();
    let ans = app
        .post(
            &format!("/v1/cases/{id}/complaints/{cid}/answer"),
            &app.officer(&dept),
            &json!({"answer": "已回访并改进"}),
        )
        .await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    assert_eq!(ans.body["status"], "answered");
    let again = app
        .post(
            &format!("/v1/cases/{id}/complaints/{cid}/answer"),
            &app.officer(&dept),
            &json!({"answer": "x"}),
        )
        .await;
    assert_eq!(again.status, 409);

    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    let rep = app
        .get(
            &format!(
                "/v1/supervision/report?from={}&to={}",
                today - chrono::Duration::days(1),
                today
            ),
            &app.supervisor(),
        )
        .await;
    assert_eq!(rep.status, 200, "{}", rep.body);
    assert_eq!(rep.body["ratings"]["by_level"]["2"], 1);
    assert_eq!(rep.body["ratings"]["by_level"]["4"], 1);
    assert_eq!(rep.body["complaints"]["answered"], 1);
}

#[tokio::test]
async fn supervision_report_figures_and_masking() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let done = app.apply(&g, &form_a()).await;
    app.wait_for(&done, &g, "completed").await;
    let gd = app.guardian(FATHER_D);
    let na = app
        .apply(
            &gd,
            &with_parents(form_a(), Some(("赵磊", FATHER_D)), ("孙丽", MOTHER_D)),
        )
        .await;
    app.wait_for(&na, &gd, "not_accepted").await;

    let today: NaiveDate = chrono::Utc::now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    let s = app.supervisor();
    let rep = app
        .get(
            &format!("/v1/supervision/report?from={today}&to={today}"),
            &s,
        )
        .await;
    assert_eq!(rep.status, 200, "{}", rep.body);
    let b = &rep.body;
    assert_eq!(b["cases"]["total"], 2);
    assert_eq!(b["cases"]["completed"], 1);
    assert_eq!(b["cases"]["completed_within_4_working_days"], 1);
    assert_eq!(b["materials"]["by_data_sharing"], 4);
    assert_eq!(b["archive"]["finished_cases"], 2);
    assert_eq!(b["archive"]["archived"], 2);
    let police = b["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dept"] == "police")
        .unwrap();
    assert_eq!(police["cases_handled"], 1);
    assert_eq!(police["on_time_rate_percent"], 100.0);
    assert!(police["median_handling_working_hours"].is_number());
    let per_case = b["per_case"].as_array().unwrap();
    assert_eq!(
        per_case
            .iter()
            .find(|c| c["case_id"] == done.as_str())
            .unwrap()["completed_within_4_working_days"],
        true
    );
    // No personal data in the report.
    let text = rep.body.to_string();
    for pii in [FATHER_A, MOTHER_A, FATHER_D, "王海", "李梅", "13800000000"] {
        assert!(!text.contains(pii), "report leaks {pii}");
    }
    // Supervisors see cases masked.
    let masked = app.case(&done, &s).await.to_string();
    for pii in [FATHER_A, MOTHER_A, "王海", "13800000000"] {
        assert!(!masked.contains(pii), "supervisor view leaks {pii}");
    }
    // Bad periods.
    assert_eq!(
        app.get("/v1/supervision/report?from=2026-13-01&to=2026-12-01", &s)
            .await
            .status,
        400
    );
    assert_eq!(app.get("/v1/supervision/report", &s).await.status, 400);
}

#[tokio::test]
async fn guide_healthz_and_openapi_are_public() {
    let app = TestApp::start().await;
    let h = app
        .raw("GET", "/healthz", None, &[], Default::default())
        .await;
    assert_eq!(h.status, 200);
    // The shipped notices are 2025's and 2026's: a later year (or the next 60 days
    // reaching into one) is provisional.
    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    let ahead = today + chrono::Duration::days(60);
    use chrono::Datelike;
    let known = [today.year(), ahead.year()]
        .iter()
        .all(|y| [2025, 2026].contains(y));
    let expected = if known { "complete" } else { "provisional" };
    assert_eq!(h.body["calendar"], expected, "{}", h.body);
    let g = app
        .raw("GET", "/v1/guide", None, &[], Default::default())
        .await;
    assert_eq!(g.status, 200);
    assert_eq!(g.body["time_limit"]["working_days"], 4);
    assert_eq!(g.body["materials"].as_array().unwrap().len(), 4);
    let o = app
        .raw("GET", "/openapi.json", None, &[], Default::default())
        .await;
    assert_eq!(o.status, 200);
    assert!(o.body["paths"]["/v1/applications"]["post"].is_object());
}

/// The consent step: a mother who declines data sharing is asked for every material by
/// upload in the one notice; nothing about her family is looked up, and the form keeps
/// her choice and when she made it.
#[tokio::test]
async fn without_consent_to_data_sharing_every_material_is_asked_for_by_upload() {
    let app = TestApp::start().await;
    let g = app.guardian(MOTHER_A);
    let mut f = with_parents(form_a(), None, ("李梅", MOTHER_A));
    f["consent"] = json!({"data_sharing": false});
    let id = app.apply(&g, &f).await;
    let case = app.wait_for(&id, &g, "incomplete").await;
    let mut missing: Vec<&str> = case["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["material"].as_str().unwrap())
        .collect();
    missing.sort();
    assert_eq!(missing, vec!["household_register", "mother_id_card"]);
    assert_eq!(case["form"]["consent"]["data_sharing"], false);
    assert!(case["form"]["consent"]["at"].is_string());
    // Only the hospital's delivery record was read for it.
    let lookups: Vec<Value> = app
        .audit_events()
        .into_iter()
        .filter(|e| e["cases"] == json!([id]) && e["operation"] == "data_sharing")
        .collect();
    assert!(!lookups.is_empty());
    for e in &lookups {
        assert_eq!(e["fields"], json!(["data_sharing:birth"]), "{e}");
    }
    // The same mother consenting: data sharing holds both, nothing is missing.
    let mut f2 = with_parents(newborn(2), None, ("李梅", MOTHER_A));
    f2["consent"] = json!({"data_sharing": true, "at": chrono::Utc::now().to_rfc3339()});
    let id2 = app.apply(&g, &f2).await;
    let case2 = app.wait_for(&id2, &g, "completed").await;
    assert_eq!(case2["missing"], json!([]));
}
