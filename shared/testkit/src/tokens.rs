//! Tokens as `onething serve` (or the API Gateway authorizer's issuer) signs them.

/// A token for `role` (and `dept`) with subject `sub`, valid for an hour, signed with
/// `secret` (HS256).
pub fn sign(secret: &[u8], role: &str, dept: Option<&str>, sub: &str) -> String {
    api::auth::sign(
        secret,
        &api::auth::Claims {
            sub: sub.into(),
            role: role.into(),
            dept: dept.map(str::to_string),
            exp: chrono::Utc::now().timestamp() + 3600,
            iat: None,
            iss: None,
            aud: None,
            ..Default::default()
        },
    )
}
