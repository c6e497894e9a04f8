//! The people who work the cases: regions, materials, assisted handling, feedback
//! inboxes, escalation, paged lists.

use crate::helpers::*;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::HashSet;

/// Family F: Gongshu district (330105), born at the Hangzhou maternity hospital.
fn family_f() -> Value {
    let mut f = with_parents(
        form_a(),
        Some(("周强", "330103198505050191")),
        ("吴敏", "330105198606060201"),
    );
    f["newborn"]["hospital_code"] = json!("H330105001");
    f
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["case_id"].as_str().unwrap().to_string())
        .collect()
}

/// A county's police officer sees and decides only the tasks of households in their
/// county; a city officer sees the city's; another city's officer sees none.
#[tokio::test]
async fn a_county_officer_sees_and_decides_only_their_countys_tasks() {
    let app = TestApp::start_with(&["police"]).await;
    let xihu = app.apply(&app.guardian(FATHER_A), &form_a()).await;
    let gongshu = app
        .apply(&app.guardian("330103198505050191"), &family_f())
        .await;
    app.task_for("police", &xihu).await;
    let task_f = app.task_for("police", &gongshu).await;
    let police = |region: &str| {
        app.scoped(
            "dept_officer",
            Some("police"),
            &format!("p-{region}"),
            (Some(region), None, None),
        )
    };
    let county = police("330106");
    let tasks = app.get("/v1/tasks", &county).await;
    assert_eq!(ids(&tasks.body, "tasks"), vec![xihu.clone()]);
    assert_eq!(tasks.body["tasks"][0]["region"], "330106");
    assert_eq!(tasks.body["next_cursor"], Value::Null);
    let mut city = ids(&app.get("/v1/tasks", &police("3301")).await.body, "tasks");
    city.sort();
    let mut both = vec![xihu.clone(), gongshu.clone()];
    both.sort();
    assert_eq!(city, both);
    assert!(ids(&app.get("/v1/tasks", &police("3302")).await.body, "tasks").is_empty());
    // Another county's case and task do not exist for the Xihu officer.
    assert_eq!(
        app.get(&format!("/v1/cases/{gongshu}"), &county)
            .await
            .status,
        404
    );
    let decide = format!("/v1/tasks/{}/decision", task_f["task_id"].as_str().unwrap());
    let body = json!({"decision": "approve", "version": task_f["version"]});
    assert_eq!(app.post(&decide, &county, &body).await.status, 404);
    // The Gongshu officer decides it; the case shows where each step is handled.
    assert_eq!(
        app.post(&decide, &police("330105"), &body).await.status,
        200
    );
    let case = app.get(&format!("/v1/cases/{xihu}"), &county).await.body;
    let police_step = case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "household_registration")
        .unwrap()
        .clone();
    assert_eq!(police_step["region"], "330106");
    // Supervisors likewise: a Wenzhou supervisor does not see a Hangzhou case.
    let sup = |region: &str| app.scoped("supervisor", None, "s-1", (Some(region), None, None));
    assert_eq!(
        app.get(&format!("/v1/cases/{xihu}"), &sup("3303"))
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&format!("/v1/cases/{xihu}"), &sup("3301"))
            .await
            .status,
        200
    );
}

/// A hospital officer works only their own hospital's births.
#[tokio::test]
async fn a_hospital_officer_works_only_their_hospitals_births() {
    let app = TestApp::start_with(&["hospital"]).await;
    let a = app.apply(&app.guardian(FATHER_A), &form_a()).await;
    let f = app
        .apply(&app.guardian("330103198505050191"), &family_f())
        .await;
    app.task_for("hospital", &a).await;
    app.task_for("hospital", &f).await;
    let officer = |code: &str| {
        app.scoped(
            "dept_officer",
            Some("hospital"),
            &format!("h-{code}"),
            (Some("33"), Some(code), None),
        )
    };
    let list = app.get("/v1/tasks", &officer("H330106001")).await;
    assert_eq!(ids(&list.body, "tasks"), vec![a.clone()]);
    let list = app.get("/v1/tasks", &officer("H330105001")).await;
    assert_eq!(ids(&list.body, "tasks"), vec![f.clone()]);
    assert_eq!(
        app.get(&format!("/v1/cases/{a}"), &officer("H330105001"))
            .await
            .status,
        404
    );
}

/// Acceptance and issuance of a hospital-channel case belong to the hospital: in manual
/// mode its acceptance task is in the hospital's queue, not the service centre's.
#[tokio::test]
async fn a_hospital_window_application_is_accepted_and_issued_by_the_hospital() {
    let app = TestApp::start_with(&["hospital"]).await;
    let mut f = form_a();
    f["channel"] = json!("hospital");
    f["window"] = json!({"site": "浙江大学医学院附属妇产科医院", "number": "3"});
    f["delivery"] = Value::Null;
    let id = app.apply(&app.window("hospital"), &f).await;
    let task = app.task_for("hospital", &id).await;
    assert_eq!(task["step"], "acceptance");
    let sc = app.get("/v1/tasks", &app.officer("service_center")).await;
    assert!(ids(&sc.body, "tasks").is_empty());
    let case = app
        .get(&format!("/v1/cases/{id}"), &app.window("hospital"))
        .await
        .body;
    for s in case["steps"].as_array().unwrap() {
        if s["step"] == "acceptance" || s["step"] == "unified_issuance" {
            assert_eq!(s["dept"], "hospital", "{}", s["step"]);
        }
    }
}

/// A case in the police's queue with one uploaded material: the app, the owner's token,
/// the case id, the material id and the material's path.
async fn a_material_in_the_police_queue() -> (TestApp, String, String, String, String) {
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.task_for("police", &id).await;
    let mid = app.upload(&id, &g, "other").await;
    let path = format!("/v1/cases/{id}/materials/{mid}");
    (app, g, id, mid, path)
}

/// The case's timeline entries recording a material given to an officer.
fn material_grants(case: &Value) -> Vec<Value> {
    case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "material_viewed")
        .cloned()
        .collect()
}

/// A department opens only the kinds of material its step checks: the hospital the
/// parents' ID cards (not the marriage certificate), the police every kind.
#[tokio::test]
async fn a_department_opens_only_the_materials_its_step_checks() {
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.task_for("police", &id).await;
    let marriage = app.upload(&id, &g, "marriage_certificate").await;
    let card = app.upload(&id, &g, "mother_id_card").await;
    let hospital = app.hospital_officer("H330106001");
    let path = |m: &str| format!("/v1/cases/{id}/materials/{m}");
    let r = app.get(&path(&marriage), &hospital).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.get("download_url").is_none());
    assert_eq!(app.get(&path(&card), &hospital).await.status, 200);
    let police = app.officer("police");
    assert_eq!(app.get(&path(&marriage), &police).await.status, 200);
    assert_eq!(app.get(&path(&card), &police).await.status, 200);
}

/// An officer whose department has a step on the case downloads a material; the grant is
/// in the timeline; the URL serves an attachment browsers do not sniff. Others cannot.
#[tokio::test]
async fn officers_download_materials_and_the_timeline_records_it() {
    let (app, g, id, mid, path) = a_material_in_the_police_queue().await;
    let r = app.get(&path, &app.officer("police")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["kind"], "other");
    let url = r.body["download_url"].as_str().unwrap();
    let file = app.raw("GET", url, None, &[], Bytes::new()).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.headers["x-content-type-options"], "nosniff");
    assert!(file.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(file.headers["content-type"], "application/pdf");
    // A tampered URL is refused.
    let forged = url.replace("signature=", "signature=0");
    assert_eq!(
        app.raw("GET", &forged, None, &[], Bytes::new())
            .await
            .status,
        403
    );
    let grants = material_grants(&app.case(&id, &g).await);
    assert_eq!(grants.len(), 1);
    assert!(grants[0]["actor"].as_str().unwrap().contains("police"));
    assert!(grants[0]["detail"].as_str().unwrap().contains(&mid));
    // The owner downloads without a timeline entry; a department without a started step,
    // a supervisor and a stranger cannot.
    assert_eq!(app.get(&path, &g).await.status, 200);
    assert_eq!(app.get(&path, &app.officer("hrss")).await.status, 404);
    assert_eq!(app.get(&path, &app.supervisor()).await.status, 403);
    assert_eq!(app.get(&path, &app.guardian(FATHER_C)).await.status, 404);
    assert_eq!(material_grants(&app.case(&id, &g).await).len(), 1);
}

/// Every grant to an officer is a timeline entry in the case's own record, so grants are
/// bounded: one officer gets at most 40 (then 409 `limit_reached`, theirs only, so one
/// officer cannot use up the case's record in a second), and after 400 in all the next
/// officer's download is refused with the reason, nothing is recorded for it, and the
/// owner still downloads.
#[tokio::test]
async fn a_case_records_at_most_400_material_grants_to_officers() {
    let (app, g, id, _, path) = a_material_in_the_police_queue().await;
    let per = domain::case::MAX_MATERIAL_GRANTS_PER_OFFICER;
    let officers = domain::case::MAX_MATERIAL_GRANTS_PER_CASE / per;
    let police = |n: usize| {
        app.scoped(
            "dept_officer",
            Some("police"),
            &format!("police-{n}"),
            (Some("33"), None, None),
        )
    };
    for n in 0..officers {
        let p = police(n);
        for i in 0..per {
            let r = app.get(&path, &p).await;
            assert_eq!(r.status, 200, "officer {n}, grant {i}: {:?}", r.body);
        }
        if n == 0 {
            let r = app.get(&path, &p).await;
            assert_eq!(r.status, 409, "{:?}", r.body);
            assert!(r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("个人上限"));
        }
    }
    let r = app.get(&path, &police(officers)).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert_eq!(r.body["error"]["code"], "limit_reached");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("400"));
    assert!(r.body.get("download_url").is_none());
    assert_eq!(app.get(&path, &g).await.status, 200);
    assert_eq!(
        material_grants(&app.case(&id, &g).await).len(),
        domain::case::MAX_MATERIAL_GRANTS_PER_CASE
    );
}

/// 人工代办: a window officer completes an offline case that was incomplete, for the family.
#[tokio::test]
async fn a_window_officer_completes_an_incomplete_offline_case_for_the_family() {
    let app = TestApp::start().await;
    let w = app.window_at("service_center", "鹿城区行政服务中心");
    let mut f = with_parents(form_a(), Some(("张伟", FATHER_C)), ("刘芳", MOTHER_C));
    f["newborn"]["hospital_code"] = json!("H330302001");
    f["channel"] = json!("service_center");
    f["window"] = json!({"site": "鹿城区行政服务中心", "number": "2"});
    f["delivery"] = Value::Null;
    let id = app.apply(&w, &f).await;
    app.wait_for(&id, &w, "incomplete").await;
    let mid = app.upload(&id, &w, "marriage_certificate").await;
    let r = app
        .post(
            &format!("/v1/cases/{id}/resubmit"),
            &w,
            &json!({"materials": [mid]}),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let case = app.case(&id, &w).await;
    assert_ne!(case["status"], "incomplete");
    assert!(case["missing"].as_array().unwrap().is_empty());
    // The service centre's step is handled in the window's county.
    let acceptance = &case["steps"][0];
    assert_eq!(acceptance["region"], "330302");
}

/// A bad rating goes to the department of the step it concerns; that department visits
/// back and rectifies, which closes it; a complaint is answered and closed. Other
/// departments and regions neither see nor touch them.
#[tokio::test]
async fn feedback_is_routed_followed_up_and_closed() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.wait_for(&id, &g, "completed").await;
    let r = app
        .post(
            &format!("/v1/cases/{id}/rating"),
            &g,
            &json!({"level": 1, "comment": "户口办得慢", "step": "household_registration"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = app
        .post(
            &format!("/v1/cases/{id}/complaints"),
            &g,
            &json!({"text": "邮寄太慢"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["dept"], "service_center");
    let police = app.officer("police");
    let inbox = app.get("/v1/feedback", &police).await;
    assert_eq!(inbox.status, 200);
    let items = inbox.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["kind"], "rating");
    assert_eq!(items[0]["step"], "household_registration");
    assert_eq!(items[0]["status"], "open");
    let fid = items[0]["feedback_id"].as_str().unwrap().to_string();
    assert!(
        app.get("/v1/feedback", &app.officer("hrss")).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let far = app.scoped(
        "dept_officer",
        Some("police"),
        "p-wz",
        (Some("3303"), None, None),
    );
    assert!(app.get("/v1/feedback", &far).await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let visit = json!({"visited_at": chrono::Utc::now().to_rfc3339(), "summary": "已电话回访"});
    let url = |action: &str| format!("/v1/feedback/{fid}/{action}");
    assert_eq!(
        app.post(&url("return-visit"), &far, &visit).await.status,
        404
    );
    assert_eq!(
        app.post(&url("return-visit"), &app.officer("hrss"), &visit)
            .await
            .status,
        404
    );
    let r = app.post(&url("return-visit"), &police, &visit).await;
    assert_eq!((r.status, r.body["status"].clone()), (200, json!("open")));
    let r = app
        .post(
            &url("rectification"),
            &police,
            &json!({"summary": "已优化审核流程"}),
        )
        .await;
    assert_eq!((r.status, r.body["status"].clone()), (200, json!("closed")));
    let open = app.get("/v1/feedback?status=open", &police).await;
    assert!(open.body["items"].as_array().unwrap().is_empty());
    let closed = app.get("/v1/feedback?status=closed", &police).await;
    assert_eq!(closed.body["items"].as_array().unwrap().len(), 1);
    // The complaint: the service centre answers it through its inbox.
    let sc = app.officer("service_center");
    let inbox = app.get("/v1/feedback", &sc).await.body;
    let complaint = inbox["items"][0].clone();
    assert_eq!(complaint["kind"], "complaint");
    let cid = complaint["feedback_id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/v1/feedback/{cid}/answer"),
            &sc,
            &json!({"text": "已加急寄出"}),
        )
        .await;
    assert_eq!((r.status, r.body["status"].clone()), (200, json!("closed")));
    let case = app.case(&id, &g).await;
    let actions: HashSet<&str> = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "bad_rating_visited",
        "bad_rating_rectified",
        "complaint_answered",
    ] {
        assert!(actions.contains(a), "{a}");
    }
    // The family was told of each follow-up (the return visit, the rectification and the
    // answer), without the department's words in the message.
    let mut told: Vec<Value> = vec![];
    for _ in 0..300 {
        let case = app.case(&id, &g).await;
        told = case["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "feedback_followed_up")
            .cloned()
            .collect();
        if told.len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(told.len(), 3, "{told:?}");
    assert!(told
        .iter()
        .all(|n| !n["body"].as_str().unwrap().contains("已加急寄出")));
}

/// A step overdue by more than a working day is escalated once, the timeline says so, and
/// the region's supervisors find it in their list (another region's do not).
#[tokio::test]
async fn an_overdue_step_is_escalated_to_its_regions_supervisors() {
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.task_for("police", &id).await;
    let running = app.running.as_ref().unwrap();
    let mut later = running.app.clone();
    later.clock = std::sync::Arc::new(DaysLater(10));
    let version = app.case(&id, &g).await["version"].as_u64().unwrap();
    let tick = application::handlers::sla_tick(&later, chrono::Duration::days(100))
        .await
        .unwrap();
    assert_eq!(tick.escalated, 1);
    assert_eq!(tick.marked_overdue, 1);
    // Marked overdue and escalated in one write.
    let after = app.case(&id, &g).await["version"].as_u64().unwrap();
    assert_eq!(after, version + 1);
    let again = application::handlers::sla_tick(&later, chrono::Duration::days(100))
        .await
        .unwrap();
    assert_eq!(again.escalated, 0, "once per round");
    let case = app.case(&id, &g).await;
    let n = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "escalated")
        .count();
    assert_eq!(n, 1);
    let supervisor = |region: &str| domain::case::Actor {
        sub: "s-1".into(),
        role: domain::Role::Supervisor,
        dept: None,
        scope: domain::case::Scope {
            region: Some(region.into()),
            ..Default::default()
        },
    };
    let page = application::paging::PageRequest::parse(None, None).unwrap();
    let list = application::service::escalations(&later, &supervisor("3301"), &page)
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].case_id, id);
    assert_eq!(list.items[0].step, domain::Step::HouseholdRegistration);
    assert!(list.items[0].overdue_working_days > 1);
    let far = application::service::escalations(&later, &supervisor("3303"), &page)
        .await
        .unwrap();
    assert!(far.items.is_empty());
    // Today nothing is overdue: the list over HTTP is empty but well-formed.
    let r = app
        .get("/v1/supervision/escalations", &app.supervisor())
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["items"], json!([]));
    assert_eq!(r.body["next_cursor"], Value::Null);
}

/// Paging returns every item exactly once across pages, and refuses bad limits and cursors.
#[tokio::test]
async fn paging_returns_every_item_exactly_once() {
    let app = TestApp::start_loaded(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let mut all = HashSet::new();
    for i in 0..23 {
        all.insert(app.apply(&g, &testkit::family::form_a_nth(i, 3)).await);
    }
    for (path, key, officer) in [
        ("/v1/cases", "cases", g.clone()),
        ("/v1/tasks", "tasks", app.officer("police")),
    ] {
        if key == "tasks" {
            for id in &all {
                app.task_for("police", id).await;
            }
        }
        let mut seen = vec![];
        let mut cursor: Option<String> = None;
        for _ in 0..10 {
            let url = match &cursor {
                Some(c) => format!("{path}?limit=7&cursor={c}"),
                None => format!("{path}?limit=7"),
            };
            let r = app.get(&url, &officer).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            let page = ids(&r.body, key);
            assert!(page.len() <= 7);
            seen.extend(page);
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(seen.len(), all.len(), "{path}: {seen:?}");
        assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), all, "{path}");
    }
    for bad in ["?limit=0", "?limit=101", "?limit=x", "?cursor=bm9wZQ"] {
        assert_eq!(
            app.get(&format!("/v1/cases{bad}"), &g).await.status,
            400,
            "{bad}"
        );
    }
    // A cursor of ours that is not a place in a queue ("k1:garbage").
    for bad in ["?cursor=bm9wZQ", "?cursor=azE6Z2FyYmFnZQ"] {
        let r = app
            .get(&format!("/v1/tasks{bad}"), &app.officer("police"))
            .await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
    }
}

/// Every POST honours an optional Idempotency-Key: a retried rating does not use up the
/// follow-up rating, a retried complaint is stored once, the same key with another body
/// is 409, and another caller's same key is theirs.
#[tokio::test]
async fn retried_posts_with_an_idempotency_key_take_effect_once() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.wait_for(&id, &g, "completed").await;
    let post = |path: String, key: &'static str, body: Value| {
        let (app, g) = (&app, g.clone());
        async move {
            app.raw(
                "POST",
                &path,
                Some(&g),
                &[
                    ("content-type", "application/json"),
                    ("idempotency-key", key),
                ],
                Bytes::from(body.to_string()),
            )
            .await
        }
    };
    let rating = format!("/v1/cases/{id}/rating");
    let first = post(rating.clone(), "rate-1", json!({"level": 5})).await;
    assert_eq!(first.status, 201);
    let again = post(rating.clone(), "rate-1", json!({"level": 5})).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body);
    assert_eq!(
        post(rating.clone(), "rate-1", json!({"level": 4}))
            .await
            .status,
        409
    );
    // The follow-up rating is still there to give.
    let follow = post(rating.clone(), "rate-2", json!({"level": 4})).await;
    assert_eq!(follow.status, 201, "{:?}", follow.body);
    assert_eq!(follow.body["follow_up"], true);
    let complaints = format!("/v1/cases/{id}/complaints");
    for _ in 0..3 {
        let r = post(complaints.clone(), "c-1", json!({"text": "请尽快寄出"})).await;
        assert_eq!(r.status, 201);
    }
    let case = app.case(&id, &g).await;
    assert_eq!(case["ratings"].as_array().unwrap().len(), 2);
    assert_eq!(case["complaints"].as_array().unwrap().len(), 1);
    // A malformed key is refused.
    let r = app
        .raw(
            "POST",
            &complaints,
            Some(&g),
            &[
                ("content-type", "application/json"),
                ("idempotency-key", &"k".repeat(129)),
            ],
            Bytes::from(json!({"text": "x"}).to_string()),
        )
        .await;
    assert_eq!(r.status, 400);
}

/// A parent's ID card that data sharing could not provide is uploaded, and the police
/// check it: the household step waits for an officer, whose task says why.
#[tokio::test]
async fn an_uploaded_parent_id_card_goes_to_the_police() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_E);
    let mut f = with_parents(form_a(), Some(("郑浩", FATHER_E)), ("冯雪", MOTHER_E));
    f["newborn"]["hospital_code"] = json!("H330106001");
    let id = app.apply(&g, &f).await;
    let case = app.wait_for(&id, &g, "incomplete").await;
    let mut uploaded = vec![];
    for m in case["missing"].as_array().unwrap() {
        let kind = m["material"].as_str().unwrap();
        if kind != "commitment" {
            uploaded.push(app.upload(&id, &g, kind).await);
        }
    }
    assert!(
        case["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["material"] == "mother_id_card"),
        "{}",
        case["missing"]
    );
    let r = app
        .post(
            &format!("/v1/cases/{id}/resubmit"),
            &g,
            &json!({"materials": uploaded}),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let task = app.task_for("police", &id).await;
    let findings = task["findings"].to_string();
    assert!(findings.contains("母亲身份证为上传材料"), "{findings}");
}

/// The supervision report covers the supervisor's region (or a narrower one they ask for)
/// and one department if asked, with figures per department and per region, and the
/// follow-ups of feedback.
#[tokio::test]
async fn the_report_is_by_region_and_department_within_the_supervisors_scope() {
    let app = TestApp::start().await;
    let a = app.apply(&app.guardian(FATHER_A), &form_a()).await;
    let f = app
        .apply(&app.guardian("330103198505050191"), &family_f())
        .await;
    let g = app.guardian(FATHER_A);
    app.wait_for(&a, &g, "completed").await;
    app.wait_for(&f, &app.guardian("330103198505050191"), "completed")
        .await;
    let r = app
        .post(
            &format!("/v1/cases/{a}/rating"),
            &g,
            &json!({"level": 2, "step": "medical_insurance"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    let url = |extra: &str| format!("/v1/supervision/report?from={today}&to={today}{extra}");
    let city = app.scoped("supervisor", None, "s-hz", (Some("3301"), None, None));
    let whole = app.get(&url(""), &city).await;
    assert_eq!(whole.status, 200, "{:?}", whole.body);
    assert_eq!(whole.body["cases"]["total"], 2);
    let regions: Vec<&str> = whole.body["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    assert!(
        regions.contains(&"330106") && regions.contains(&"330105"),
        "{regions:?}"
    );
    assert_eq!(whole.body["follow_ups"]["open"], 1);
    assert_eq!(whole.body["follow_ups"]["overdue"], 0);
    // A month on, the bad rating's return visit is overdue.
    let mut later = app.running.as_ref().unwrap().app.clone();
    later.clock = std::sync::Arc::new(DaysLater(30));
    let sup = domain::case::Actor {
        sub: "s-hz".into(),
        role: domain::Role::Supervisor,
        dept: None,
        scope: domain::case::Scope {
            region: Some("3301".into()),
            ..Default::default()
        },
    };
    let filter = application::report::ReportFilter::parse(&sup, None, None).unwrap();
    let one = application::paging::PageRequest::parse(Some("1"), None).unwrap();
    let month_on = application::report::report(&later, today, today, &filter, &one)
        .await
        .unwrap();
    assert_eq!(
        month_on["follow_ups"]["overdue"], 1,
        "{}",
        month_on["follow_ups"]
    );
    // The per-case list pages: two cases, one a page.
    let first = app.get(&url("&limit=1"), &city).await;
    let rows = first.body["per_case"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1);
    let cursor = first.body["per_case_next_cursor"].as_str().unwrap();
    let second = app
        .get(&url(&format!("&limit=1&cursor={cursor}")), &city)
        .await;
    assert_eq!(second.body["per_case"].as_array().unwrap().len(), 1);
    assert_ne!(second.body["per_case"][0]["case_id"], rows[0]["case_id"]);
    assert_eq!(second.body["per_case_next_cursor"], Value::Null);
    let xihu = app.get(&url("&region=330106"), &city).await;
    assert_eq!(xihu.body["cases"]["total"], 1);
    assert_eq!(xihu.body["per_case"][0]["case_id"], json!(a));
    let police = app.get(&url("&region=330106&dept=police"), &city).await;
    let depts: Vec<&str> = police.body["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["dept"].as_str().unwrap())
        .collect();
    assert_eq!(depts, vec!["police"]);
    assert_eq!(
        police.body["follow_ups"]["open"], 0,
        "the bad rating is medical security's"
    );
    // Outside the supervisor's own region: refused; a Wenzhou supervisor sees nothing here.
    assert_eq!(app.get(&url("&region=3303"), &city).await.status, 403);
    let wz = app.scoped("supervisor", None, "s-wz", (Some("3303"), None, None));
    assert_eq!(app.get(&url(""), &wz).await.body["cases"]["total"], 0);
    assert_eq!(app.get(&url("&dept=nope"), &city).await.status, 400);
}

/// "Joint handling executed" (8.1.3) counts the cases two or more units have done their
/// part of, finished or not: a case waiting at medical security after the hospital and the
/// police counts, though it is not completed.
#[tokio::test]
async fn joint_handling_executed_is_not_the_same_figure_as_completed() {
    let app = TestApp::start_with(&["medical_insurance"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.task_for("medical_insurance", &id).await;
    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    let rep = app
        .get(
            &format!("/v1/supervision/report?from={today}&to={today}"),
            &app.supervisor(),
        )
        .await;
    assert_eq!(rep.status, 200, "{}", rep.body);
    assert_eq!(rep.body["cases"]["completed"], 0, "{}", rep.body["cases"]);
    assert_eq!(
        rep.body["cases"]["joint_handling_executed"], 1,
        "{}",
        rep.body["cases"]
    );
}
