//! Manual review: officers approve, return for correction (the case resumes at that
//! department), or reject; stale decisions are refused.

use crate::helpers::*;
use serde_json::{json, Value};

const ALL: [&str; 5] = [
    "service_center",
    "hospital",
    "police",
    "medical_insurance",
    "hrss",
];

fn step_status(case: &Value, name: &str) -> String {
    case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap()["status"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Approve every task in flow order until the case completes, except that `return_at`
/// returns once; the guardian corrects and resubmits; the case resumes there.
async fn drive_with_return(app: &TestApp, return_at: &str, n: usize) {
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &newborn(n)).await;
    let order = [
        ("service_center", "acceptance"),
        ("hospital", "birth_certificate"),
        ("police", "household_registration"),
        ("medical_insurance", "medical_insurance"),
        ("hrss", "social_security_card"),
        ("service_center", "unified_issuance"),
    ];
    let mut returned = false;
    let mut i = 0;
    while i < order.len() {
        let (dept, stepname) = order[i];
        let task = app.task_for(dept, &id).await;
        assert_eq!(task["step"], stepname);
        if dept == return_at && !returned && stepname != "unified_issuance" {
            let before = app.case(&id, &g).await;
            let r = app
                .decide(dept, &task, "return", &["新生儿姓名有误，请更正"])
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            let case = app.case(&id, &g).await;
            let expected_status = if stepname == "acceptance" {
                "incomplete"
            } else {
                "returned"
            };
            assert_eq!(case["status"], expected_status);
            assert_eq!(step_status(&case, stepname), "returned");
            // Earlier results stay; the guardian corrects the form and resubmits (a
            // correction no earlier result depends on: the newborn's name is certified by
            // the hospital, so after the hospital it is the applicant's phone).
            let correction = if i <= 1 {
                json!({"newborn": {"name": "王小河"}})
            } else {
                json!({"applicant": {"phone": "13900000000"}})
            };
            let r = app
                .post(
                    &format!("/v1/cases/{id}/resubmit"),
                    &g,
                    &json!({ "corrections": correction }),
                )
                .await;
            assert_eq!(r.status, 202, "{}", r.body);
            assert_eq!(
                r.body["current_step"], stepname,
                "resumes at the returning department"
            );
            let case = app.case(&id, &g).await;
            if i <= 1 {
                assert_eq!(case["form"]["newborn"]["name"], "王小河");
            } else {
                assert_eq!(case["form"]["applicant"]["phone"], "13900000000");
            }
            for (_, earlier) in &order[..i] {
                assert_eq!(step_status(&case, earlier), "done", "{earlier} stays done");
            }
            assert_eq!(
                case["results"].as_object().unwrap().len(),
                before["results"].as_object().unwrap().len()
            );
            returned = true;
            continue; // the same department reviews again
        }
        let r = app.decide(dept, &task, "approve", &[]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        i += 1;
    }
    let case = app.wait_for(&id, &g, "completed").await;
    assert!(returned);
    assert!(case["results"]["newborn_id_number"].is_string());
    let timeline: Vec<&str> = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(timeline.contains(&"returned") || timeline.contains(&"incomplete"));
    assert!(timeline.contains(&"resubmitted"));
}

#[tokio::test]
async fn return_and_resubmit_at_each_department() {
    let app = TestApp::start_with(&ALL).await;
    for (n, dept) in ALL.into_iter().enumerate() {
        drive_with_return(&app, dept, n + 1).await;
    }
}

#[tokio::test]
async fn rejection_ends_the_case_and_keeps_issued_results() {
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let task = app.task_for("police", &id).await;
    // Reasons are required to reject.
    let r = app.decide("police", &task, "reject", &[]).await;
    assert_eq!(r.status, 400);
    let r = app
        .decide("police", &task, "reject", &["不符合落户政策"])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let case = app.wait_for(&id, &g, "rejected").await;
    assert_eq!(step_status(&case, "household_registration"), "rejected");
    assert_eq!(step_status(&case, "birth_certificate"), "done");
    assert!(
        case["results"]["birth_certificate_number"].is_string(),
        "issued results stay valid"
    );
    assert!(case["results"]["newborn_id_number"].is_null());
    assert!(case["archive"].is_object());
    let kinds: Vec<&str> = case["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"rejected"));
    // A rejected case cannot be resubmitted.
    let r = app
        .post(&format!("/v1/cases/{id}/resubmit"), &g, &json!({}))
        .await;
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn stale_and_concurrent_decisions_get_409() {
    let app = TestApp::start_with(&["hospital"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let task = app.task_for("hospital", &id).await;
    let mut stale = task.clone();
    stale["version"] = json!(task["version"].as_u64().unwrap() - 1);
    assert_eq!(
        app.decide("hospital", &stale, "approve", &[]).await.status,
        409
    );
    // Two officers at once: exactly one wins.
    let (a, b) = tokio::join!(
        app.decide("hospital", &task, "approve", &[]),
        app.decide("hospital", &task, "return", &["x"])
    );
    let mut codes = vec![a.status, b.status];
    codes.sort();
    assert_eq!(codes, vec![200, 409]);
    // Deciding an already decided task: 409.
    assert_eq!(
        app.decide("hospital", &task, "approve", &[]).await.status,
        409
    );
}

#[tokio::test]
async fn tasks_list_only_own_department_oldest_due_first() {
    let app = TestApp::start_with(&["hospital", "police"]).await;
    let g = app.guardian(FATHER_A);
    let a = app.apply(&g, &newborn(1)).await;
    let b = app.apply(&g, &newborn(2)).await;
    let ta = app.task_for("hospital", &a).await;
    app.task_for("hospital", &b).await;
    // Police see none of the hospital's tasks, and cannot decide them.
    let police = app
        .get("/v1/tasks?status=open", &app.officer("police"))
        .await;
    assert!(police.body["tasks"].as_array().unwrap().is_empty());
    let r = app.decide("police", &ta, "approve", &[]).await;
    assert_eq!(r.status, 404);
    let hosp = app.get("/v1/tasks", &app.officer("hospital")).await;
    let dues: Vec<&str> = hosp.body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["due_at"].as_str().unwrap())
        .collect();
    let mut sorted = dues.clone();
    sorted.sort();
    assert_eq!(dues, sorted);
    for t in hosp.body["tasks"].as_array().unwrap() {
        assert_eq!(t["dept"], "hospital");
        for k in [
            "task_id",
            "case_id",
            "step",
            "created_at",
            "due_at",
            "version",
            "summary",
        ] {
            assert!(!t[k].is_null(), "{k}");
        }
    }
}

#[tokio::test]
async fn an_officer_who_opened_the_materials_can_still_decide_on_the_version_they_loaded() {
    let app = TestApp::start_with(&["hospital"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &newborn(1)).await;
    let mid = app.upload(&id, &g, "other").await;
    let task = app.task_for("hospital", &id).await;
    // Opening a material is recorded on the case (a new version) ...
    let hospital = app.officer("hospital");
    for _ in 0..2 {
        let r = app
            .get(&format!("/v1/cases/{id}/materials/{mid}"), &hospital)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let case = app.case(&id, &g).await;
    assert!(case["version"].as_u64() > task["version"].as_u64());
    // ... and is how an officer reviews: the decision on what they loaded stands.
    let r = app.decide("hospital", &task, "approve", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Anything else that changed the case makes that decision stale.
    let other = app.apply(&g, &newborn(2)).await;
    let task = app.task_for("hospital", &other).await;
    let r = app
        .get(&format!("/v1/cases/{other}/materials/{mid}"), &hospital)
        .await;
    assert_eq!(r.status, 404, "a material of another case");
    app.upload(&other, &g, "other").await;
    let r = app.decide("hospital", &task, "approve", &[]).await;
    assert_eq!(r.status, 409, "{}", r.body);
}
