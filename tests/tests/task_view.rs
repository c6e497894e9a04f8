//! The officer's task view (`GET /v1/tasks/{task_id}`): an officer decides on the facts the
//! page shows — the form fields the step decides on, the records it matched with what did
//! not match, why the task exists, the materials with their source and the checklist — and
//! a decision records which checklist items were confirmed.

use crate::helpers::*;
use serde_json::{json, Value};

fn item_ids(view: &Value) -> Vec<&str> {
    view["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["item_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_police_officer_sees_the_household_the_marriage_and_the_parents_unmasked() {
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let form = form_a();
    let id = app.apply(&g, &form).await;
    let task = app.task_for("police", &id).await;
    let task_id = task["task_id"].as_str().unwrap();
    let police = app.officer("police");
    let r = app.get(&format!("/v1/tasks/{task_id}"), &police).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = &r.body;
    assert_eq!(v["case_id"], json!(id));
    assert_eq!(v["step"], "household_registration");
    assert_eq!(v["open"], true);
    assert!(!v["reasons"].as_array().unwrap().is_empty());
    // The facts are the form's own, unmasked for the police.
    assert_eq!(
        v["facts"]["mother"]["id_number"],
        form["mother"]["id_number"]
    );
    assert_eq!(
        v["facts"]["father"]["id_number"],
        form["father"]["id_number"]
    );
    assert_eq!(v["facts"]["newborn"]["name"], form["newborn"]["name"]);
    assert_eq!(v["facts"]["household"], form["household"]);
    assert!(
        v["facts"].get("insurance").is_none(),
        "not the police's to decide"
    );
    // The records the step matched: the household and the marriage from data sharing.
    assert!(v["records"]["household"]["address_code"].is_string(), "{v}");
    assert!(
        v["records"]["marriage"]["certificate_number"].is_string(),
        "{v}"
    );
    assert_eq!(v["records"]["mismatches"], json!([]));
    assert_eq!(
        item_ids(v),
        [
            "household",
            "relation_to_head",
            "parentage_proof",
            "name",
            "ethnicity",
            "uploads"
        ]
    );
    assert!(v["materials"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["kind"] == "household_register" && m["source"] == "data_sharing"));
    // Reading it is audited.
    let read = app
        .audit_events()
        .into_iter()
        .find(|e| e["fields"] == json!(["task_view"]))
        .expect("an audit event of the task view");
    assert_eq!(read["cases"], json!([id]));

    // A checklist item of another step is refused, with nothing recorded.
    let version = v["version"].clone();
    let wrong = app
        .post(
            &format!("/v1/tasks/{task_id}/decision"),
            &police,
            &json!({"decision": "approve", "version": version, "checked": ["delivery_record"]}),
        )
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert_eq!(wrong.body["error"]["details"][0]["field"], "checked[0]");
    // The decision names what was confirmed; the timeline says it in Chinese.
    let ok = app
        .post(
            &format!("/v1/tasks/{task_id}/decision"),
            &police,
            &json!({"decision": "approve", "version": version,
                    "checked": ["parentage_proof", "household"]}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let case = app.wait_for(&id, &g, "completed").await;
    let checked: Vec<&Value> = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "checked")
        .collect();
    assert_eq!(checked.len(), 1, "{}", case["timeline"]);
    let detail = checked[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("拟落户的父亲或母亲户籍在浙江")
            && detail.contains("婚姻登记记录")
            && detail.find("户籍在浙江") < detail.find("婚姻登记记录"),
        "in the checklist's order: {detail}"
    );
    // Decided: the view still opens, and says so.
    let after = app.get(&format!("/v1/tasks/{task_id}"), &police).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.body["open"], false);
}

#[tokio::test]
async fn a_hospital_officer_sees_the_delivery_record_beside_the_form() {
    let app = TestApp::start_with(&["hospital"]).await;
    let g = app.guardian(FATHER_A);
    let form = form_a();
    let id = app.apply(&g, &form).await;
    let task = app.task_for("hospital", &id).await;
    let officer = app.officer_for("hospital", &task);
    let task_id = task["task_id"].as_str().unwrap();
    let v = app.get(&format!("/v1/tasks/{task_id}"), &officer).await;
    assert_eq!(v.status, 200, "{}", v.body);
    let v = v.body;
    assert_eq!(
        v["facts"]["newborn"]["weight_g"],
        form["newborn"]["weight_g"]
    );
    assert_eq!(
        v["facts"]["mother"]["id_number"],
        form["mother"]["id_number"]
    );
    assert!(
        v["facts"].get("household").is_none(),
        "not the hospital's to decide"
    );
    // The delivery record the hospital's system filed, matched to the form.
    let birth = &v["records"]["birth"];
    assert_eq!(birth["weight_g"], form["newborn"]["weight_g"]);
    assert_eq!(birth["mother_id_number"], form["mother"]["id_number"]);
    assert_eq!(
        v["records"]["institution"]["code"],
        form["newborn"]["hospital_code"]
    );
    assert_eq!(v["records"]["mismatches"], json!([]));
    assert_eq!(
        item_ids(&v),
        [
            "delivery_record",
            "mother_identity",
            "father",
            "newborn_name"
        ]
    );
    // Another hospital's officer does not find it.
    let other = app.hospital_officer("H330203001");
    let r = app.get(&format!("/v1/tasks/{task_id}"), &other).await;
    assert_eq!(r.status, 404);
    // Nor does a family.
    let r = app.get(&format!("/v1/tasks/{task_id}"), &g).await;
    assert_eq!(r.status, 403);
}
