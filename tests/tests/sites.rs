//! Sites (issue 13): the operator's service centres and hospital windows, public, and the
//! applications that name them.

use crate::helpers::*;
use bytes::Bytes;
use serde_json::{json, Value};

fn named<'a>(sites: &'a Value, name: &str) -> &'a Value {
    sites["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no site named {name}"))
}

#[tokio::test]
async fn anyone_lists_the_sites_of_a_county_without_a_token() {
    let app = TestApp::start().await;
    let r = app
        .raw("GET", "/v1/sites?county=330106", None, &[], Bytes::new())
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let centre = named(&r.body, "西湖区行政服务中心");
    assert_eq!(centre["kind"], "service_center");
    assert_eq!(centre["county_code"], "330106");
    assert_eq!(centre["pickup"], true);
    assert!(centre["hours"].as_array().is_some_and(|h| !h.is_empty()));
    for field in ["site_id", "address", "windows", "phone"] {
        assert!(!centre[field].is_null(), "{field} missing");
    }
    // The registry's midwifery institution in Xihu is a site too, named as it.
    let hospital = named(&r.body, "浙江大学医学院附属妇产科医院");
    assert_eq!(hospital["kind"], "hospital");
    // Only that county's sites.
    assert!(r.body["sites"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["county_code"] == "330106"));
    // The province has one service centre per county.
    let all = app.raw("GET", "/v1/sites", None, &[], Bytes::new()).await;
    assert!(named(&all.body, "鹿城区行政服务中心")["county_code"] == "330302");
    let bad = app
        .raw("GET", "/v1/sites?county=abc", None, &[], Bytes::new())
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["error"]["details"][0]["field"], "county");
}

#[tokio::test]
async fn a_window_or_pick_up_site_not_in_the_list_is_refused_beside_its_field() {
    let app = TestApp::start().await;
    let w = app.window("service_center");
    let mut f = form_a();
    f["channel"] = json!("service_center");
    f["window"] = json!({"site": "西湖区便民服务点", "number": "1"});
    f["delivery"] = json!({"method": "pickup", "pickup_site": "不存在的领取点"});
    let r = app.submit(&w, "site-1", &f).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let details = r.body["error"]["details"].as_array().unwrap();
    let fields: Vec<&str> = details.iter().filter_map(|d| d["field"].as_str()).collect();
    assert!(fields.contains(&"window.site"), "{fields:?}");
    assert!(fields.contains(&"delivery.pickup_site"), "{fields:?}");
    assert!(details
        .iter()
        .all(|d| d["code"] == "unknown_site" && !d["message"].as_str().unwrap().is_empty()));
}

#[tokio::test]
async fn the_service_centres_region_comes_from_the_windows_site_named_by_its_id() {
    let app = TestApp::start().await;
    // Gongshu's centre by its id, for a family whose household is in Xihu.
    let sites = app
        .raw("GET", "/v1/sites?county=330105", None, &[], Bytes::new())
        .await;
    let gongshu = named(&sites.body, "拱墅区行政服务中心")["site_id"]
        .as_str()
        .unwrap()
        .to_string();
    let w = app.window_at("service_center", &gongshu);
    let mut f = form_a();
    f["channel"] = json!("service_center");
    f["window"] = json!({"site": gongshu, "number": "2"});
    f["delivery"] = Value::Null;
    let id = app.apply(&w, &f).await;
    let case = app.wait_for(&id, &w, "completed").await;
    let acceptance = case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "acceptance")
        .unwrap();
    assert_eq!(acceptance["region"], "330105");
}

#[tokio::test]
async fn an_operators_sites_file_replaces_the_sample() {
    let app = TestApp::start_with_sites(
        &json!({"sites": [{"site_id": "XH-1", "name": "西湖区出生一件事专窗",
            "kind": "service_center", "county_code": "330106", "address": "杭州市西湖区某路 1 号",
            "hours": [{"start": "08:30", "end": "12:00"}], "windows": 3, "pickup": false,
            "phone": "0571-00000000"}]})
        .to_string(),
    )
    .await;
    let r = app.raw("GET", "/v1/sites", None, &[], Bytes::new()).await;
    assert_eq!(r.body["sites"].as_array().unwrap().len(), 1);
    // Not a pick-up site.
    let mut f = form_a();
    f["delivery"] = json!({"method": "pickup", "pickup_site": "XH-1"});
    let g = app.guardian(FATHER_A);
    let r = app.submit(&g, "site-2", &f).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["details"][0]["code"], "not_a_pickup_site");
}
