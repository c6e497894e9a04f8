//! Restarts, duplicate and poison messages, hostile uploads, the SLA monitor.

use crate::helpers::*;
use bytes::Bytes;
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn restart_loses_nothing() {
    let mut app = TestApp::start_loaded(&["police"]).await;
    let g = app.guardian(FATHER_A);
    let waiting = app.apply(&g, &newborn(1)).await;
    app.task_for("police", &waiting).await;
    // Submit a burst and stop abruptly while it is in flight.
    let mut ids = vec![];
    for i in 0..10 {
        ids.push(app.apply(&g, &testkit::family::form_a_nth(9 + i, 3)).await);
    }
    app.restart(true).await;
    let task = app.task_for("police", &waiting).await;
    assert_eq!(
        app.decide("police", &task, "approve", &[]).await.status,
        200
    );
    app.wait_for(&waiting, &g, "completed").await;
    for id in &ids {
        let t = app.task_for("police", id).await;
        assert_eq!(app.decide("police", &t, "approve", &[]).await.status, 200);
    }
    let mut numbers = std::collections::HashSet::new();
    for id in &ids {
        let c = app.wait_for(id, &g, "completed").await;
        assert!(
            numbers.insert(
                c["results"]["newborn_id_number"]
                    .as_str()
                    .unwrap()
                    .to_string()
            ),
            "unique numbers"
        );
        assert_eq!(
            c["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["kind"] == "completed")
                .count(),
            1
        );
    }
    // A graceful restart keeps everything too.
    app.restart(false).await;
    assert_eq!(
        app.get("/v1/cases", &g).await.body["cases"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
}

#[tokio::test]
async fn duplicate_messages_change_nothing() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let done = app.wait_for(&id, &g, "completed").await;
    let running = app.running.as_ref().unwrap();
    // Redeliver every kind of message for this case.
    for step in domain::Step::ALL {
        let env = application::Envelope::Step {
            case_id: id.clone(),
            step,
        };
        let out = env.to_out();
        running
            .app
            .queues
            .send(&out.queue, &out.body)
            .await
            .unwrap();
        application::handlers::handle(&running.app, &env)
            .await
            .unwrap();
    }
    application::handlers::handle(
        &running.app,
        &application::Envelope::Archive {
            case_id: id.clone(),
        },
    )
    .await
    .unwrap();
    application::handlers::handle(
        &running.app,
        &application::Envelope::Notify {
            case_id: id.clone(),
            notice: domain::case::NoticeKind::Completed,
            seq: 3,
            note: None,
            archive_after: None,
        },
    )
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let after = app.case(&id, &g).await;
    assert_eq!(after["results"], done["results"]);
    assert_eq!(after["version"], done["version"]);
    assert_eq!(
        after["notifications"].as_array().unwrap().len(),
        done["notifications"].as_array().unwrap().len()
    );
}

#[tokio::test]
async fn poison_message_goes_to_its_dlq_and_can_be_redriven() {
    let app = TestApp::start().await;
    let running = app.running.as_ref().unwrap();
    let q = &running.queues;
    q.send(
        "certify-birth",
        r#"{"kind":"step","case_id":"BC-NOPE","step":"birth_certificate"}"#,
    )
    .await
    .unwrap();
    q.send("certify-birth", "not json at all").await.unwrap();
    // Meanwhile real work flows.
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.wait_for(&id, &g, "completed").await;
    let mut dead = vec![];
    for _ in 0..200 {
        dead = q.dead_letters("certify-birth").await.unwrap();
        if dead.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        dead.len(),
        2,
        "both poison messages dead-lettered after the maximum receives"
    );
    assert!(dead
        .iter()
        .all(|d| d.receive_count == 5 && d.last_error.is_some()));
    assert_eq!(
        q.redrive("certify-birth", Some(&dead[0].message_id))
            .await
            .unwrap(),
        1
    );
    assert_eq!(q.dead_letters("certify-birth").await.unwrap().len(), 1);
}

#[tokio::test]
async fn hostile_uploads_are_refused() {
    let (app, g, id) = incomplete_case().await;
    // Bad declarations, all reported together.
    let r = app
        .post(
            &format!("/v1/cases/{id}/materials"),
            &g,
            &json!({"kind": "selfie", "content_type": "text/html", "size": 20_000_000}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["details"].as_array().unwrap().len(), 3);
    let bytes = pdf_bytes();
    let r = app
        .post(
            &format!("/v1/cases/{id}/materials"),
            &g,
            &json!({"kind": "mother_id_card", "content_type": "image/png", "size": bytes.len()}),
        )
        .await;
    assert_eq!(r.status, 201);
    let url = r.body["upload_url"].as_str().unwrap().to_string();
    // PDF bytes declared as PNG: refused by magic bytes.
    let put = app
        .raw(
            "PUT",
            &url,
            None,
            &[("content-type", "image/png")],
            Bytes::from(bytes.clone()),
        )
        .await;
    assert_eq!(put.status, 415);
    // Wrong content type header, wrong length, tampered signature, traversal.
    assert_eq!(
        app.raw(
            "PUT",
            &url,
            None,
            &[("content-type", "application/pdf")],
            Bytes::from(bytes.clone())
        )
        .await
        .status,
        415
    );
    assert_eq!(
        app.raw(
            "PUT",
            &url,
            None,
            &[("content-type", "image/png")],
            Bytes::from_static(b"\x89PNG\r\n\x1a\nshort")
        )
        .await
        .status,
        400
    );
    let tampered = url.replace("signature=", "signature=00");
    assert_eq!(
        app.raw(
            "PUT",
            &tampered,
            None,
            &[("content-type", "image/png")],
            Bytes::from(bytes.clone())
        )
        .await
        .status,
        403
    );
    let traversal = url.replace("/uploads/materials/", "/uploads/materials/../../");
    assert_eq!(
        app.raw(
            "PUT",
            &traversal,
            None,
            &[("content-type", "image/png")],
            Bytes::from(bytes.clone())
        )
        .await
        .status,
        403
    );
    // Resubmitting with a material that never arrived lists it.
    let mid = r.body["material_id"].as_str().unwrap();
    let rs = app
        .post(
            &format!("/v1/cases/{id}/resubmit"),
            &g,
            &json!({"materials": [mid, "M-unknown"]}),
        )
        .await;
    assert_eq!(rs.status, 400);
    assert_eq!(rs.body["error"]["details"].as_array().unwrap().len(), 2);
    // Oversized JSON body.
    let big = "x".repeat(100_000);
    let r = app
        .raw(
            "POST",
            &format!("/v1/cases/{id}/complaints"),
            Some(&g),
            &[("content-type", "application/json")],
            Bytes::from(json!({"text": big}).to_string()),
        )
        .await;
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn sla_monitor_marks_overdue_and_redrives_stragglers() {
    let app = TestApp::start_with(&["hospital"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    app.task_for("hospital", &id).await;
    let running = app.running.as_ref().unwrap();
    // Twelve days on, the step and the case are past their limits.
    let mut later = running.app.clone();
    later.clock = Arc::new(DaysLater(12));
    let tick = sla_monitor::tick(&later).await.unwrap();
    assert!(tick.marked_overdue >= 1);
    let case = app.case(&id, &g).await;
    assert_eq!(case["overdue"], true);
    let bc = case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "birth_certificate")
        .unwrap();
    assert_eq!(bc["overdue"], true);
    let tasks = app.get("/v1/tasks", &app.officer("hospital")).await;
    assert_eq!(tasks.body["tasks"][0]["overdue"], true);
    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    let rep = app
        .get(
            &format!("/v1/supervision/report?from={today}&to={today}"),
            &app.supervisor(),
        )
        .await;
    assert_eq!(rep.body["per_case"][0]["overdue"], true);

    // A case whose automatic step lost its message is re-driven.
    let app2 = TestApp::start().await;
    let r2 = app2.running.as_ref().unwrap();
    let g2 = app2.guardian(FATHER_A);
    let id2 = app2.apply(&g2, &form_a()).await;
    app2.wait_for(&id2, &g2, "completed").await;
    let stored: domain::Case = r2.app.store.get(&id2).await.unwrap().unwrap();
    // Rewind the stored document to "in progress at the police" with no message queued
    // (as a lost message would leave it).
    let idx = domain::Step::HouseholdRegistration.index();
    let mut doc = serde_json::to_value(&stored).unwrap();
    for s in doc["steps"].as_array_mut().unwrap().iter_mut().skip(idx) {
        s["status"] = json!("pending");
    }
    doc["steps"][idx]["status"] = json!("in_progress");
    doc["status"] = json!("in_progress");
    doc["finished_at"] = serde_json::Value::Null;
    doc["archive"] = serde_json::Value::Null;
    doc["results"].as_object_mut().unwrap().remove("issuance");
    let mut stuck: domain::Case = serde_json::from_value(doc).unwrap();
    // Committed as the repository commits (its next check for the SLA monitor included).
    let expected = stuck.prepare_commit(&r2.app.calendar, &r2.app.settings);
    r2.app.store.commit(&stuck, expected, &[]).await.unwrap();
    // The monitor's next run after the case's next check (a day on).
    let mut later2 = r2.app.clone();
    later2.clock = Arc::new(DaysLater(1));
    let tick = application::handlers::sla_tick(&later2, chrono::Duration::seconds(-1))
        .await
        .unwrap();
    assert_eq!(tick.redriven, 1);
    let done = app2.wait_for(&id2, &g2, "completed").await;
    assert!(done["results"]["issuance"].is_object());
}

/// A store on which every write of one case fails (as a DynamoDB item near its size limit
/// would).
struct OneCaseFails {
    inner: Arc<dyn ports::CaseStore>,
    case_id: String,
}

#[async_trait::async_trait]
impl ports::CaseStore for OneCaseFails {
    async fn get(&self, id: &str) -> Result<Option<domain::Case>, ports::StoreError> {
        self.inner.get(id).await
    }
    async fn create(
        &self,
        case: &domain::Case,
        scope: &str,
        outbox: &[ports::OutMessage],
    ) -> Result<ports::Created, ports::StoreError> {
        self.inner.create(case, scope, outbox).await
    }
    async fn commit(
        &self,
        case: &domain::Case,
        expected: u64,
        outbox: &[ports::OutMessage],
    ) -> Result<(), ports::StoreError> {
        if case.case_id() == self.case_id {
            return Err(ports::StoreError::Corrupt("item too large".into()));
        }
        self.inner.commit(case, expected, outbox).await
    }
    async fn by_owner(&self, owner: &str) -> Result<Vec<domain::Case>, ports::StoreError> {
        self.inner.by_owner(owner).await
    }
    async fn naming_newborn(
        &self,
        mother_id: &str,
        newborn_claim: &str,
    ) -> Result<Vec<domain::Case>, ports::StoreError> {
        self.inner.naming_newborn(mother_id, newborn_claim).await
    }
    async fn by_person(&self, id_number: &str) -> Result<Vec<domain::Case>, ports::StoreError> {
        self.inner.by_person(id_number).await
    }
}

/// One case the monitor cannot write never stops the run: the other cases are still
/// marked, and the failure is counted.
#[tokio::test]
async fn one_failing_case_never_stops_an_sla_monitor_run() {
    let app = TestApp::start_with(&["hospital"]).await;
    let g = app.guardian(FATHER_A);
    let first = app.apply(&g, &newborn(1)).await;
    let second = app.apply(&g, &newborn(2)).await;
    app.task_for("hospital", &first).await;
    app.task_for("hospital", &second).await;
    let running = app.running.as_ref().unwrap();
    let mut later = running.app.clone();
    later.clock = Arc::new(DaysLater(12));
    later.store = Arc::new(OneCaseFails {
        inner: running.app.store.clone(),
        case_id: first.clone(),
    });
    let tick = application::handlers::sla_tick(&later, chrono::Duration::days(1))
        .await
        .expect("the run completes");
    assert_eq!(
        (tick.scanned, tick.failed, tick.marked_overdue),
        (2, 1, 1),
        "{tick:?}"
    );
    assert_eq!(app.case(&second, &g).await["overdue"], true);
    assert_eq!(app.case(&first, &g).await["overdue"], false);
}

#[tokio::test]
async fn concurrent_resubmissions_resume_once() {
    let app = TestApp::start_with(&["hospital"]).await;
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &form_a()).await;
    let task = app.task_for("hospital", &id).await;
    assert_eq!(
        app.decide("hospital", &task, "return", &["请核对出生时间"])
            .await
            .status,
        200
    );
    let body = json!({"corrections": {"newborn": {"name": "王小河"}}});
    let path = format!("/v1/cases/{id}/resubmit");
    let (a, b) = tokio::join!(app.post(&path, &g, &body), app.post(&path, &g, &body));
    let mut codes = vec![a.status, b.status];
    codes.sort();
    assert_eq!(
        codes,
        vec![202, 409],
        "one resumption; the other finds the case already resumed"
    );
    let case = app.wait_for(&id, &g, "awaiting_review").await;
    let resumed = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "resubmitted")
        .count();
    assert_eq!(resumed, 1);
    let bc = case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "birth_certificate")
        .unwrap();
    assert_eq!(bc["round"], 2);
}

#[tokio::test]
async fn hostile_bodies_never_cause_a_5xx() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let post = |body: Bytes| {
        app.raw(
            "POST",
            "/v1/applications",
            Some(&g),
            &[
                ("content-type", "application/json"),
                ("idempotency-key", "h"),
            ],
            body,
        )
    };
    // Invalid UTF-8.
    assert_eq!(
        post(Bytes::from_static(b"{\"channel\": \"\xff\xfe\"}"))
            .await
            .status,
        400
    );
    // Deeply nested JSON.
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert_eq!(post(Bytes::from(deep)).await.status, 400);
    // Control characters in names are refused with the field named.
    let mut f = form_a();
    f["newborn"]["name"] = json!("王\u{0007}小溪");
    let r = post(Bytes::from(f.to_string())).await;
    assert_eq!(r.status, 400);
    assert!(r.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["field"] == "newborn.name" && d["code"] == "control_character"));
    // Not an object; huge numbers; wrong types everywhere.
    for body in [
        "[]",
        "null",
        "\"x\"",
        "{\"newborn\": {\"weight_g\": 1e400}}",
        "{\"channel\": 5, \"newborn\": []}",
    ] {
        let r = post(Bytes::from(body)).await;
        assert_eq!(r.status, 400, "{body}");
    }
    // Identifiers with traversal or junk are simply not found.
    for id in ["..%2F..%2Fetc%2Fpasswd", "a%00b", "%E4%BD%A0"] {
        assert_eq!(
            app.get(&format!("/v1/cases/{id}"), &g).await.status,
            404,
            "{id}"
        );
    }
    let officer = app.officer("police");
    let r = app
        .post(
            "/v1/tasks/..%2F..%2Fx/decision",
            &officer,
            &json!({"decision": "approve", "version": 1}),
        )
        .await;
    assert_eq!(r.status, 404);
    // Unknown paths and methods.
    assert_eq!(
        app.raw("DELETE", "/v1/cases", Some(&g), &[], Bytes::new())
            .await
            .status,
        405
    );
    assert_eq!(
        app.raw("GET", "/v2/anything", Some(&g), &[], Bytes::new())
            .await
            .status,
        404
    );
}

/// A material's bytes are written once: its upload URL cannot replace them after they are
/// stored (or after an officer reviewed them), and nothing is uploaded to an ended case.
#[tokio::test]
async fn a_materials_bytes_are_written_once_and_never_to_an_ended_case() {
    let (app, g, id) = incomplete_case().await;
    let bytes = pdf_bytes();
    let ticket = |kind: &'static str| {
        let app = &app;
        let g = g.clone();
        let id = id.clone();
        let size = bytes.len();
        async move {
            let r = app
                .post(
                    &format!("/v1/cases/{id}/materials"),
                    &g,
                    &json!({"kind": kind, "content_type": "application/pdf", "size": size}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.body["upload_url"].as_str().unwrap().to_string()
        }
    };
    let put = |url: String, body: Vec<u8>| {
        let app = &app;
        async move {
            app.raw(
                "PUT",
                &url,
                None,
                &[("content-type", "application/pdf")],
                Bytes::from(body),
            )
            .await
        }
    };
    let url = ticket("mother_id_card").await;
    let first = put(url.clone(), bytes.clone()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    // The same URL again, with other bytes of the same length or the same bytes: refused.
    let mut other = bytes.clone();
    let last = other.len() - 1;
    other[last] ^= 1;
    assert_eq!(put(url.clone(), other).await.status, 409);
    assert_eq!(put(url.clone(), bytes.clone()).await.status, 409);
    let case = app.case(&id, &g).await;
    assert_eq!(case["materials"][0]["sha256"], first.body["sha256"]);
    // An ended case takes no upload, even on a URL handed out before it ended.
    let url = ticket("father_id_card").await;
    let r = app
        .post(&format!("/v1/cases/{id}/withdraw"), &g, &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(put(url, bytes.clone()).await.status, 409);
}

/// A permanent failure never loops: with the county's citizen ID sequence for the day
/// used up, the police step waits in the police queue with the reason, in Chinese, and
/// nothing is dead-lettered or retried.
#[tokio::test]
async fn an_exhausted_id_sequence_hands_the_step_to_the_police_with_the_reason() {
    let app = TestApp::start().await;
    let running = app.running.as_ref().unwrap();
    let f = form_a();
    let born = chrono::DateTime::parse_from_rfc3339(f["newborn"]["birth_time"].as_str().unwrap())
        .unwrap()
        .date_naive();
    let sex = match f["newborn"]["sex"].as_str().unwrap() {
        "male" => domain::idnum::Sex::Male,
        _ => domain::idnum::Sex::Female,
    };
    let ns = format!(
        "citizen_id:330106:{}:{}",
        born.format("%Y%m%d"),
        f["newborn"]["sex"].as_str().unwrap()
    );
    let max = domain::idnum::IdNumber::max_ordinal(sex) as u64;
    for k in 0..max {
        running
            .app
            .numbers
            .allocate(&ns, &format!("another-newborn-{k}"), max)
            .await
            .unwrap();
    }
    let g = app.guardian(FATHER_A);
    let id = app.apply(&g, &f).await;
    let task = app.task_for("police", &id).await;
    assert_eq!(task["step"], "household_registration", "{task}");
    let case = app.case(&id, &g).await;
    let step = case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "household_registration")
        .unwrap()
        .clone();
    assert_eq!(step["status"], "awaiting_review", "{step}");
    // In the officer's task and on the case's step.
    let reasons = format!("{task} {step}");
    assert!(
        reasons.contains("公民身份号码顺序码已用完"),
        "the reason is shown: {reasons}"
    );
    assert!(
        !reasons.contains(&ns),
        "no namespace (birth date, sex) in the reason"
    );
    // Nothing went to a dead-letter queue.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for q in domain::flow::all_queues() {
        assert!(
            running.queues.dead_letters(q).await.unwrap().is_empty(),
            "{q} has dead letters"
        );
    }
}

/// A file is checked from end to end, not by its first bytes alone: a web page with a PDF
/// or PNG signature glued on is refused, a real PDF and PNG are taken.
#[tokio::test]
async fn a_signature_glued_onto_a_page_is_not_a_scan() {
    let (app, g, id) = incomplete_case().await;
    let page = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    let png_sig = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut png_page = png_sig.to_vec();
    png_page.extend(&page);
    let mut pdf_page = b"%PDF-1.4\n".to_vec();
    pdf_page.extend(&page);
    let mut real_png = png_sig.to_vec();
    real_png.extend([0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
    for (ct, bytes, want) in [
        ("image/png", png_page, 415),
        ("application/pdf", pdf_page, 415),
        ("image/png", real_png, 200),
        ("application/pdf", pdf_bytes(), 200),
    ] {
        let r = app
            .post(
                &format!("/v1/cases/{id}/materials"),
                &g,
                &json!({"kind": "other", "content_type": ct, "size": bytes.len()}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let url = r.body["upload_url"].as_str().unwrap().to_string();
        let put = app
            .raw(
                "PUT",
                &url,
                None,
                &[("content-type", ct)],
                Bytes::from(bytes),
            )
            .await;
        assert_eq!(put.status, want, "{ct}: {}", put.body);
    }
}

/// One guardian cannot hold the server's upload slots: two slow uploads of theirs at once,
/// the third is 429 before its body is read, and another family's upload still goes in.
#[tokio::test]
async fn one_guardians_slow_uploads_hold_two_slots_not_all() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (app, g, id) = incomplete_case().await;
    let bytes = pdf_bytes();
    let mut urls = vec![];
    for _ in 0..3 {
        let r = app
            .post(
                &format!("/v1/cases/{id}/materials"),
                &g,
                &json!({"kind": "other", "content_type": "application/pdf", "size": bytes.len()}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        urls.push(r.body["upload_url"].as_str().unwrap().to_string());
    }
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut slow = vec![];
    for url in &urls {
        let path = url.trim_start_matches(&app.base);
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/pdf\r\n\
             Content-Length: {}\r\n\r\n%PDF-",
            bytes.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        slow.push(s);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut third = slow.pop().unwrap();
    let mut answer = [0u8; 12];
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        third.read_exact(&mut answer),
    )
    .await
    .expect("answered before its body")
    .unwrap();
    assert_eq!(&answer, b"HTTP/1.1 429");
    // Another family uploads meanwhile.
    let gc = app.guardian(FATHER_C);
    let fc = with_parents(form_a(), Some(("张伟", FATHER_C)), ("刘芳", MOTHER_C));
    let theirs = app.apply(&gc, &fc).await;
    app.wait_for(&theirs, &gc, "incomplete").await;
    app.upload(&theirs, &gc, "marriage_certificate").await;
    drop(slow);
}

/// A running server with family E's application waiting for every material.
async fn incomplete_case() -> (TestApp, String, String) {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_E);
    let id = app
        .apply(
            &g,
            &with_parents(form_a(), Some(("钱进", FATHER_E)), ("郑兰", MOTHER_E)),
        )
        .await;
    app.wait_for(&id, &g, "incomplete").await;
    (app, g, id)
}
