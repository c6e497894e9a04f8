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
