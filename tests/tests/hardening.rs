//! Hostile users: each test reproduces an attack found by the penetration test and shows
//! that it now fails.

use crate::helpers::*;
use bytes::Bytes;
use serde_json::{json, Value};

/// `null`, `[1]` or `1e-05` is not "no changes": every endpoint that takes a body refuses
/// a body that is not a JSON object, and a resubmission with one changes nothing.
#[tokio::test]
async fn bodies_that_are_not_objects_are_refused_on_every_endpoint() {
    let app = TestApp::start_loaded(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &newborn(1)).await;
    let task = app.task_for("police", &id).await;
    let version = app.case(&id, &g).await["version"].clone();
    let task_id = task["task_id"].as_str().unwrap().to_string();
    let hospital = app.officer("hospital");
    let endpoints: Vec<(String, String)> = vec![
        ("/v1/applications".into(), g.clone()),
        (format!("/v1/cases/{id}/materials"), g.clone()),
        (format!("/v1/cases/{id}/resubmit"), g.clone()),
        (format!("/v1/cases/{id}/rating"), g.clone()),
        (format!("/v1/cases/{id}/complaints"), g.clone()),
        (
            format!("/v1/cases/{id}/complaints/x/answer"),
            app.officer("service_center"),
        ),
        (
            format!("/v1/tasks/{task_id}/decision"),
            app.officer("police"),
        ),
        ("/v1/births".into(), hospital),
        (format!("/v1/cases/{id}/withdraw"), g.clone()),
        (
            format!("/v1/cases/{id}/premium-payment"),
            app.officer("medical_insurance"),
        ),
    ];
    for (path, token) in &endpoints {
        for body in ["null", "[1]", "1e-05", "\"{}\"", "true"] {
            let r = app
                .raw(
                    "POST",
                    path,
                    Some(token),
                    &[
                        ("content-type", "application/json"),
                        ("idempotency-key", "k"),
                    ],
                    Bytes::from(body),
                )
                .await;
            assert_eq!(r.status, 400, "{path} {body}: {:?}", r.body);
            assert_eq!(r.body["error"]["details"][0]["code"], "object_required");
        }
    }
    assert_eq!(app.case(&id, &g).await["version"], version);
}

/// A large hostile request gets an error no larger than itself (it used to be ten times
/// larger): at most 50 problems, each with short texts.
#[tokio::test]
async fn an_error_is_never_much_larger_than_its_request() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let long = "王".repeat(2000);
    let mut bodies = vec![];
    // Every string of the form far too long.
    let mut f = form_a();
    fn lengthen(v: &mut Value, s: &str) {
        match v {
            Value::String(x) => *x = s.to_string(),
            Value::Object(m) => m.values_mut().for_each(|v| lengthen(v, s)),
            Value::Array(a) => a.iter_mut().for_each(|v| lengthen(v, s)),
            _ => {}
        }
    }
    lengthen(&mut f, &long);
    bodies.push(f);
    // Thousands of wrong-typed entries.
    let mut f = form_a();
    f["newborn"] = json!((0..3000)
        .map(|i| (format!("k{i}"), json!([i])))
        .collect::<serde_json::Map<_, _>>());
    bodies.push(f);
    let mut f = form_a();
    f["channel"] = json!(vec![json!({"x": "y"}); 5000]);
    bodies.push(f);
    let id = app.apply(&g, &newborn(1)).await;
    let mut requests: Vec<(String, Value)> = bodies
        .into_iter()
        .map(|b| ("/v1/applications".to_string(), b))
        .collect();
    // Thousands of short, wrong items, each its own problem.
    requests.push((
        format!("/v1/cases/{id}/resubmit"),
        json!({"materials": vec!["x"; 12000]}),
    ));
    requests.push((
        format!("/v1/cases/{id}/resubmit"),
        json!({"corrections": {"newborn": {"name": vec![1; 12000]}}, "materials": vec![0; 9000]}),
    ));
    for (path, body) in requests {
        let sent = body.to_string();
        let r = app
            .raw(
                "POST",
                &path,
                Some(&g),
                &[
                    ("content-type", "application/json"),
                    ("idempotency-key", "big"),
                ],
                Bytes::from(sent.clone()),
            )
            .await;
        assert!(r.status == 400 || r.status == 413, "{}", r.status);
        let answered = r.body.to_string().len();
        assert!(
            answered <= sent.len().max(16 * 1024),
            "a {} byte request got a {answered} byte error",
            sent.len()
        );
        assert!(r.body["error"]["details"].as_array().unwrap().len() <= 51);
    }
}

/// An offline application taken at `site` on `channel`.
fn offline(channel: &str, site: &str) -> Value {
    let mut f = form_a();
    f["channel"] = json!(channel);
    f["window"] = json!({"site": site, "number": "12"});
    f["delivery"] = Value::Null;
    f
}

/// A window officer reads and changes the offline cases of their own site (or, at a
/// hospital, their hospital), never another window's.
#[tokio::test]
async fn a_window_officer_sees_only_the_cases_of_their_own_site() {
    let app = TestApp::start_with(&["hospital"]).await;
    let site = "西湖区行政服务中心";
    let window = |sub: &str, site: Option<&str>| {
        app.scoped(
            "window_officer",
            Some("service_center"),
            sub,
            (Some("33"), None, site),
        )
    };
    let id = app
        .apply(&window("w-1", Some(site)), &offline("service_center", site))
        .await;
    let path = format!("/v1/cases/{id}");
    let material = json!({"kind": "other", "content_type": "application/pdf", "size": 10});
    // Another officer of the same site: in full.
    let colleague = window("w-2", Some(site));
    assert_eq!(
        app.get(&path, &colleague).await.body["form"]["mother"]["id_number"],
        MOTHER_A
    );
    // Another site: the case does not exist for them.
    let stranger = window("w-3", Some("拱墅区行政服务中心"));
    assert_eq!(app.get(&path, &stranger).await.status, 404);
    let r = app
        .post(&format!("{path}/materials"), &stranger, &material)
        .await;
    assert_eq!(r.status, 404);
    // No site claim: refused outright (scopes fail closed), never "every site".
    let r = app.get(&path, &window("w-4", None)).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "scope_required");
    // Hospital windows by their hospital.
    let hospital_window = |sub: &str, code: &str| {
        app.scoped(
            "window_officer",
            Some("hospital"),
            sub,
            (Some("33"), Some(code), None),
        )
    };
    let code = form_a()["newborn"]["hospital_code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut f = offline("hospital", "浙江大学医学院附属妇产科医院");
    f["newborn"]["birth_order"] = json!(2);
    f["newborn"]["multiple_birth"] = json!(2);
    let hid = app.apply(&hospital_window("hw-1", &code), &f).await;
    let hpath = format!("/v1/cases/{hid}");
    assert_eq!(
        app.get(&hpath, &hospital_window("hw-2", &code))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get(&hpath, &hospital_window("hw-3", "H330106999"))
            .await
            .status,
        404
    );
}

/// A complaint about a window goes to the department officers of the unit that took the
/// application (here the hospital, which also hands over); no window officer (least of
/// all the one it may name) answers or closes it; answers refuse control characters.
#[tokio::test]
async fn a_complaint_about_a_window_goes_to_its_units_officers_and_no_window_answers_it() {
    let app = TestApp::start().await;
    let site = "浙江大学医学院附属妇产科医院";
    let w = app.scoped(
        "window_officer",
        Some("hospital"),
        "hw-1",
        (Some("33"), None, Some(site)),
    );
    let id = app.apply(&w, &offline("hospital", site)).await;
    let g = app.guardian(FATHER_A);
    app.wait_for(&id, &g, "completed").await;
    let r = app
        .post(
            &format!("/v1/cases/{id}/complaints"),
            &g,
            &json!({"text": "窗口态度不好"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["dept"], "hospital");
    let answer = format!(
        "/v1/cases/{id}/complaints/{}/answer",
        r.body["complaint_id"].as_str().unwrap()
    );
    let text = json!({"answer": "已核实并整改"});
    for who in [
        w.clone(),
        app.window("hospital"),
        app.officer("service_center"),
    ] {
        let r = app.post(&answer, &who, &text).await;
        assert!(r.status == 403 || r.status == 404, "{}", r.status);
    }
    let sc = app.officer("hospital");
    for bad in ["已核实\u{0007}", "已核实\u{202E}并整改", "\u{200B}"] {
        let r = app.post(&answer, &sc, &json!({"answer": bad})).await;
        assert_eq!(r.status, 400, "{bad:?}");
    }
    assert_eq!(app.post(&answer, &sc, &text).await.status, 200);
}

/// Every string leaf under `v` whose key names a number, an ID or a name.
fn identifying(v: &Value, key: &str, out: &mut Vec<String>) {
    match v {
        Value::String(s)
            if s.len() >= 4
                && [
                    "number",
                    "name",
                    "id_number",
                    "phone",
                    "address",
                    "tracking_number",
                ]
                .iter()
                .any(|k| key.ends_with(k)) =>
        {
            out.push(s.clone())
        }
        Value::Object(m) => m.iter().for_each(|(k, v)| identifying(v, k, out)),
        Value::Array(a) => a.iter().for_each(|v| identifying(v, key, out)),
        _ => {}
    }
}

/// Supervisors and the health unit see an allow-list: no name, ID number, phone,
/// address, birth time, weight, result or tracking number, and no free text (complaints,
/// comments, reasons) in which a guardian may have written anything. A supervisor may
/// open one case in full with a reason code, and that read is in the audit trail.
#[tokio::test]
async fn supervisors_see_no_personal_data_unless_they_break_glass_for_a_reason() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let mut form = form_a();
    form["delivery"] = json!({"method": "mail", "address": "杭州市西湖区文三路 1 号"});
    let id = app.apply(&g, &form).await;
    let full = app.wait_for(&id, &g, "completed").await;
    let written = format!("我的身份证号 {MOTHER_A}，电话 13912345678，请回电");
    let r = app
        .post(
            &format!("/v1/cases/{id}/complaints"),
            &g,
            &json!({"text": written}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .post(
            &format!("/v1/cases/{id}/rating"),
            &g,
            &json!({"level": 1, "comment": written}),
        )
        .await;
    assert_eq!(r.status, 201);
    let mut secrets = vec![];
    identifying(&full["form"], "", &mut secrets);
    identifying(&full["results"], "", &mut secrets);
    let born = chrono::DateTime::parse_from_rfc3339(
        full["form"]["newborn"]["birth_time"].as_str().unwrap(),
    )
    .unwrap()
    .with_timezone(&domain::calendar::shanghai());
    secrets.extend([
        "13912345678".to_string(),
        born.format("%H:%M").to_string(),
        full["form"]["newborn"]["weight_g"].to_string(),
    ]);
    assert!(secrets.len() >= 12, "{secrets:?}");
    let path = format!("/v1/cases/{id}");
    for viewer in [app.supervisor(), app.officer("health")] {
        let r = app.get(&path, &viewer).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["masked"], true);
        assert_eq!(r.body["birth_date"], born.date_naive().to_string());
        let shown = r.body.to_string();
        for s in &secrets {
            assert!(!shown.contains(s.as_str()), "the masked view shows {s}");
        }
        for key in ["form", "results", "notifications", "acceptance_notice"] {
            assert!(r.body.get(key).is_none(), "the masked view has {key}");
        }
    }
    let audited_before = app.audit_events().len();
    // Break-glass: supervisors only, with a known reason, recorded.
    let sup = app.supervisor();
    assert_eq!(
        app.get(&format!("{path}?break_glass=curious"), &sup)
            .await
            .status,
        400
    );
    let r = app
        .get(
            &format!("{path}?break_glass=complaint_investigation"),
            &app.officer("health"),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .get(&format!("{path}?break_glass=complaint_investigation"), &sup)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["form"]["mother"]["id_number"], MOTHER_A);
    let events = app.audit_events();
    assert_eq!(
        events.len(),
        audited_before + 1,
        "only the break-glass read"
    );
    let e = events.last().unwrap();
    assert_eq!(e["action"], "break_glass_read");
    assert_eq!(e["reason"], "complaint_investigation");
    assert_eq!(e["cases"], json!([id]));
    assert_eq!(e["role"], "supervisor");
}

/// Break-glass is not a bulk read: reasons come from the list, a supervisor makes at most
/// five a day (then 429 with Retry-After), each one is told to the region's supervision
/// lead and listed for the region's supervisors, newest first, and nobody else.
#[tokio::test]
async fn break_glass_reads_are_limited_listed_and_told_to_the_supervision_lead() {
    let settings = r#"{"max_applications_per_day": 50, "max_unfinished_cases": 50,
        "supervision_leads": [{"region": "3301", "phone": "13900000001"}]}"#;
    let app = TestApp::start_settings(&[], settings).await;
    let g = app.guardian(FATHER_A);
    let mut ids = vec![];
    for order in 1..=6 {
        let mut f = form_a();
        f["newborn"]["birth_order"] = json!(order);
        f["newborn"]["multiple_birth"] = json!(6);
        ids.push(app.apply(&g, &f).await);
    }
    let sup = app.scoped("supervisor", None, "sup-hz", (Some("3301"), None, None));
    // A reason off the list (the old codes included) is refused and not counted.
    for reason in ["curious", "overdue_investigation", "data_subject_request"] {
        let r = app
            .get(&format!("/v1/cases/{}?break_glass={reason}", ids[0]), &sup)
            .await;
        assert_eq!(r.status, 400, "{reason}: {}", r.body);
    }
    for id in &ids[..5] {
        let r = app
            .get(
                &format!("/v1/cases/{id}?break_glass=fraud_investigation"),
                &sup,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["form"]["mother"]["id_number"], MOTHER_A);
    }
    let r = app
        .get(
            &format!("/v1/cases/{}?break_glass=legal_request", ids[5]),
            &sup,
        )
        .await;
    assert_eq!(r.status, 429, "the sixth of the day: {}", r.body);
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&wait), "{wait}");
    assert!(r.body.get("form").is_none());
    // The masked view is still there for them.
    let r = app.get(&format!("/v1/cases/{}", ids[5]), &sup).await;
    assert_eq!((r.status, &r.body["masked"]), (200, &json!(true)));
    // Another supervisor has their own five.
    let other = app.scoped("supervisor", None, "sup-2", (Some("33"), None, None));
    let r = app
        .get(
            &format!("/v1/cases/{}?break_glass=legal_request", ids[5]),
            &other,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Listed newest first, for supervisors of the region only, paged.
    let list = app.get("/v1/supervision/break-glass?limit=4", &sup).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let items = list.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 4);
    assert_eq!(items[0]["case_id"], ids[5].as_str());
    assert_eq!(items[0]["supervisor"], "supervisor:sup-2");
    assert_eq!(items[0]["reason_code"], "legal_request");
    assert_eq!(items[1]["case_id"], ids[4].as_str());
    let cursor = list.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/v1/supervision/break-glass?cursor={cursor}"),
            &sup,
        )
        .await;
    let rest = rest.body["items"].as_array().unwrap().clone();
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[1]["case_id"], ids[0].as_str());
    let far = app.scoped("supervisor", None, "sup-wz", (Some("3303"), None, None));
    let r = app.get("/v1/supervision/break-glass", &far).await;
    assert_eq!(
        r.body["items"],
        json!([]),
        "Wenzhou's supervisors see none of Hangzhou's"
    );
    for who in [g.clone(), app.officer("police"), app.officer("health")] {
        assert_eq!(
            app.get("/v1/supervision/break-glass", &who).await.status,
            403
        );
    }
    // Each read was told to Hangzhou's lead, with no personal data in the text.
    for item in items.iter().chain(rest.iter()) {
        let sent = app.sent_about(item["entry_id"].as_str().unwrap()).await;
        assert_eq!(sent.len(), 1, "{item}");
        let n = &sent[0].notification;
        assert_eq!(n.phone, "13900000001");
        assert!(
            n.body.contains(item["case_id"].as_str().unwrap()),
            "{}",
            n.body
        );
        assert!(
            !n.body.contains(MOTHER_A) && !n.body.contains("李梅"),
            "{}",
            n.body
        );
    }
}

/// Each request that returns or changes a case's personal data leaves exactly one audit
/// event with its request id; requests that show none (masked views, task lists,
/// refusals) leave none.
#[tokio::test]
async fn every_read_or_change_of_personal_data_leaves_exactly_one_audit_event() {
    let app = TestApp::start_loaded(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let json_headers = |rid: &'static str| {
        vec![
            ("content-type", "application/json"),
            ("idempotency-key", rid),
            ("x-request-id", rid),
        ]
    };
    let form = newborn(1);
    let r = app
        .post(
            "/v1/births",
            &app.hospital_system(&testkit::family::birth_record(&form)),
            &testkit::family::birth_record(&form),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .raw(
            "POST",
            "/v1/applications",
            Some(&g),
            &json_headers("rq-apply"),
            Bytes::from(form.to_string()),
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.headers["x-request-id"], "rq-apply");
    let id = r.body["case_id"].as_str().unwrap().to_string();
    app.task_for("police", &id).await;
    let get = |path: String, token: String, rid: &'static str| {
        let app = &app;
        async move {
            app.raw(
                "GET",
                &path,
                Some(&token),
                &[("x-request-id", rid)],
                Bytes::new(),
            )
            .await
            .status
        }
    };
    let case = format!("/v1/cases/{id}");
    assert_eq!(get(case.clone(), g.clone(), "rq-read").await, 200);
    assert_eq!(get("/v1/cases".into(), g.clone(), "rq-list").await, 200);
    assert_eq!(
        get(case.clone(), app.officer("police"), "rq-officer").await,
        200
    );
    assert_eq!(get(case.clone(), app.supervisor(), "rq-masked").await, 200);
    assert_eq!(
        get("/v1/tasks".into(), app.officer("police"), "rq-tasks").await,
        200
    );
    assert_eq!(
        get(case.clone(), app.guardian(FATHER_C), "rq-stranger").await,
        404
    );
    let r = app
        .raw(
            "POST",
            &format!("{case}/materials"),
            Some(&g),
            &json_headers("rq-material"),
            Bytes::from(
                json!({"kind": "other", "content_type": "application/pdf", "size": 10}).to_string(),
            ),
        )
        .await;
    assert_eq!(r.status, 201);
    let task = app.task_for("police", &id).await;
    let decision = json!({"decision": "approve", "version": task["version"]});
    let r = app
        .raw(
            "POST",
            &format!("/v1/tasks/{}/decision", task["task_id"].as_str().unwrap()),
            Some(&app.officer("police")),
            &json_headers("rq-decide"),
            Bytes::from(decision.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let events = app.audit_events();
    let count = |rid: &str| events.iter().filter(|e| e["request_id"] == rid).count();
    for (rid, n, action) in [
        ("rq-apply", 1, "write"),
        ("rq-read", 1, "read"),
        ("rq-list", 1, "read"),
        ("rq-officer", 1, "read"),
        ("rq-material", 1, "write"),
        ("rq-decide", 1, "write"),
        ("rq-masked", 0, ""),
        ("rq-tasks", 0, ""),
        ("rq-stranger", 0, ""),
    ] {
        assert_eq!(count(rid), n, "{rid}");
        if let Some(e) = events.iter().find(|e| e["request_id"] == rid) {
            assert_eq!(e["action"], action, "{rid}");
            assert!(e["cases"].as_array().unwrap().contains(&json!(id)), "{rid}");
            assert!(
                !e.to_string().contains(FATHER_A),
                "{rid}: the guardian is masked"
            );
        }
    }
    let officer = events
        .iter()
        .find(|e| e["request_id"] == "rq-officer")
        .unwrap();
    assert_eq!(officer["dept"], "police");
    assert!(officer["fields"]
        .as_array()
        .unwrap()
        .contains(&json!("form")));
    // The application's event names the data-sharing lookups it made, each person masked.
    let apply = events
        .iter()
        .find(|e| e["request_id"] == "rq-apply")
        .unwrap();
    let fields = apply["fields"].to_string();
    assert!(fields.contains("data_sharing:marriage"), "{fields}");
    assert_eq!(
        fields.matches("data_sharing:person:").count(),
        2,
        "{fields}"
    );
    assert!(
        !fields.contains(MOTHER_A) && !fields.contains(FATHER_A),
        "{fields}"
    );
}

/// A case holds at most 20 materials and 50 MiB of them, and 10 complaints.
#[tokio::test]
async fn a_case_holds_at_most_20_materials_of_50_mib_and_10_complaints() {
    let app = TestApp::start_with(&["hospital"]).await;
    let g = app.guardian(FATHER_A);
    let big = app.apply(&g, &newborn(1)).await;
    let material =
        |size: u64| json!({"kind": "other", "content_type": "application/pdf", "size": size});
    let register = |id: &str, size: u64| {
        let (app, g, body) = (&app, g.clone(), material(size));
        let path = format!("/v1/cases/{id}/materials");
        async move { app.post(&path, &g, &body).await }
    };
    for _ in 0..5 {
        assert_eq!(register(&big, 10 * 1024 * 1024).await.status, 201);
    }
    let r = register(&big, 1).await;
    assert_eq!(
        (r.status, r.body["error"]["code"].clone()),
        (409, json!("limit_reached"))
    );
    let many = app.apply(&g, &newborn(2)).await;
    for _ in 0..20 {
        assert_eq!(register(&many, 1).await.status, 201);
    }
    assert_eq!(register(&many, 1).await.status, 409);
    let complain = |n: usize| {
        let (app, g) = (&app, g.clone());
        let path = format!("/v1/cases/{many}/complaints");
        async move {
            app.post(&path, &g, &json!({"text": format!("第 {n} 次投诉")}))
                .await
        }
    };
    for n in 0..10 {
        assert_eq!(complain(n).await.status, 201);
    }
    let r = complain(10).await;
    assert_eq!(
        (r.status, r.body["error"]["code"].clone()),
        (409, json!("limit_reached"))
    );
}

/// Names follow the household register's rule (Chinese characters with `·`, or Latin
/// letters for foreign names); free text refuses control and invisible characters.
#[tokio::test]
async fn names_and_free_text_refuse_invisible_characters_emoji_and_markup() {
    let app = TestApp::start_with(&["hospital"]).await;
    let g = app.guardian(FATHER_A);
    for bad in [
        "王\u{202E}小溪",
        "王\u{200B}小溪",
        "王小溪😀",
        "<b>王</b>",
        "王 Anna",
        "王1",
    ] {
        let mut f = form_a();
        f["newborn"]["name"] = json!(bad);
        let r = app.submit(&g, &uuid_key(), &f).await;
        assert_eq!(r.status, 400, "{bad:?}");
        let d = &r.body["error"]["details"];
        assert!(
            d.as_array()
                .unwrap()
                .iter()
                .any(|p| p["field"] == "newborn.name"),
            "{bad:?}: {d}"
        );
    }
    let mut f = newborn(1);
    f["newborn"]["name"] = json!("阿依古丽·买买提");
    let id = app.apply(&g, &f).await;
    for (path, body) in [
        ("complaints", json!({"text": "请\u{202E}尽快办理"})),
        ("complaints", json!({"text": "请尽快\u{0000}办理"})),
        ("withdraw", json!({"reason": "不办了\u{2066}"})),
    ] {
        let r = app.post(&format!("/v1/cases/{id}/{path}"), &g, &body).await;
        assert_eq!(r.status, 400, "{path} {body}");
    }
}

/// Tokens that are not valid yet, live longer than a day, mark an unknown extension
/// critical, claim to be the automated system or carry a malformed scope are refused.
#[tokio::test]
async fn tokens_not_yet_valid_too_long_lived_critical_or_claiming_the_system_are_refused() {
    let app = TestApp::start().await;
    let now = chrono::Utc::now().timestamp();
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let officer = |extra: Value| {
        let mut c = json!({"sub": "officer-1", "role": "dept_officer", "dept": "police",
                           "region": "330106", "exp": now + 3600});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    let sign = |h: &Value, c: &Value| testkit::tokens::sign_raw(&app.secret, h, c);
    assert_eq!(
        app.get("/v1/tasks", &sign(&header, &officer(json!({}))))
            .await
            .status,
        200
    );
    let refused = [
        sign(&header, &officer(json!({"nbf": now + 3600}))),
        sign(&header, &officer(json!({"iat": now + 3600}))),
        sign(
            &header,
            &officer(json!({"iat": now, "exp": now + 48 * 3600})),
        ),
        sign(&header, &officer(json!({"exp": now + 48 * 3600}))),
        sign(
            &json!({"alg": "HS256", "typ": "JWT", "crit": ["exp2"], "exp2": 1}),
            &officer(json!({})),
        ),
        sign(&header, &officer(json!({"sub": "system:police"}))),
        sign(&header, &officer(json!({"sub": "officer\u{0007}"}))),
        sign(&header, &officer(json!({"region": "zj"}))),
    ];
    for (i, t) in refused.iter().enumerate() {
        assert_eq!(app.get("/v1/tasks", t).await.status, 401, "token {i}");
    }
}

/// The local upload URL names the server as started, not the caller's `Host` header.
#[tokio::test]
async fn an_upload_url_names_this_server_whatever_the_host_header_says() {
    let app = TestApp::start_with(&["hospital"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &newborn(1)).await;
    let r = app
        .raw(
            "POST",
            &format!("/v1/cases/{id}/materials"),
            Some(&g),
            &[
                ("content-type", "application/json"),
                ("host", "attacker.example"),
            ],
            Bytes::from(
                json!({"kind": "other", "content_type": "application/pdf", "size": 10}).to_string(),
            ),
        )
        .await;
    assert_eq!(r.status, 201);
    let url = r.body["upload_url"].as_str().unwrap();
    assert!(url.starts_with(&app.base), "{url}");
}

/// Report periods far outside the system's life are refused, not crashed on.
#[tokio::test]
async fn extreme_report_dates_are_refused() {
    let app = TestApp::start().await;
    let s = app.supervisor();
    for (from, to) in [
        ("+262143-12-31", "+262143-12-31"),
        ("262142-12-31", "262142-12-31"),
        ("-262143-01-01", "-262143-01-01"),
        ("1900-01-01", "1900-01-02"),
    ] {
        let r = app
            .get(&format!("/v1/supervision/report?from={from}&to={to}"), &s)
            .await;
        assert_eq!(r.status, 400, "{from}..{to}");
    }
}

/// A material registered with its SHA-256 accepts only those bytes; the upload URL tells
/// the client the headers to send.
#[tokio::test]
async fn a_material_declared_with_its_sha256_accepts_only_those_bytes() {
    let app = TestApp::start_with(&["hospital"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &newborn(1)).await;
    let bytes = pdf_bytes();
    let digest = application::service::sha256_hex(&bytes);
    let r = app
        .post(
            &format!("/v1/cases/{id}/materials"),
            &g,
            &json!({"kind": "other", "content_type": "application/pdf", "size": bytes.len(),
                    "sha256": digest}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["upload_headers"]["content-type"], "application/pdf");
    let url = r.body["upload_url"].as_str().unwrap().to_string();
    let put = |b: Vec<u8>| {
        let (app, url) = (&app, url.clone());
        async move {
            app.raw(
                "PUT",
                &url,
                None,
                &[("content-type", "application/pdf")],
                Bytes::from(b),
            )
            .await
        }
    };
    let mut other = bytes.clone();
    *other.last_mut().unwrap() ^= 1;
    let r = put(other).await;
    assert_eq!(
        (r.status, r.body["error"]["code"].clone()),
        (400, json!("checksum_mismatch"))
    );
    let r = put(bytes.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["sha256"], json!(digest));
    // A malformed digest is refused at registration.
    let r = app
        .post(
            &format!("/v1/cases/{id}/materials"),
            &g,
            &json!({"kind": "other", "content_type": "application/pdf", "size": 10,
                    "sha256": "xyz"}),
        )
        .await;
    assert_eq!(r.status, 400);
}

/// An official message never carries what the applicant typed: a link in a withdrawal
/// reason stays out of the "申请已撤回" notice (the system's own reasons stay in).
#[tokio::test]
async fn a_link_typed_as_a_withdrawal_reason_never_goes_out_in_a_notice() {
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.task_for("police", &id).await;
    let task = app.task_for("police", &id).await;
    app.decide("police", &task, "return", &["请核对户籍地址"])
        .await;
    app.wait_for(&id, &g, "returned").await;
    let phishing = "退款请点 http://evil.example/pay 领取";
    let r = app
        .post(
            &format!("/v1/cases/{id}/withdraw"),
            &g,
            &json!({"reason": phishing}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut sent = vec![];
    for _ in 0..200 {
        sent = app.sent_about(&id).await;
        if sent
            .iter()
            .any(|d| d.notification.kind.as_str() == "withdrawn")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let withdrawn = sent
        .iter()
        .find(|d| d.notification.kind.as_str() == "withdrawn")
        .expect("the withdrawal is told");
    for d in &sent {
        assert!(
            !d.notification.body.contains("evil.example"),
            "{}",
            d.notification.body
        );
    }
    assert!(withdrawn.notification.body.contains("已撤回"));
    // The timeline keeps what was typed, for the family and the officers.
    let case = app.case(&id, &g).await;
    assert!(case["timeline"].to_string().contains("evil.example"));
}

/// The resubmit loop is bounded: five resubmissions a day (then 409 `limit_reached`),
/// so a case cannot grow without end nor send the family a message per request.
#[tokio::test]
async fn resubmissions_are_bounded_per_day() {
    let (app, g, id, _) = resubmitted_five_times().await;
    let body = json!({"corrections": {}, "materials": []});
    let r = app
        .post(&format!("/v1/cases/{id}/resubmit"), &g, &body)
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "limit_reached");
    assert!(!r.body["error"]["message"].as_str().unwrap().is_ascii());
}

/// At most 5 messages a case a day, the fifth kept for the case's outcome: a family
/// resubmitting an incomplete case over and over gets four messages, the rest are recorded
/// as held, and the next day's monitor run sends one summary to the phone (once, however
/// many runs there are).
#[tokio::test]
async fn a_days_messages_beyond_the_cap_are_held_for_one_summary_the_next_day() {
    let (app, g, id, f) = resubmitted_five_times().await;
    let incomplete = |sent: &[ports::Delivered]| {
        sent.iter()
            .filter(|d| d.notification.kind.as_str() == "incomplete")
            .count()
    };
    let mut sent = vec![];
    for _ in 0..400 {
        sent = app.sent_about(&id).await;
        if incomplete(&sent) >= 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(incomplete(&sent), 6, "six incomplete notices recorded");
    // Four of the day's messages about the case to the applicant's phone went out (the
    // fifth is kept for the case's outcome); every later one is held.
    sent.sort_by_key(|d| d.notification.seq);
    let phone = f["applicant"]["phone"].as_str().unwrap().to_string();
    let to_phone: Vec<_> = sent
        .iter()
        .filter(|d| d.notification.phone == phone)
        .collect();
    let held: Vec<_> = sent.iter().filter(|d| d.channel == ports::HELD).collect();
    assert_eq!(held.len(), to_phone.len() - 4, "{sent:?}");
    assert!(to_phone[..4].iter().all(|d| d.channel != ports::HELD));
    assert!(held.iter().all(|d| d.notification.phone == phone));
    // The family still reads every notice on the case itself.
    let case = app.case(&id, &g).await;
    assert_eq!(case["notifications"].as_array().unwrap().len(), sent.len());
    // The next day: one summary to the phone, naming the count and no case detail.
    let running = app.running.as_ref().unwrap();
    let mut later = running.app.clone();
    later.clock = std::sync::Arc::new(DaysLater(1));
    let tick = application::handlers::sla_tick(&later, chrono::Duration::days(100))
        .await
        .unwrap();
    assert_eq!(tick.held_summaries, 1);
    let today = domain::case::shanghai_now(chrono::Utc::now()).date_naive();
    let summary = domain::notice::held_summary(today, &phone, 1);
    let got = app.sent_about(&summary.case_id).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].notification.phone, phone);
    let count = format!("另有 {} 条", held.len());
    assert!(
        got[0].notification.body.contains(&count),
        "{}",
        got[0].notification.body
    );
    assert!(!got[0].notification.body.contains(&id));
    let again = application::handlers::sla_tick(&later, chrono::Duration::days(100))
        .await
        .unwrap();
    assert_eq!(again.held_summaries, 0, "one summary per phone and day");
}

/// Someone else's case and no case at all answer alike, and no sooner than the refusal
/// floor, so how long the store took to read the other family's case is not told.
#[tokio::test]
async fn someone_elses_case_and_no_case_answer_alike_and_no_sooner_than_the_floor() {
    let app = TestApp::start().await;
    let id = app.apply(&app.guardian(FATHER_A), &form_a()).await;
    let stranger = app.guardian(MOTHER_B);
    let mut bodies = vec![];
    for path in [
        format!("/v1/cases/{id}"),
        "/v1/cases/BC00000000000000000000".into(),
    ] {
        for _ in 0..5 {
            let started = std::time::Instant::now();
            let r = app.get(&path, &stranger).await;
            let took = started.elapsed();
            assert_eq!(r.status, 404, "{}", r.body);
            assert!(took >= api::REFUSAL_FLOOR, "{path}: {took:?}");
            bodies.push(r.body["error"].clone());
        }
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
}

/// Every download of a document leaves one audit event: the grant names who was handed
/// the link, the download by the link names the object and the case; a certificate's PDF
/// alike.
#[tokio::test]
async fn every_document_download_leaves_one_audit_event() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.wait_for(&id, &g, "completed").await;
    let mid = app.upload(&id, &g, "other").await;
    let r = app
        .get(&format!("/v1/cases/{id}/materials/{mid}"), &g)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let url = r.body["download_url"].as_str().unwrap().to_string();
    let certs = app.get(&format!("/v1/cases/{id}/certificates"), &g).await;
    let cert = &certs.body["certificates"][0];
    let pdf = cert["document_url"].as_str().unwrap().to_string();
    for (link, rid) in [(url, "rq-dl-material"), (pdf, "rq-dl-certificate")] {
        let path = link.trim_start_matches(&app.base).to_string();
        let r = app
            .raw("GET", &path, None, &[("x-request-id", rid)], Bytes::new())
            .await;
        assert_eq!(r.status, 200, "{rid}");
    }
    let events = app.audit_events();
    let of =
        |rid: &str| -> Vec<&Value> { events.iter().filter(|e| e["request_id"] == rid).collect() };
    let material = of("rq-dl-material");
    assert_eq!(material.len(), 1);
    assert_eq!(material[0]["actor"], "download_link");
    assert_eq!(material[0]["cases"], json!([id]));
    assert_eq!(material[0]["fields"], json!([format!("material:{mid}")]));
    let certificate = of("rq-dl-certificate");
    assert_eq!(certificate.len(), 1);
    assert_eq!(
        certificate[0]["fields"],
        json!([format!("certificate:{}", cert["cert_id"].as_str().unwrap())])
    );
}

/// Family E's application (nothing in data sharing) resubmitted unchanged five times in a
/// day, each answered with the one notice again; the server, the guardian's token, the
/// case and its form.
async fn resubmitted_five_times() -> (TestApp, String, String, Value) {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_E);
    let f = with_parents(form_a(), Some(("赵强", FATHER_E)), ("钱丽", MOTHER_E));
    let id = app.apply(&g, &f).await;
    let path = format!("/v1/cases/{id}/resubmit");
    let body = json!({"corrections": {}, "materials": []});
    for round in 1..=5 {
        app.wait_for(&id, &g, "incomplete").await;
        let r = app.post(&path, &g, &body).await;
        assert_eq!(r.status, 202, "round {round}: {}", r.body);
    }
    app.wait_for(&id, &g, "incomplete").await;
    (app, g, id, f)
}
