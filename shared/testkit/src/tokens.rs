//! Tokens as `onething serve` (or the API Gateway authorizer's issuer) signs them.

/// The sample's first hospital (浙江大学医学院附属妇产科医院), where the default hospital
/// officer and hospital window of [`sign`] work.
pub const DEFAULT_HOSPITAL: &str = "H330106001";
/// The site of the default service-centre window of [`sign`] (西湖区行政服务中心).
pub const DEFAULT_SITE: &str = "SC330106";

/// A token for `role` (and `dept`) with subject `sub`, valid for an hour, signed with
/// `secret` (HS256). Scopes fail closed, so an officer's or supervisor's token carries
/// them: the whole province (`region: "33"`); a hospital officer or window at
/// [`DEFAULT_HOSPITAL`]; a service-centre window at [`DEFAULT_SITE`]. Use
/// [`sign_scoped`] for any other scope.
pub fn sign(secret: &[u8], role: &str, dept: Option<&str>, sub: &str) -> String {
    let region = (role != "guardian").then_some("33");
    let hospital = (dept == Some("hospital")).then_some(DEFAULT_HOSPITAL);
    let site = (role == "window_officer" && dept == Some("service_center")).then_some(DEFAULT_SITE);
    sign_scoped(secret, role, dept, sub, (region, hospital, site))
}

/// As [`sign`], with the optional `region`, `hospital` and `site` claims.
pub fn sign_scoped(
    secret: &[u8],
    role: &str,
    dept: Option<&str>,
    sub: &str,
    (region, hospital, site): (Option<&str>, Option<&str>, Option<&str>),
) -> String {
    let mut claims = api::auth::Claims {
        sub: sub.into(),
        role: role.into(),
        dept: dept.map(str::to_string),
        exp: chrono::Utc::now().timestamp() + 3600,
        ..Default::default()
    };
    claims.scope.region = region.map(str::to_string);
    claims.scope.hospital = hospital.map(str::to_string);
    claims.scope.site = site.map(str::to_string);
    api::auth::sign(secret, &claims)
}

/// The token of a hospital's system, bound to its institution (`code`): a delivery record
/// is accepted only from the institution it names.
pub fn hospital_system(secret: &[u8], code: &str) -> String {
    sign_scoped(
        secret,
        "dept_officer",
        Some("hospital"),
        &format!("hospital-system-{code}"),
        (Some("33"), Some(code), None),
    )
}

/// A token with these raw claims and this raw header (for tests of what is refused).
pub fn sign_raw(secret: &[u8], header: &serde_json::Value, claims: &serde_json::Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}
