//! The 一件事 catalogue as data (standard 5.1, 动态管理): an operator applies a new
//! version and the running system uses it for new cases at once, while every case keeps
//! the items and time limits of the version it was accepted under.

use crate::helpers::*;
use chrono::{DateTime, FixedOffset, Utc};
use domain::catalogue::Catalogue;
use serde_json::{json, Value};

fn at(v: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(v.as_str().expect("a time")).expect("rfc3339")
}

/// The shipped catalogue with the police's item given `days` and the promise `promise`.
fn with_limits(days: u32, promise: u32) -> Catalogue {
    let mut c = Catalogue::builtin();
    let b = &mut c.bundles[0];
    b.promise_working_days = promise;
    let item = b.situations[0]
        .items
        .iter_mut()
        .find(|i| i.item_id == "household_registration")
        .unwrap();
    item.working_days = Some(days);
    c
}

async fn apply(app: &TestApp, c: Catalogue) -> application::service::Applied {
    let running = app.running.as_ref().expect("running");
    application::service::apply_catalogue(&running.app, c, "ops-test")
        .await
        .expect("applied")
}

/// The deadline `n` working days after `from`, as the runtime's own calendar counts it.
fn working_days_after(app: &TestApp, from: DateTime<FixedOffset>, n: u32) -> DateTime<FixedOffset> {
    let cal = &app.running.as_ref().unwrap().app.calendar;
    cal.deadline_after(from.with_timezone(&Utc), n).unwrap().0
}

#[tokio::test]
async fn a_new_time_limit_applies_to_new_cases_and_not_to_cases_already_accepted() {
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let before = app.apply(&g, &testkit::family::form_a_nth(1, 3)).await;
    app.task_for("police", &before).await;

    let applied = apply(&app, with_limits(3, 6)).await;
    assert_eq!(applied, application::service::Applied::New(2));

    let after = app.apply(&g, &testkit::family::form_a_nth(2, 3)).await;
    app.task_for("police", &after).await;
    let (old, new) = (app.case(&before, &g).await, app.case(&after, &g).await);

    assert_eq!(old["bundle"], "birth");
    assert_eq!(old["catalogue_version"], 1);
    assert_eq!(new["catalogue_version"], 2);
    let police = |c: &Value| {
        let s = step(c, "household_registration");
        (at(&s["started_at"]), at(&s["due_at"]))
    };
    let (old_start, old_due) = police(&old);
    let (new_start, new_due) = police(&new);
    assert_eq!(old_due, working_days_after(&app, old_start, 1));
    assert_eq!(new_due, working_days_after(&app, new_start, 3));
    assert_eq!(
        at(&old["due_at"]),
        working_days_after(&app, at(&old["accepted_at"]), 4)
    );
    assert_eq!(
        at(&new["due_at"]),
        working_days_after(&app, at(&new["accepted_at"]), 6)
    );
    assert_eq!(new["acceptance_notice"]["time_limit_working_days"], 6);
    assert_eq!(old["acceptance_notice"]["time_limit_working_days"], 4);

    // The old case's next item, started after the change, keeps its own version's limit.
    let task = app.task_for("police", &before).await;
    let r = app.decide("police", &task, "approve", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let done = app.wait_for(&before, &g, "completed").await;
    assert_eq!(done["catalogue_version"], 1);
}

#[tokio::test]
async fn anyone_reads_the_catalogue_in_force_and_its_guide_follows_it() {
    let app = TestApp::start().await;
    let r = app.get("/v1/catalogue", "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["version"], 1);
    let birth = &r.body["bundles"][0];
    assert_eq!(birth["bundle_id"], "birth");
    assert_eq!(birth["stage"], "出生");
    assert_eq!(birth["lead_unit"], "health");
    assert_eq!(birth["promise_working_days"], 4);
    let items = birth["situations"][0]["items"].as_array().unwrap();
    assert_eq!(items[2]["item_id"], "household_registration");
    assert_eq!(items[2]["unit"], "police");
    assert_eq!(items[2]["working_days"], 1);
    let materials = items[0]["materials"].as_array().unwrap();
    assert!(materials
        .iter()
        .any(|m| m["kind"] == "marriage_certificate" && m["commitment_allowed"] == true));

    apply(&app, with_limits(2, 5)).await;
    let r = app.get("/v1/catalogue/birth", "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.body["promise_working_days"], 5);
    assert_eq!(app.get("/v1/catalogue/nothing", "").await.status, 404);

    let guide = app.get("/v1/guide", "").await;
    assert_eq!(guide.status, 200, "{}", guide.body);
    assert_eq!(guide.body["time_limit"]["working_days"], 5);
    assert_eq!(guide.body["time_limit"]["text"], "应在 5 个工作日内办结");
    assert_eq!(guide.body["catalogue_version"], 2);
    assert_eq!(app.get("/v1/guide?bundle=nothing", "").await.status, 404);
}

#[tokio::test]
async fn an_application_for_a_bundle_that_is_not_open_is_refused_in_chinese() {
    let app = TestApp::start().await;
    // Listed in the catalogue, with an item no engine step performs (its adapter is not
    // built): its guide is served, applications are refused.
    let mut c = Catalogue::builtin();
    let mut other = c.bundles[0].clone();
    other.bundle_id = "birth_vaccination".into();
    other.name = "出生医学证明和预防接种证".into();
    other.situations[0].items[2].item_id = "vaccination_booking".into();
    c.bundles.push(other);
    assert!(c.check().is_empty(), "{:?}", c.check());
    apply(&app, c).await;
    let guide = app.get("/v1/guide?bundle=birth_vaccination", "").await;
    assert_eq!(guide.status, 200, "{}", guide.body);
    assert_eq!(guide.body["online"], false);
    let g = app.guardian(FATHER_A);
    for (bundle, code) in [
        (json!("birth_vaccination"), "bundle_not_open"),
        (json!("no_such_thing"), "unknown_bundle"),
        (json!(7), "type"),
    ] {
        let mut form = form_a();
        form["bundle"] = bundle;
        let r = app.submit(&g, &uuid_key(), &form).await;
        assert_eq!(r.status, 400, "{}", r.body);
        let problem = &r.body["error"]["details"][0];
        assert_eq!(problem["field"], "bundle", "{}", r.body);
        assert_eq!(problem["code"], code, "{}", r.body);
        assert!(!problem["message"].as_str().unwrap().is_ascii());
    }
    let mut form = form_a();
    form["bundle"] = json!("birth");
    let id = app.apply(&g, &form).await;
    assert_eq!(app.case(&id, &g).await["bundle"], "birth");
}

#[tokio::test]
async fn applying_the_same_catalogue_twice_makes_one_version_and_one_audit_event() {
    let app = TestApp::start().await;
    let first = apply(&app, with_limits(2, 4)).await;
    let again = apply(&app, with_limits(2, 4)).await;
    assert_eq!(first, application::service::Applied::New(2));
    assert_eq!(again, application::service::Applied::Unchanged(2));
    let events: Vec<Value> = app
        .audit_events()
        .into_iter()
        .filter(|e| e["operation"] == "onething catalogue apply")
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["actor"], "operator:ops-test");
    assert_eq!(events[0]["fields"], json!(["catalogue:2"]));
}

/// A 子项 of 出生 made by data alone: the hospital's certificates and the hand-over, no
/// police, insurance or card. After `apply`, with no code of its own, an application for
/// it runs end to end: the two certificates verify, the other steps are not applicable,
/// and no ID number is taken for the newborn.
#[tokio::test]
async fn a_bundle_made_only_of_data_runs_end_to_end_after_it_is_applied() {
    let app = TestApp::start().await;
    let mut c = Catalogue::builtin();
    let mut sub = c.bundles[0].clone();
    sub.bundle_id = "birth_certificates".into();
    sub.name = "出生医学证明和预防接种证".into();
    sub.units = vec!["health".into(), "hospital".into(), "service_center".into()];
    sub.promise_working_days = 2;
    sub.situations[0].items.retain(|i| {
        ["acceptance", "birth_certificate", "unified_issuance"].contains(&i.item_id.as_str())
    });
    c.bundles.push(sub);
    assert!(c.check().is_empty(), "{:?}", c.check());
    apply(&app, c).await;
    let guide = app.get("/v1/guide?bundle=birth_certificates", "").await;
    assert_eq!(guide.body["online"], true, "{}", guide.body);
    assert_eq!(guide.body["name"], "出生医学证明和预防接种证");
    assert_eq!(
        guide.body["matters"],
        json!(["出生医学证明办理", "预防接种证办理"])
    );

    let g = app.guardian(FATHER_A);
    let mut form = form_a();
    form["bundle"] = json!("birth_certificates");
    let id = app.apply(&g, &form).await;
    let case = app.wait_for(&id, &g, "completed").await;
    assert_eq!(case["bundle"], "birth_certificates");
    assert_eq!(case["catalogue_version"], 2);
    assert_eq!(
        at(&case["due_at"]),
        working_days_after(&app, at(&case["accepted_at"]), 2)
    );
    let status = |name: &str| step(&case, name)["status"].as_str().unwrap().to_string();
    assert_eq!(status("birth_certificate"), "done");
    assert_eq!(status("unified_issuance"), "done");
    for name in [
        "household_registration",
        "medical_insurance",
        "social_security_card",
    ] {
        assert_eq!(status(name), "not_applicable", "{name}");
    }
    assert!(case["results"]["birth_certificate_number"].is_string());
    assert!(
        case["results"].get("newborn_id_number").is_none(),
        "{}",
        case["results"]
    );

    let r = app.get(&format!("/v1/cases/{id}/certificates"), &g).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let certs = r.body["certificates"].as_array().unwrap();
    let mut kinds: Vec<&str> = certs.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["birth_medical_certificate", "vaccination_certificate"]
    );
    for cert in certs {
        let url = cert["verify_url"].as_str().unwrap();
        let path = &url[url.find("/v1/verify/").unwrap()..];
        let v = app.get(path, "").await;
        assert_eq!(v.status, 200, "{}", v.body);
        assert_eq!(v.body["valid"], true, "{}", v.body);
    }

    // Supervision counts each bundle's cases: a birth case beside the 子项's.
    let birth = app.apply(&g, &testkit::family::form_a_nth(3, 3)).await;
    app.wait_for(&birth, &g, "completed").await;
    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    let path = format!(
        "/v1/supervision/report?from={}&to={today}",
        today - chrono::Duration::days(1)
    );
    let rep = app.get(&path, &app.supervisor()).await;
    assert_eq!(rep.status, 200, "{}", rep.body);
    let figures = |id: &str| {
        rep.body["bundles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["bundle"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} in {}", rep.body["bundles"]))
    };
    for id in ["birth", "birth_certificates"] {
        let f = figures(id);
        assert_eq!(
            (f["total"].as_i64(), f["completed"].as_i64()),
            (Some(1), Some(1)),
            "{f}"
        );
    }
    assert_eq!(rep.body["bundles"][0]["bundle"], "birth");
}

/// The catalogue says whether a written commitment may stand in for a material: a version
/// that no longer allows it for the marriage certificate asks for the certificate alone
/// (the operator's setting can refuse a commitment too, never allow one the rules do not).
#[tokio::test]
async fn a_version_without_the_commitment_asks_for_the_marriage_certificate_alone() {
    let app = TestApp::start().await;
    let mut c = Catalogue::builtin();
    for m in c.bundles[0].situations[0].items[0].materials.iter_mut() {
        if m.kind == "marriage_certificate" {
            m.commitment_allowed = false;
        }
    }
    apply(&app, c).await;
    // Family C has no marriage record and registers the newborn with the father.
    let g = app.guardian(FATHER_C);
    let mut f = with_parents(form_a(), Some(("张伟", FATHER_C)), ("刘芳", MOTHER_C));
    f["newborn"]["hospital_code"] = json!("H330302001");
    f["household"]["register_with"] = json!("father");
    let id = app.apply(&g, &f).await;
    let case = app.wait_for(&id, &g, "incomplete").await;
    assert_eq!(case["missing"][0]["material"], "marriage_certificate");
    assert!(
        case["missing"][0].get("alternatives").is_none(),
        "{}",
        case["missing"]
    );
    assert!(!case["missing"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("承诺书"));
}

/// Who hands over online is data: a version where the police's documents wait for the
/// unified issuance and medical security hands over its own changes the hand-overs of
/// new cases.
#[tokio::test]
async fn the_catalogue_decides_which_units_hand_over_their_own_documents() {
    use domain::catalogue::HandOver;
    let app = TestApp::start().await;
    let mut c = Catalogue::builtin();
    for item in c.bundles[0].situations[0].items.iter_mut() {
        match item.item_id.as_str() {
            "household_registration" => item.hand_over = Some(HandOver::Unified),
            "medical_insurance" => item.hand_over = Some(HandOver::Own),
            _ => {}
        }
    }
    apply(&app, c).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let case = app.wait_for(&id, &g, "completed").await;
    let by: Vec<&str> = case["results"]["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["by"].as_str().unwrap())
        .collect();
    assert_eq!(
        by,
        ["hospital", "medical_insurance", "hrss", "service_center"]
    );
}

/// The shipped catalogue lists 身后一件事 as the standard's catalogue does (its items,
/// units, materials and the 5-day promise), with its guide; no engine runs it yet, so an
/// application for it is refused in Chinese and the guide sends the family to a window.
#[tokio::test]
async fn the_shipped_catalogue_lists_the_death_bundle_which_is_not_yet_open_online() {
    let app = TestApp::start().await;
    let r = app.get("/v1/catalogue/death", "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["stage"], "身后");
    assert_eq!(r.body["promise_working_days"], 5);
    let items: Vec<&str> = r.body["situations"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item_id"].as_str().unwrap())
        .collect();
    for id in [
        "death_certificate",
        "cremation_record",
        "household_cancellation",
        "pension",
    ] {
        assert!(items.contains(&id), "{id} in {items:?}");
    }
    let guide = app.get("/v1/guide?bundle=death", "").await;
    assert_eq!(guide.status, 200, "{}", guide.body);
    assert_eq!(guide.body["online"], false);
    assert_eq!(guide.body["lead_unit_name"], "民政部门");
    let g = app.guardian(FATHER_A);
    let mut form = form_a();
    form["bundle"] = json!("death");
    let r = app.submit(&g, &uuid_key(), &form).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"]["details"][0]["code"], "bundle_not_open");
    assert_eq!(
        r.body["error"]["details"][0]["message"],
        "“身后一件事”暂未开通网上申请，请到行政服务中心窗口咨询办理"
    );
}

/// Situations (情形项) are chosen by the form: a version where twins have a longer
/// hospital item and a single birth (birth order 1 of 1, left out of the form as its
/// default) a situation of its own gives each case its own situation and limits.
#[tokio::test]
async fn each_case_follows_the_situation_its_form_meets() {
    use domain::catalogue::Condition;
    let app = TestApp::start_with(&["police"]).await;
    let mut c = Catalogue::builtin();
    let general = c.bundles[0].situations[0].clone();
    let mut single = general.clone();
    single.situation_id = "single".into();
    single.name = "单胎".into();
    single.when = vec![Condition {
        field: "newborn.multiple_birth".into(),
        equals: json!(1),
    }];
    single.items[2].working_days = Some(2);
    c.bundles[0].situations.insert(0, single);
    assert!(c.check().is_empty(), "{:?}", c.check());
    apply(&app, c).await;

    let g = app.guardian(FATHER_A);
    let one = app.apply(&g, &form_a()).await;
    let twin = app.apply(&g, &testkit::family::form_a_nth(4, 3)).await;
    for (id, days) in [(one, 2), (twin, 1)] {
        app.task_for("police", &id).await;
        let case = app.case(&id, &g).await;
        let s = step(&case, "household_registration");
        assert_eq!(
            at(&s["due_at"]),
            working_days_after(&app, at(&s["started_at"]), days),
            "{id}"
        );
    }
}
