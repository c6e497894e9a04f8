//! The HTTP data-sharing adapter against a local stub of the provincial platform.

use crate::helpers::*;
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use ports::{DataSharing, StoreError};

/// A stub of the provincial data-sharing platform on 127.0.0.1 (API key `k`): its base URL.
pub(crate) async fn stub() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let registry: domain::sharing::Registry =
        serde_json::from_str(application::sample_registry()).unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let registry = registry.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let registry = registry.clone();
                    async move {
                        let reply = |status: u16, body: String| {
                            Ok::<_, std::convert::Infallible>(
                                http::Response::builder()
                                    .status(status)
                                    .body(Full::new(Bytes::from(body)))
                                    .unwrap(),
                            )
                        };
                        if req.headers().get("x-api-key").map(|v| v.as_bytes()) != Some(b"k") {
                            return reply(401, "{}".into());
                        }
                        let path = req.uri().path().to_string();
                        let q = req.uri().query().unwrap_or("").to_string();
                        let json = |v: Option<serde_json::Value>| match v {
                            Some(v) => reply(200, v.to_string()),
                            None => reply(404, "{}".into()),
                        };
                        if path == "/people/BROKEN" {
                            return reply(500, "oops".into());
                        }
                        if let Some(id) = path.strip_prefix("/people/") {
                            return json(
                                registry
                                    .people
                                    .iter()
                                    .find(|p| p.id_number == id)
                                    .map(|p| serde_json::to_value(p).unwrap()),
                            );
                        }
                        if let Some(n) = path.strip_prefix("/households/") {
                            return json(
                                registry
                                    .households
                                    .iter()
                                    .find(|h| h.household_number == n)
                                    .map(|h| serde_json::to_value(h).unwrap()),
                            );
                        }
                        if path == "/marriages" {
                            let get = |k: &str| {
                                q.split('&')
                                    .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                                    .unwrap_or("")
                                    .to_string()
                            };
                            let (h, w) = (get("husband"), get("wife"));
                            return json(
                                registry
                                    .marriages
                                    .iter()
                                    .find(|m| m.husband_id_number == h && m.wife_id_number == w)
                                    .map(|m| serde_json::to_value(m).unwrap()),
                            );
                        }
                        if let Some(c) = path.strip_prefix("/institutions/") {
                            return json(
                                registry
                                    .institutions
                                    .iter()
                                    .find(|i| i.code == c)
                                    .map(|i| serde_json::to_value(i).unwrap()),
                            );
                        }
                        reply(404, "{}".into())
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn http_data_sharing_adapter() {
    let base = stub().await;
    let s = aws::HttpSharing::new(&base, aws::ApiKey::Static("k".into())).unwrap();
    assert_eq!(s.person(FATHER_A).await.unwrap().unwrap().name, "王海");
    assert!(
        s.person(FATHER_E).await.unwrap().is_none(),
        "404: sharing has no record"
    );
    assert_eq!(
        s.household("330106000001")
            .await
            .unwrap()
            .unwrap()
            .address_code,
        "330106"
    );
    assert!(s.marriage(FATHER_A, MOTHER_A).await.unwrap().is_some());
    assert!(s.marriage(FATHER_C, MOTHER_C).await.unwrap().is_none());
    assert_eq!(
        s.institution("H330106001")
            .await
            .unwrap()
            .unwrap()
            .county_code,
        "330106"
    );
    assert!(
        matches!(s.person("BROKEN").await, Err(StoreError::Unavailable(_))),
        "5xx is retryable"
    );
    let wrong = aws::HttpSharing::new(&base, aws::ApiKey::Static("nope".into())).unwrap();
    assert!(matches!(
        wrong.person(FATHER_A).await,
        Err(StoreError::Unavailable(_))
    ));
    // Nothing listening: retryable, not a crash.
    let down =
        aws::HttpSharing::new("http://127.0.0.1:9", aws::ApiKey::Static("k".into())).unwrap();
    assert!(matches!(
        down.person(FATHER_A).await,
        Err(StoreError::Unavailable(_))
    ));
}

/// Personal data goes to the data-sharing platform over TLS only: a plain `http://` URL
/// is refused unless it is this host (a fixture server in tests).
#[test]
fn the_data_sharing_client_refuses_plain_http_to_another_host() {
    let key = || aws::ApiKey::Static("k".into());
    for refused in [
        "http://sharing.example.gov.cn",
        "http://127.0.0.1.attacker.example",
        "http://localhost.attacker.example/x",
        "ftp://sharing.example.gov.cn",
    ] {
        assert!(aws::HttpSharing::new(refused, key()).is_err(), "{refused}");
    }
    for allowed in [
        "https://sharing.example.gov.cn/api",
        "http://127.0.0.1:8081",
        "http://localhost/",
        "http://[::1]:9000",
    ] {
        assert!(aws::HttpSharing::new(allowed, key()).is_ok(), "{allowed}");
    }
}
