//! Appointments at sites' windows (issue 13): slots from the site's hours on working days,
//! bookings that never overbook a slot, one active appointment per guardian and purpose,
//! cancellation, the site's day list, and the reminder the working day before.

use crate::helpers::*;
use bytes::Bytes;
use chrono::{NaiveDate, TimeZone};
use serde_json::{json, Value};
use std::sync::Arc;

const XIHU: &str = "SC330106";

fn calendar() -> domain::Calendar {
    domain::Calendar::builtin(domain::Settings::default().unknown_year_policy)
}

/// The n-th working day after today (Beijing time).
fn working_day(n: u32) -> NaiveDate {
    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    calendar().add_workdays(today, n).unwrap().date
}

async fn slots(app: &TestApp, site: &str, day: NaiveDate) -> Value {
    let r = app
        .raw(
            "GET",
            &format!("/v1/sites/{site}/slots?date={day}"),
            None,
            &[],
            Bytes::new(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn book(site: &str, start: &Value, purpose: &str) -> Value {
    json!({"site_id": site, "start": start, "purpose": purpose})
}

struct At(chrono::DateTime<chrono::Utc>);
impl ports::Clock for At {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0
    }
}

#[tokio::test]
async fn slots_follow_the_sites_hours_on_working_days_only() {
    let app = TestApp::start().await;
    let day = working_day(1);
    let s = slots(&app, XIHU, day).await;
    let list = s["slots"].as_array().unwrap();
    assert_eq!(list.len(), 13, "09:00–12:00 and 13:30–17:00 in half hours");
    assert_eq!(list[0]["start"], format!("{day}T09:00:00+08:00"));
    assert_eq!(list[0]["capacity"], 5);
    assert_eq!(list[0]["booked"], 0);
    // A Sunday has none.
    let mut sunday = day;
    while chrono::Datelike::weekday(&sunday) != chrono::Weekday::Sun {
        sunday = sunday.succ_opt().unwrap();
    }
    assert_eq!(slots(&app, XIHU, sunday).await["slots"], json!([]));
    let r = app
        .raw(
            "GET",
            "/v1/sites/nowhere/slots?date=2027-01-04",
            None,
            &[],
            Bytes::new(),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .raw(
            "GET",
            &format!("/v1/sites/{XIHU}/slots?date=tomorrow"),
            None,
            &[],
            Bytes::new(),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn fifty_concurrent_bookings_of_a_slot_of_five_get_exactly_five() {
    let app = Arc::new(TestApp::start().await);
    let day = working_day(2);
    let start = slots(&app, XIHU, day).await["slots"][3]["start"].clone();
    let mut handles = vec![];
    for i in 0..50 {
        let app = app.clone();
        let start = start.clone();
        handles.push(tokio::spawn(async move {
            let g = app.guardian(&format!("33010619900101{i:04}"));
            app.post("/v1/appointments", &g, &book(XIHU, &start, "apply"))
                .await
        }));
    }
    let mut created = 0;
    let mut full = 0;
    for h in handles {
        let r = h.await.unwrap();
        match r.status {
            201 => created += 1,
            409 => {
                assert_eq!(r.body["error"]["code"], "slot_full", "{}", r.body);
                full += 1;
            }
            s => panic!("unexpected {s}: {}", r.body),
        }
    }
    assert_eq!((created, full), (5, 45));
    let s = slots(&app, XIHU, day).await;
    let slot = s["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["start"] == start)
        .unwrap();
    assert_eq!(slot["booked"], 5);
}

#[tokio::test]
async fn a_guardian_holds_one_appointment_per_purpose_and_cancelling_frees_the_place() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let day = working_day(1);
    let s = slots(&app, XIHU, day).await;
    let (first, second) = (
        s["slots"][0]["start"].clone(),
        s["slots"][1]["start"].clone(),
    );
    let r = app
        .post("/v1/appointments", &g, &book(XIHU, &first, "apply"))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["appointment_id"].as_str().unwrap().to_string();
    assert_eq!(r.body["code"].as_str().unwrap().len(), 6);
    assert_eq!(r.body["site_id"], XIHU);
    assert!(r.body["end"].is_string());
    // Another for the same purpose: refused; for pick-up: fine.
    let again = app
        .post("/v1/appointments", &g, &book(XIHU, &second, "apply"))
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.body["error"]["code"], "already_booked");
    let pickup = app
        .post(
            "/v1/appointments",
            &g,
            &book("西湖区行政服务中心", &second, "pickup"),
        )
        .await;
    assert_eq!(pickup.status, 201, "{}", pickup.body);
    // Not a slot, in the past, a bad purpose: beside their fields.
    let bad = app
        .post(
            "/v1/appointments",
            &g,
            &json!({"site_id": XIHU, "start": format!("{day}T09:10:00+08:00"), "purpose": "chat"}),
        )
        .await;
    assert_eq!(bad.status, 400);
    let fields: Vec<&str> = bad.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"start") && fields.contains(&"purpose"),
        "{fields:?}"
    );
    // The list, then a cancellation (twice: the same answer), then booking again.
    let mine = app.get("/v1/appointments", &g).await;
    assert_eq!(mine.body["appointments"].as_array().unwrap().len(), 2);
    let other = app.guardian(MOTHER_A);
    let path = format!("/v1/appointments/{id}");
    assert_eq!(
        app.raw("DELETE", &path, Some(&other), &[], Bytes::new())
            .await
            .status,
        404
    );
    for _ in 0..2 {
        let c = app.raw("DELETE", &path, Some(&g), &[], Bytes::new()).await;
        assert_eq!(c.status, 200, "{}", c.body);
        assert_eq!(c.body["status"], "cancelled");
    }
    let s = slots(&app, XIHU, day).await;
    assert_eq!(s["slots"][0]["booked"], 0);
    let r = app
        .post("/v1/appointments", &g, &book(XIHU, &second, "apply"))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Officers do not book.
    let w = app.window("service_center");
    let r = app
        .post("/v1/appointments", &w, &book(XIHU, &second, "apply"))
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn the_sites_window_officers_list_its_day_and_the_guardian_is_reminded_the_day_before() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    // A case first, so that the reminder has the guardian's phone.
    app.apply(&g, &form_a()).await;
    let day = working_day(2);
    let start = slots(&app, XIHU, day).await["slots"][2]["start"].clone();
    let r = app
        .post("/v1/appointments", &g, &book(XIHU, &start, "pickup"))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["appointment_id"].as_str().unwrap().to_string();
    let list_path = format!("/v1/sites/{XIHU}/appointments?date={day}");
    let own_site = app.scoped(
        "window_officer",
        Some("service_center"),
        "w-xihu",
        (Some("33"), None, Some(XIHU)),
    );
    let r = app.get(&list_path, &own_site).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.body["appointments"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["appointment_id"], id.as_str());
    let shown = items[0]["guardian"].as_str().unwrap();
    assert!(
        shown.contains('*') && !shown.contains(&FATHER_A[6..14]),
        "{shown}"
    );
    let other_site = app.scoped(
        "window_officer",
        Some("service_center"),
        "w-gongshu",
        (Some("33"), None, Some("SC330105")),
    );
    assert_eq!(app.get(&list_path, &other_site).await.status, 403);
    assert_eq!(app.get(&list_path, &g).await.status, 403);

    // The monitor reminds during the 09:00 hour of the working day before, once.
    let before = working_day(1);
    let nine_thirty = domain::calendar::shanghai()
        .from_local_datetime(&before.and_hms_opt(9, 30, 0).unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut at_nine = app.running.as_ref().unwrap().app.clone();
    at_nine.clock = Arc::new(At(nine_thirty));
    assert_eq!(
        application::booking::remind(&at_nine, false).await.unwrap(),
        1
    );
    assert_eq!(
        application::booking::remind(&at_nine, false).await.unwrap(),
        0
    );
    let mut at_noon = at_nine.clone();
    at_noon.clock = Arc::new(At(nine_thirty + chrono::Duration::hours(3)));
    assert_eq!(
        application::booking::remind(&at_noon, false).await.unwrap(),
        0
    );
    let sent = at_nine.notifier.sent(&id).await.unwrap();
    assert_eq!(sent.len(), 1);
    let text = &sent[0].notification.body;
    assert!(
        text.contains("西湖区行政服务中心") && text.contains("预约码"),
        "{text}"
    );
}

/// Slots cannot be hoarded: a guardian books at most three times a day (cancelled ones
/// count), and no further ahead than the booking horizon (14 days).
#[tokio::test]
async fn booking_and_cancelling_over_and_over_stops_at_the_days_limit() {
    let app = TestApp::start().await;
    let g = app.guardian(FATHER_A);
    let day = working_day(1);
    let s = slots(&app, XIHU, day).await;
    let start = s["slots"][0]["start"].clone();
    for round in 1..=3 {
        let r = app
            .post("/v1/appointments", &g, &book(XIHU, &start, "apply"))
            .await;
        assert_eq!(r.status, 201, "round {round}: {}", r.body);
        let path = format!(
            "/v1/appointments/{}",
            r.body["appointment_id"].as_str().unwrap()
        );
        let c = app.raw("DELETE", &path, Some(&g), &[], Bytes::new()).await;
        assert_eq!(c.status, 200, "{}", c.body);
    }
    let r = app
        .post("/v1/appointments", &g, &book(XIHU, &start, "apply"))
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "limit_reached");
    assert!(!r.body["error"]["message"].as_str().unwrap().is_ascii());
    // Another guardian still books the slot; a day beyond the horizon is refused.
    let other = app.guardian(MOTHER_B);
    let r = app
        .post("/v1/appointments", &other, &book(XIHU, &start, "apply"))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let far = working_day(15);
    let s = slots(&app, XIHU, far).await;
    let late = s["slots"][0]["start"].clone();
    let r = app
        .post("/v1/appointments", &other, &book(XIHU, &late, "pickup"))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"]["details"][0]["code"], "too_far");
}

/// No slot is offered on a statutory holiday of a year whose State Council notice is not
/// loaded (元旦 and the Spring Festival of 2027), while an ordinary weekday has slots.
#[tokio::test]
async fn no_slot_on_a_statutory_holiday_without_the_years_notice() {
    let app = TestApp::start().await;
    for day in ["2027-01-01", "2027-02-05", "2027-02-08"] {
        let s = slots(
            &app,
            XIHU,
            NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap(),
        )
        .await;
        assert_eq!(s["slots"], json!([]), "{day}");
    }
    let s = slots(&app, XIHU, NaiveDate::from_ymd_opt(2027, 3, 3).unwrap()).await;
    assert!(!s["slots"].as_array().unwrap().is_empty());
}
