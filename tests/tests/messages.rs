//! What a caller reads is what the service wrote: each hand-written message reaches the
//! caller unchanged (nothing at the edge guesses a language and swaps in a generic
//! sentence), and every message a caller reads is fit to show a citizen.

use crate::helpers::*;
use serde_json::{json, Value};

/// Every `message` in an error answer reads as a message for citizens.
fn all_fit(body: &Value) {
    let e = &body["error"];
    let mut texts = vec![e["message"].as_str().unwrap_or_default().to_string()];
    for d in e["details"].as_array().into_iter().flatten() {
        texts.push(d["message"].as_str().unwrap_or_default().to_string());
    }
    for t in texts {
        assert!(domain::text::CitizenText::is_fit(&t), "{t:?} in {body}");
    }
}

#[tokio::test]
async fn each_hand_written_message_reaches_the_caller_as_written() {
    // The police decide by hand, so the case is surely still in progress when rated early.
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_A);

    // A reused Idempotency-Key with another application: told so, not "refresh".
    let first = app.submit(&g, "same-key", &form_a()).await;
    assert_eq!(first.status, 202);
    let mut other = form_a();
    other["newborn"]["name"] = json!("王小河");
    let r = app.submit(&g, "same-key", &other).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body["error"]["message"],
        "该幂等键（Idempotency-Key）已用于另一份申请"
    );
    all_fit(&r.body);

    // An inbox filter out of its values: the problem names them.
    let r = app
        .get("/v1/feedback?status=pending", &app.officer("police"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["error"]["details"][0]["message"],
        "状态应为 open、closed 或 all"
    );
    all_fit(&r.body);

    // A third rating, and a rating before the case is finished.
    let id = first.body["case_id"].as_str().unwrap().to_string();
    let early = app
        .post(&format!("/v1/cases/{id}/rating"), &g, &json!({"level": 3}))
        .await;
    assert_eq!(early.status, 409, "{}", early.body);
    assert_eq!(
        early.body["error"]["message"],
        format!("办件处于“{}”状态，不能进行此项操作", "办理中"),
        "{}",
        early.body
    );
    all_fit(&early.body);
    let task = app.task_for("police", &id).await;
    app.decide("police", &task, "approve", &[]).await;
    app.wait_for(&id, &g, "completed").await;
    for level in [2, 4] {
        let r = app
            .post(
                &format!("/v1/cases/{id}/rating"),
                &g,
                &json!({"level": level}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let third = app
        .post(&format!("/v1/cases/{id}/rating"), &g, &json!({"level": 5}))
        .await;
    assert_eq!(third.status, 409);
    assert_eq!(
        third.body["error"]["message"],
        "本件申请已评价并追评，不能再次评价"
    );
    all_fit(&third.body);

    // Wrong content type, a body that is not UTF-8, a body over the limit.
    let post = |ct: &'static str, body: Vec<u8>| {
        let g = g.clone();
        let app = &app;
        async move {
            app.raw(
                "POST",
                "/v1/applications",
                Some(&g),
                &[("content-type", ct), ("idempotency-key", "k2")],
                body.into(),
            )
            .await
        }
    };
    let r = post("text/plain", b"{}".to_vec()).await;
    assert_eq!(r.status, 415);
    assert_eq!(
        r.body["error"]["message"],
        "请求内容类型不正确，请以 JSON 格式提交"
    );
    let r = post("application/json", vec![b'"', 0xff, b'"']).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["message"], "请求内容不是有效的 UTF-8 文本");
    all_fit(&r.body);
}

/// Everything a family reads about their case: notifications, the acceptance notice, the
/// timeline, the one notice, the steps' reasons and the certificates' issuers.
fn citizen_texts(case: &Value, certs: &Value) -> Vec<String> {
    let mut out = vec![];
    let mut strings = |v: &Value| {
        let mut stack = vec![v.clone()];
        while let Some(v) = stack.pop() {
            match v {
                Value::String(s) => out.push(s),
                Value::Array(a) => stack.extend(a),
                Value::Object(o) => stack.extend(o.into_iter().map(|(_, v)| v)),
                _ => {}
            }
        }
    };
    for n in case["notifications"].as_array().unwrap() {
        strings(&n["title"]);
        strings(&n["body"]);
    }
    strings(&case["acceptance_notice"]["accepted_by"]);
    for e in case["timeline"].as_array().unwrap() {
        strings(&e["detail"]);
    }
    for m in case["missing"].as_array().unwrap() {
        strings(&m["reason"]);
        strings(&m["name"]);
    }
    for s in case["steps"].as_array().unwrap() {
        strings(&s["reasons"]);
        strings(&s["region_name"]);
    }
    for c in certs["certificates"].as_array().unwrap() {
        strings(&c["issuer"]);
    }
    out
}

/// No internal identifier reaches a family: sites and windows by name and number, people
/// by name or staff number, regions by name (online by mail, online to a pick-up site
/// named by its id, and at a window named by its id).
#[tokio::test]
async fn no_code_reaches_what_a_family_reads() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let mail = app.apply(&g, &form_a()).await;
    let mut pickup = newborn(2);
    pickup["delivery"] = json!({"method": "pickup", "address": null, "pickup_site": "SC330106"});
    let pickup = app.apply(&g, &pickup).await;
    // A window officer whose staff number (工号) is what a family may read.
    let w = app.token("window_officer", Some("service_center"), "GH0012");
    let mut window = newborn(3);
    window["channel"] = json!("service_center");
    window["window"] = json!({"site": "SC330106", "number": "3"});
    window["delivery"] = Value::Null;
    let window = app.apply(&w, &window).await;
    for (id, token) in [(&mail, &g), (&pickup, &g), (&window, &w)] {
        let case = app.wait_for(id, token, "completed").await;
        let certs = app
            .get(&format!("/v1/cases/{id}/certificates"), token)
            .await
            .body;
        let texts = citizen_texts(&case, &certs);
        assert!(texts.len() > 10, "{texts:?}");
        for t in &texts {
            let codes = domain::text::internal_codes(t);
            assert!(codes.is_empty(), "{codes:?} in {t:?}");
        }
        if id == &window {
            let by = case["acceptance_notice"]["accepted_by"].as_str().unwrap();
            assert!(
                by.contains("西湖区行政服务中心 3号窗口") && by.contains("工号 GH0012"),
                "{by}"
            );
        }
        if id == &pickup {
            let told = texts
                .iter()
                .any(|t| t.contains("西湖区行政服务中心") && t.contains("取件码"));
            assert!(told, "the pick-up site by its name: {texts:?}");
        }
    }
}
