//! API Gateway HTTP API events (payload format 2.0) to and from the `http` types that
//! [`crate::Api::handle`] takes: method, raw path and query, headers, cookies, the body
//! (base64-decoded when API Gateway says so), and the claims its JWT authorizer verified.
//! A few lines on `aws_lambda_events` instead of `lambda_http`, to keep the function's
//! zip small (see docs/benchmarks.md).

use crate::auth::Claims;
use crate::Api;
use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::{
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext, ApiGatewayV2httpResponse,
};
use base64::Engine;
use bytes::Bytes;
use http::{header, Request, Response, StatusCode};

/// Serve one API Gateway event.
pub async fn handle(api: &Api, event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let resp = match into_request(event) {
        Ok(req) => api.handle(req).await,
        Err(message) => {
            crate::error_response(StatusCode::BAD_REQUEST, "invalid_request", &message, vec![])
        }
    };
    from_response(resp)
}

/// The claims of API Gateway's JWT authorizer (it has checked signature, issuer, audience
/// and expiry before the function is invoked).
pub fn claims(ctx: &ApiGatewayV2httpRequestContext) -> Option<Claims> {
    let c = &ctx.authorizer.as_ref()?.jwt.as_ref()?.claims;
    Some(Claims {
        sub: c.get("sub")?.clone(),
        role: c.get("role")?.clone(),
        dept: c.get("dept").cloned(),
        exp: c
            .get("exp")
            .and_then(|e| e.parse().ok())
            .unwrap_or(i64::MAX),
        iat: None,
        iss: c.get("iss").cloned(),
        aud: c.get("aud").cloned(),
        nbf: None,
        scope: domain::case::Scope {
            region: c.get("region").cloned(),
            hospital: c.get("hospital").cloned(),
            site: c.get("site").cloned(),
        },
    })
}

pub fn into_request(e: ApiGatewayV2httpRequest) -> Result<Request<Bytes>, String> {
    let path = e
        .raw_path
        .clone()
        .or_else(|| e.request_context.http.path.clone())
        .unwrap_or_else(|| "/".into());
    let uri = match e.raw_query_string.as_deref() {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path,
    };
    let body = match e.body {
        None => Bytes::new(),
        Some(b) if e.is_base64_encoded => Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(b.as_bytes())
                .map_err(|_| "the body is not valid base64".to_string())?,
        ),
        Some(b) => Bytes::from(b),
    };
    let mut req = Request::builder()
        .method(e.request_context.http.method.clone())
        .uri(uri)
        .body(body)
        .map_err(|_| "malformed request line".to_string())?;
    *req.headers_mut() = e.headers;
    if let Some(cookies) = e.cookies.filter(|c| !c.is_empty()) {
        if let Ok(v) = cookies.join("; ").parse() {
            req.headers_mut().insert(header::COOKIE, v);
        }
    }
    if let Some(c) = claims(&e.request_context) {
        req.extensions_mut().insert(c);
    }
    // A caller without its own request id gets API Gateway's (one id in the access log,
    // the function's log lines and the response).
    if crate::caller_request_id(req.headers()).is_none() {
        if let Some(v) = e
            .request_context
            .request_id
            .as_deref()
            .and_then(|id| http::HeaderValue::from_str(id).ok())
        {
            req.headers_mut().insert("x-request-id", v);
        }
    }
    Ok(req)
}

pub fn from_response(r: Response<Bytes>) -> ApiGatewayV2httpResponse {
    let (parts, body) = r.into_parts();
    let mut headers = parts.headers;
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    // Payload 2.0 carries Set-Cookie in `cookies`, not among the headers.
    out.cookies = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    headers.remove(header::SET_COOKIE);
    out.headers = headers;
    if !body.is_empty() {
        match String::from_utf8(body.to_vec()) {
            Ok(text) => out.body = Some(Body::Text(text)),
            Err(e) => {
                out.body = Some(Body::Binary(e.into_bytes()));
                out.is_base64_encoded = true;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> ApiGatewayV2httpRequest {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn request_line_headers_body_and_claims() {
        let e = event(serde_json::json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/v1/cases",
            "rawQueryString": "status=completed&limit=5",
            "cookies": ["a=1", "b=2"],
            "headers": {"content-type": "application/json", "x-test": "yes"},
            "requestContext": {"http": {"method": "POST", "path": "/v1/cases"},
                "authorizer": {"jwt": {"claims": {"sub": "u1", "role": "officer", "dept": "police", "exp": "1900000000"}, "scopes": null}}},
            "body": "eyJhIjoxfQ==", "isBase64Encoded": true
        }));
        let req = into_request(e).unwrap();
        assert_eq!(req.method(), "POST");
        assert_eq!(req.uri(), "/v1/cases?status=completed&limit=5");
        assert_eq!(req.headers()["x-test"], "yes");
        assert_eq!(req.headers()["cookie"], "a=1; b=2");
        assert_eq!(req.body().as_ref(), br#"{"a":1}"#);
        let c = req.extensions().get::<Claims>().unwrap();
        assert_eq!((c.sub.as_str(), c.role.as_str()), ("u1", "officer"));
        assert_eq!(c.dept.as_deref(), Some("police"));
        assert_eq!(c.exp, 1_900_000_000);
    }

    #[test]
    fn no_authorizer_means_no_claims_and_bad_base64_is_refused() {
        let e = event(serde_json::json!({
            "rawPath": "/healthz", "requestContext": {"http": {"method": "GET"}}
        }));
        let req = into_request(e).unwrap();
        assert!(req.extensions().get::<Claims>().is_none());
        assert!(req.body().is_empty());
        let e = event(serde_json::json!({
            "rawPath": "/x", "requestContext": {"http": {"method": "PUT"}},
            "body": "%%%", "isBase64Encoded": true
        }));
        assert!(into_request(e).is_err());
    }

    #[test]
    fn responses_text_binary_and_cookies() {
        let r = Response::builder()
            .status(201)
            .header("content-type", "application/json")
            .header("set-cookie", "s=1")
            .body(Bytes::from_static(b"{}"))
            .unwrap();
        let out = from_response(r);
        assert_eq!(out.status_code, 201);
        assert_eq!(out.cookies, vec!["s=1".to_string()]);
        assert!(out.headers.get("set-cookie").is_none());
        assert!(matches!(out.body, Some(Body::Text(ref t)) if t == "{}"));
        assert!(!out.is_base64_encoded);
        let r = Response::new(Bytes::from_static(&[0xff, 0x00, 0x01]));
        let out = from_response(r);
        assert!(out.is_base64_encoded);
        let v = serde_json::to_value(&out).unwrap();
        assert_eq!(v["body"], "/wAB");
        assert_eq!(v["isBase64Encoded"], true);
    }
}
