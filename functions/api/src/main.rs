//! Lambda entry point: API Gateway HTTP API (payload v2) → `onething_api::Api::handle`,
//! with claims taken from the JWT authorizer's request context.

use bytes::Bytes;
use lambda_http::{run, service_fn, Body, Error, Request, RequestExt, Response};
use onething_api::auth::{Auth, Claims};
use onething_api::Api;
use std::sync::Arc;

fn claims_from_context(req: &Request) -> Option<Claims> {
    let ctx = req.request_context_ref()?;
    let lambda_http::request::RequestContext::ApiGatewayV2(ctx) = ctx else {
        return None;
    };
    let jwt = ctx.authorizer.as_ref()?.jwt.as_ref()?;
    let c = &jwt.claims;
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
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let app = lambda::Init::from_env()?.with_s3().app(); // DynamoDB, SQS, S3
    let api = Arc::new(Api {
        app,
        auth: Auth::Upstream,
        public_base_url: std::env::var("ONETHING_PUBLIC_URL").ok(),
    });
    run(service_fn(move |req: Request| {
        let api = api.clone();
        async move {
            let claims = claims_from_context(&req);
            let (mut parts, body) = req.into_parts();
            if let Some(c) = claims {
                parts.extensions.insert(c);
            }
            let bytes = Bytes::copy_from_slice(body.as_ref());
            let resp = api.handle(http::Request::from_parts(parts, bytes)).await;
            let (p, b) = resp.into_parts();
            Ok::<_, Error>(Response::from_parts(p, Body::Binary(b.to_vec())))
        }
    }))
    .await
}
