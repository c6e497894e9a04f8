//! An HTTP/1 client for the API under test: JSON in, JSON out.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// A response: its status, its body as JSON (`null` if it is not JSON), its headers.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: http::HeaderMap,
}

#[derive(Clone)]
pub struct Http(Client<HttpConnector, Full<Bytes>>);

impl Default for Http {
    fn default() -> Self {
        Http(Client::builder(TokioExecutor::new()).build_http())
    }
}

impl Http {
    /// `method url` with a bearer `token` (if any), these headers and this body.
    pub async fn call(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Resp {
        let mut b = http::Request::builder().method(method).uri(url);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let r = self
            .0
            .request(b.body(Full::new(body)).expect("request"))
            .await
            .expect("http");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        Resp {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            headers,
        }
    }

    /// `GET url` (a bearer `token` if any): the status, headers and raw bytes (downloads).
    pub async fn bytes(&self, url: &str, token: Option<&str>) -> (u16, http::HeaderMap, Vec<u8>) {
        let auth = token.map(|t| format!("Bearer {t}"));
        match &auth {
            Some(a) => self.bytes_with(url, &[("authorization", a)]).await,
            None => self.bytes_with(url, &[]).await,
        }
    }

    /// `GET url` with these headers: the status, headers and raw bytes.
    pub async fn bytes_with(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> (u16, http::HeaderMap, Vec<u8>) {
        let mut b = http::Request::get(url);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let r = self
            .0
            .request(b.body(Full::new(Bytes::new())).expect("request"))
            .await
            .expect("http");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.into_body().collect().await.expect("body").to_bytes();
        (status, headers, body.to_vec())
    }

    /// A JSON body, with an `Idempotency-Key` when given.
    pub async fn json(
        &self,
        method: &str,
        url: &str,
        token: &str,
        body: &Value,
        key: Option<&str>,
    ) -> Resp {
        let mut h = vec![("content-type", "application/json")];
        if let Some(k) = key {
            h.push(("idempotency-key", k));
        }
        self.call(method, url, Some(token), &h, Bytes::from(body.to_string()))
            .await
    }

    /// Push the hospital's delivery record of the birth `form` names to `base`, as the
    /// hospital's system does before a family applies, with that institution's token
    /// signed by `secret` (an injected throttle is retried).
    pub async fn record_birth(&self, base: &str, secret: &[u8], form: &Value) {
        let record = crate::family::birth_record(form);
        let code = record["institution_code"].as_str().unwrap_or_default();
        let hospital_token = crate::tokens::hospital_system(secret, code);
        let hospital_token = hospital_token.as_str();
        for _ in 0..100 {
            let r = self
                .json(
                    "POST",
                    &format!("{base}/v1/births"),
                    hospital_token,
                    &record,
                    None,
                )
                .await;
            match r.status {
                200 | 201 => return,
                503 => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                s => panic!("birth record refused: {s} {}", r.body),
            }
        }
        panic!("birth record kept being throttled");
    }
}
