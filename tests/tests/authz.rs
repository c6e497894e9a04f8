//! Who may see and do what: guardians only their own cases (others' are 404), officers
//! their department's tasks, supervisors masked views; tokens are checked.

use crate::helpers::*;
use base64::Engine;
use serde_json::json;

#[tokio::test]
async fn guardians_never_see_anothers_case() {
    let app = TestApp::start().await;
    let owner = app.guardian(FATHER_A);
    let id = app.apply(&owner, &form_a()).await;
    let stranger = app.guardian(MOTHER_B);
    for (m, path) in [
        ("GET", format!("/v1/cases/{id}")),
        ("POST", format!("/v1/cases/{id}/materials")),
        ("POST", format!("/v1/cases/{id}/resubmit")),
        ("POST", format!("/v1/cases/{id}/rating")),
        ("POST", format!("/v1/cases/{id}/complaints")),
    ] {
        let r = app
            .raw(
                m,
                &path,
                Some(&stranger),
                &[("content-type", "application/json")],
                json!({
                    "text": "x",
                    "level": 5,
                    "kind": "other",
                    "content_type": "application/pdf",
                    "size": 10,
                })
                .to_string()
                .into(),
            )
            .await;
        assert_eq!(r.status, 404, "{m} {path}: {}", r.body);
        let unknown = path.replace(&id, "BC20990101NOPE");
        let r2 = app
            .raw(
                m,
                &unknown,
                Some(&stranger),
                &[("content-type", "application/json")],
                "{}".into(),
            )
            .await;
        assert_eq!(r2.status, 404);
        assert_eq!(
            r.body, r2.body,
            "a stranger cannot tell an existing case from a missing one"
        );
    }
    assert!(app.get("/v1/cases", &stranger).await.body["cases"]
        .as_array()
        .unwrap()
        .is_empty());
    // The mother did not submit, but the case names her: she reads it (the father's ID
    // number and phone masked) and lists it as its mother; changing it is the owner's.
    let mother = app.guardian(MOTHER_A);
    let seen = app.case(&id, &mother).await;
    let father_id = seen["form"]["father"]["id_number"].as_str().unwrap();
    assert_ne!(father_id, FATHER_A);
    assert!(father_id.contains('*'), "{father_id}");
    assert_eq!(seen["form"]["mother"]["id_number"], MOTHER_A);
    assert!(seen["form"]["applicant"]["phone"]
        .as_str()
        .unwrap()
        .contains('*'));
    assert!(
        seen.get("notifications").is_none(),
        "the applicant's messages are his"
    );
    let listed = app.get("/v1/cases", &mother).await.body;
    assert_eq!(listed["cases"][0]["case_id"], id.as_str());
    assert_eq!(listed["cases"][0]["role"], "mother");
    let r = app
        .post(&format!("/v1/cases/{id}/withdraw"), &mother, &json!({}))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
}

#[tokio::test]
async fn roles_and_departments() {
    let app = TestApp::start_with(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.task_for("police", &id).await;
    // Guardians have no tasks and no report.
    assert_eq!(app.get("/v1/tasks", &g).await.status, 403);
    assert_eq!(
        app.get("/v1/supervision/report?from=2026-01-01&to=2026-01-02", &g)
            .await
            .status,
        403
    );
    // Officers cannot submit or list "their" cases; supervisors cannot decide.
    assert_eq!(
        app.submit(&app.officer("police"), "k", &form_a())
            .await
            .status,
        403
    );
    assert_eq!(
        app.get("/v1/cases", &app.officer("police")).await.status,
        403
    );
    assert_eq!(app.get("/v1/tasks", &app.supervisor()).await.status, 403);
    // Guardians cannot use offline channels; window officers only their own window's.
    let mut off = form_a();
    off["channel"] = json!("service_center");
    off["window"] = json!({"site": "s", "number": "1"});
    assert_eq!(app.submit(&g, "k2", &off).await.status, 403);
    assert_eq!(
        app.submit(&app.window("hospital"), "k3", &off).await.status,
        403
    );
    assert_eq!(
        app.submit(&app.window("service_center"), "k4", &form_a())
            .await
            .status,
        403,
        "online channel by a window"
    );
    // A guardian applies only for their own child.
    assert_eq!(
        app.submit(&app.guardian(MOTHER_B), "k5", &form_a())
            .await
            .status,
        400
    );
    // Departments the case reached see it; others do not.
    assert_eq!(
        app.get(&format!("/v1/cases/{id}"), &app.officer("police"))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get(&format!("/v1/cases/{id}"), &app.officer("hrss"))
            .await
            .status,
        404
    );
    let hospital = app.case(&id, &app.officer("hospital")).await;
    assert_eq!(
        hospital["form"]["mother"]["id_number"], MOTHER_A,
        "the departments whose step needs it see it in full"
    );
    // Guardians cannot decide tasks.
    let task = app.task_for("police", &id).await;
    let r = app
        .post(
            &format!("/v1/tasks/{}/decision", task["task_id"].as_str().unwrap()),
            &g,
            &json!({"decision": "approve", "version": task["version"]}),
        )
        .await;
    assert_eq!(r.status, 403);
}

/// Scopes fail closed: an officer's or supervisor's token without `region` (a hospital
/// officer's without `hospital`, a window's without `site` or `hospital`) is refused on
/// every route a signed-in caller uses, never read as "the whole province"; a window
/// files only under its own site.
#[tokio::test]
async fn tokens_without_their_scope_are_refused_and_windows_file_only_at_their_site() {
    let app = TestApp::start_with(&["police"]).await;
    let id = app.apply(&app.guardian(FATHER_A), &form_a()).await;
    app.task_for("police", &id).await;
    let unscoped = [
        app.scoped("dept_officer", Some("police"), "p", (None, None, None)),
        app.scoped("dept_officer", Some("health"), "h", (None, None, None)),
        app.scoped(
            "dept_officer",
            Some("hospital"),
            "ho",
            (Some("33"), None, None),
        ),
        app.scoped("supervisor", None, "s", (None, None, None)),
        app.scoped(
            "window_officer",
            Some("service_center"),
            "w",
            (Some("33"), None, None),
        ),
        app.scoped(
            "window_officer",
            Some("hospital"),
            "hw",
            (None, Some("H330106001"), None),
        ),
    ];
    let paths = [
        format!("/v1/cases/{id}"),
        "/v1/tasks?status=open".to_string(),
        "/v1/feedback".to_string(),
        "/v1/supervision/escalations".to_string(),
    ];
    for token in &unscoped {
        for path in &paths {
            let r = app.get(path, token).await;
            assert_eq!(r.status, 403, "{path}: {}", r.body);
            assert_eq!(r.body["error"]["code"], "scope_required", "{path}");
            let m = r.body["error"]["message"].as_str().unwrap();
            assert!(!m.is_ascii(), "{m}");
        }
    }
    // Province-wide is said, not implied.
    let province = app.scoped(
        "dept_officer",
        Some("police"),
        "p",
        (Some("33"), None, None),
    );
    assert_eq!(app.get(&paths[0], &province).await.status, 200);
    // A window of 拱墅 cannot file under 西湖's centre; at its own site it can.
    let mut off = form_a();
    off["channel"] = json!("service_center");
    off["window"] = json!({"site": "西湖区行政服务中心", "number": "1"});
    off["newborn"]["birth_order"] = json!(2);
    off["newborn"]["multiple_birth"] = json!(2);
    let gongshu = app.scoped(
        "window_officer",
        Some("service_center"),
        "w-gs",
        (Some("330105"), None, Some("拱墅区行政服务中心")),
    );
    let r = app.submit(&gongshu, "w1", &off).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let xihu = app.scoped(
        "window_officer",
        Some("service_center"),
        "w-xh",
        (Some("330106"), None, Some("SC330106")),
    );
    let r = app.submit(&xihu, "w2", &off).await;
    assert_eq!(r.status, 202, "{}", r.body);
}

#[tokio::test]
async fn bad_tokens_are_401() {
    let app = TestApp::start().await;
    let r = app
        .raw("GET", "/v1/cases", None, &[], Default::default())
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], "unauthorized");
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64, role: &str| api::auth::Claims {
        sub: FATHER_A.into(),
        role: role.into(),
        dept: None,
        exp,
        iat: None,
        iss: None,
        aud: None,
        ..Default::default()
    };
    let expired = api::auth::sign(&app.secret, &claims(now - 10, "guardian"));
    let wrong_key = api::auth::sign(b"not the secret", &claims(now + 100, "guardian"));
    let bad_role = api::auth::sign(&app.secret, &claims(now + 100, "admin"));
    let good = api::auth::sign(&app.secret, &claims(now + 100, "guardian"));
    let payload = good.split('.').nth(1).unwrap();
    let none = format!(
        "{}.{payload}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#)
    );
    for t in [
        expired.as_str(),
        wrong_key.as_str(),
        bad_role.as_str(),
        none.as_str(),
        "garbage",
    ] {
        assert_eq!(app.get("/v1/cases", t).await.status, 401, "{t}");
    }
    assert_eq!(app.get("/v1/cases", &good).await.status, 200);
}

/// Every endpoint × every role × own/other case or department: exactly the expected status.
#[tokio::test]
async fn authorization_matrix() {
    let app = TestApp::start_with(&["police"]).await;
    let owner = app.guardian(FATHER_A);
    let id = app.apply(&owner, &form_a()).await;
    let task = app.task_for("police", &id).await;
    let task_id = task["task_id"].as_str().unwrap().to_string();
    let stale = task["version"].as_u64().unwrap() - 1;
    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();

    let mid = app.upload(&id, &owner, "other").await;
    let far_police = app.scoped(
        "dept_officer",
        Some("police"),
        "p-wz",
        (Some("3303"), None, None),
    );
    let far_supervisor = app.scoped("supervisor", None, "s-wz", (Some("3303"), None, None));
    let who: Vec<(&str, Option<String>)> = vec![
        ("owner", Some(owner.clone())),
        ("other guardian", Some(app.guardian(MOTHER_B))),
        ("window service_center", Some(app.window("service_center"))),
        ("window hospital", Some(app.window("hospital"))),
        ("police (case reached)", Some(app.officer("police"))),
        ("hrss (not reached)", Some(app.officer("hrss"))),
        ("supervisor", Some(app.supervisor())),
        ("no token", None),
        ("police of another city", Some(far_police.clone())),
        ("supervisor of another city", Some(far_supervisor.clone())),
    ];
    // (method, path, body, expected status per row of `who`)
    let rows: Vec<(&str, String, serde_json::Value, [u16; 10])> = vec![
        (
            "GET",
            format!("/v1/cases/{id}"),
            json!(null),
            [200, 404, 404, 404, 200, 404, 200, 401, 404, 404],
        ),
        (
            "GET",
            format!("/v1/cases/{id}/certificates"),
            json!(null),
            [200, 404, 404, 404, 200, 404, 200, 401, 404, 404],
        ),
        (
            "POST",
            format!("/v1/cases/{id}/corrections"),
            json!({"corrections": {"newborn": {"name": "王小河"}}, "reason": "姓名有误"}),
            [409, 404, 404, 404, 403, 404, 403, 401, 404, 404],
        ),
        (
            "GET",
            "/v1/appointments".into(),
            json!(null),
            [200, 200, 403, 403, 403, 403, 403, 401, 403, 403],
        ),
        (
            "GET",
            format!("/v1/sites/SC330106/appointments?date={today}"),
            json!(null),
            // Only a window of that site (the hospital window works at its hospital).
            [403, 403, 200, 403, 403, 403, 403, 401, 403, 403],
        ),
        // Parents and consent: the named father (who applied) confirms again (nothing
        // changes); declining is for the parent who did not apply; an objection needs a
        // reason; voiding is the police's (of the region) and needs a reason too.
        (
            "POST",
            format!("/v1/cases/{id}/confirm-parent"),
            json!({}),
            [200, 404, 403, 403, 403, 403, 403, 401, 403, 403],
        ),
        (
            "POST",
            format!("/v1/cases/{id}/decline"),
            json!({}),
            [403, 404, 403, 403, 403, 403, 403, 401, 403, 403],
        ),
        (
            "POST",
            format!("/v1/cases/{id}/object"),
            json!({}),
            [400, 404, 403, 403, 403, 403, 403, 401, 403, 403],
        ),
        (
            "POST",
            format!("/v1/cases/{id}/void"),
            json!({}),
            [403, 404, 404, 404, 400, 404, 403, 401, 404, 404],
        ),
        (
            "GET",
            "/v1/supervision/break-glass".into(),
            json!(null),
            [403, 403, 403, 403, 403, 403, 200, 401, 403, 200],
        ),
        (
            "GET",
            "/v1/cases".into(),
            json!(null),
            [200, 200, 403, 403, 403, 403, 403, 401, 403, 403],
        ),
        (
            "POST",
            format!("/v1/cases/{id}/materials"),
            json!({"kind": "other", "content_type": "application/pdf", "size": 10}),
            [201, 404, 404, 404, 403, 404, 403, 401, 404, 404],
        ),
        (
            "POST",
            format!("/v1/cases/{id}/resubmit"),
            json!({}),
            [409, 404, 404, 404, 403, 404, 403, 401, 404, 404],
        ),
        (
            "POST",
            format!("/v1/cases/{id}/rating"),
            json!({"level": 5}),
            [409, 404, 404, 404, 403, 404, 403, 401, 404, 404],
        ),
        (
            "POST",
            format!("/v1/cases/{id}/complaints"),
            json!({"text": "慢"}),
            [201, 404, 404, 404, 403, 404, 403, 401, 404, 404],
        ),
        (
            "GET",
            "/v1/tasks?status=open".into(),
            json!(null),
            [403, 403, 403, 403, 200, 200, 403, 401, 200, 403],
        ),
        (
            "GET",
            format!("/v1/tasks/{task_id}"),
            json!(null),
            [403, 403, 403, 403, 200, 404, 403, 401, 404, 403],
        ),
        (
            "POST",
            format!("/v1/tasks/{task_id}/decision"),
            json!({"decision": "approve", "version": stale}),
            [403, 403, 403, 403, 409, 404, 403, 401, 404, 403],
        ),
        (
            "POST",
            format!("/v1/cases/{id}/withdraw"),
            json!({"reason": "不办了"}),
            // The owner may withdraw, but not while a department has the case.
            [409, 404, 404, 404, 403, 404, 403, 401, 404, 404],
        ),
        (
            "POST",
            format!("/v1/cases/{id}/premium-payment"),
            json!({"paid_at": chrono::Utc::now().to_rfc3339(), "amount_cny": 440, "receipt": "R1"}),
            [403, 403, 403, 403, 403, 403, 403, 401, 403, 403],
        ),
        // Reversing a payment is a medical-security supervisor's (none of these is one).
        (
            "POST",
            format!("/v1/cases/{id}/premium-payment/reversal"),
            json!({"reason": "误登记"}),
            [403, 404, 404, 404, 403, 404, 403, 401, 404, 404],
        ),
        (
            "POST",
            "/v1/births".into(),
            testkit::family::birth_record(&form_a()),
            [403, 403, 403, 403, 403, 403, 403, 401, 403, 403],
        ),
        (
            "GET",
            format!("/v1/supervision/report?from={today}&to={today}"),
            json!(null),
            [403, 403, 403, 403, 403, 403, 200, 401, 403, 200],
        ),
        (
            "POST",
            "/v1/applications".into(),
            newborn(2),
            [202, 400, 403, 403, 403, 403, 403, 401, 403, 403],
        ),
        (
            "GET",
            format!("/v1/cases/{id}/materials/{mid}"),
            json!(null),
            [200, 404, 404, 404, 200, 404, 403, 401, 404, 404],
        ),
        (
            "GET",
            "/v1/feedback".into(),
            json!(null),
            [403, 403, 403, 403, 200, 200, 403, 401, 200, 403],
        ),
        (
            "POST",
            format!("/v1/feedback/{id}.R9/answer"),
            json!({"text": "已答复"}),
            [403, 403, 403, 403, 404, 404, 403, 401, 404, 403],
        ),
        (
            "GET",
            "/v1/supervision/escalations".into(),
            json!(null),
            [403, 403, 403, 403, 403, 403, 200, 401, 403, 200],
        ),
        // The catalogue and each bundle's guide are public: the same for every caller,
        // with a token or without (an unknown bundle is 404 for all).
        ("GET", "/v1/catalogue".into(), json!(null), [200; 10]),
        ("GET", "/v1/catalogue/death".into(), json!(null), [200; 10]),
        (
            "GET",
            "/v1/catalogue/nothing".into(),
            json!(null),
            [404; 10],
        ),
        (
            "GET",
            "/v1/guide?bundle=death".into(),
            json!(null),
            [200; 10],
        ),
        // Only a hospital corrects its own delivery record (none of these is one; a
        // hospital's own and another's are in `identity`).
        (
            "PUT",
            "/v1/births/BR000000000000000000000000".into(),
            testkit::family::birth_record(&form_a()),
            [403, 403, 403, 403, 403, 403, 403, 401, 403, 403],
        ),
    ];
    let mut failures = vec![];
    for (method, path, body, expected) in &rows {
        for (i, (name, token)) in who.iter().enumerate() {
            let mut headers = vec![("content-type", "application/json")];
            let key = format!("matrix-{i}");
            if path == "/v1/applications" {
                headers.push(("idempotency-key", key.as_str()));
            }
            let bytes = if body.is_null() {
                bytes::Bytes::new()
            } else {
                bytes::Bytes::from(body.to_string())
            };
            let r = app
                .raw(method, path, token.as_deref(), &headers, bytes)
                .await;
            if r.status != expected[i] {
                failures.push(format!(
                    "{method} {path} as {name}: {} (expected {})",
                    r.status, expected[i]
                ));
            }
            assert!(r.status < 500, "{method} {path} as {name}: {}", r.status);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Medical security records a payment only on a case that reached it (this one waits
    // at the police: not theirs yet); hospitals record births (the same record again: 200).
    let pay = json!({"paid_at": chrono::Utc::now().to_rfc3339(), "amount_cny": 440,
                     "receipt": "R1"});
    let r = app
        .post(
            &format!("/v1/cases/{id}/premium-payment"),
            &app.officer("medical_insurance"),
            &pay,
        )
        .await;
    assert_eq!(r.status, 404);
    // A medical-security supervisor of the region: nothing was paid, nothing to reverse.
    let ms = app.scoped(
        "supervisor",
        Some("medical_insurance"),
        "s-ms",
        (Some("3301"), None, None),
    );
    let r = app
        .post(
            &format!("/v1/cases/{id}/premium-payment/reversal"),
            &ms,
            &json!({"reason": "误登记"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "not_paid");
    let r = app
        .post(
            "/v1/births",
            &app.hospital_system(&testkit::family::birth_record(&form_a())),
            &testkit::family::birth_record(&form_a()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// With an issuer and audience configured (as the API Gateway authorizer checks them),
/// tokens for another issuer or audience are 401.
#[tokio::test]
async fn wrong_issuer_or_audience_is_401() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = onething::Config::new("127.0.0.1:0".parse().unwrap(), dir.path().join("data"));
    cfg.durability = embedded::Durability::Normal;
    cfg.jwt_issuer = Some("https://auth.zjzwfw.test".into());
    cfg.jwt_audience = Some("onething".into());
    let running = onething::start(cfg).await.unwrap();
    let t = TestApp::attach(&running, running.secret.clone());
    let now = chrono::Utc::now().timestamp();
    let claims = |iss: Option<&str>, aud: Option<&str>| api::auth::Claims {
        sub: FATHER_A.into(),
        role: "guardian".into(),
        dept: None,
        exp: now + 600,
        iat: None,
        iss: iss.map(String::from),
        aud: aud.map(String::from),
        ..Default::default()
    };
    let sign = |c| api::auth::sign(&running.secret, &c);
    let good = sign(claims(Some("https://auth.zjzwfw.test"), Some("onething")));
    assert_eq!(t.get("/v1/cases", &good).await.status, 200);
    for bad in [
        claims(Some("https://evil.test"), Some("onething")),
        claims(Some("https://auth.zjzwfw.test"), Some("other-app")),
        claims(None, Some("onething")),
        claims(Some("https://auth.zjzwfw.test"), None),
    ] {
        assert_eq!(t.get("/v1/cases", &sign(bad)).await.status, 401);
    }
    running.abort();
}
