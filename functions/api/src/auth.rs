//! Authentication: HS256 JWTs verified locally, or claims handed over by the API Gateway
//! JWT authorizer. Only `HS256` is accepted (never `none`); `exp` is required.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::case::{Actor, Role, Scope};
use domain::flow::Dept;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept: Option<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The optional `region`, `hospital` and `site` claims.
    #[serde(flatten)]
    pub scope: Scope,
}

/// The longest lifetime a token may have (from `iat`, or from now when it has none).
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 24 * 3600;
/// Clock skew allowed for `nbf` and `iat`.
const LEEWAY_SECS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    Missing,
    Malformed,
    Algorithm,
    Signature,
    Expired,
    Audience,
    Claims,
    NotYetValid,
    Lifetime,
    /// A valid token whose scope claims are missing (403 `scope_required`): the citizen
    /// text says which.
    ScopeRequired(&'static str),
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuthError::Missing => "a Bearer token is required",
            AuthError::Malformed => "the token is malformed",
            AuthError::Algorithm => "the token's algorithm is not accepted",
            AuthError::Signature => "the token's signature is invalid",
            AuthError::Expired => "the token has expired",
            AuthError::Audience => "the token is for another audience or issuer",
            AuthError::Claims => "the token's claims are invalid",
            AuthError::NotYetValid => "the token is not valid yet",
            AuthError::Lifetime => "the token's lifetime is longer than allowed",
            AuthError::ScopeRequired(m) => m,
        })
    }
}

/// How the API learns who is calling.
#[derive(Clone)]
pub enum Auth {
    /// Verify HS256 tokens with this secret (the local runtime).
    Hs256 {
        secret: Vec<u8>,
        issuer: Option<String>,
        audience: Option<String>,
    },
    /// Claims were verified upstream (API Gateway's JWT authorizer) and put in the
    /// request's extensions as [`Claims`].
    Upstream,
}

type HmacSha256 = Hmac<Sha256>;

pub fn sign(secret: &[u8], claims: &Claims) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialise"));
    let input = format!("{header}.{payload}");
    let mut mac = HmacSha256::new_from_slice(secret).expect("any key length");
    mac.update(input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{input}.{sig}")
}

pub fn verify(
    secret: &[u8],
    token: &str,
    now: i64,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> Result<Claims, AuthError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(h)
            .map_err(|_| AuthError::Malformed)?,
    )
    .map_err(|_| AuthError::Malformed)?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(AuthError::Algorithm);
    }
    // No header extension is understood, so a token that marks one critical is refused
    // (RFC 7515 §4.1.11).
    if header.get("crit").is_some() {
        return Err(AuthError::Malformed);
    }
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| AuthError::Malformed)?;
    let mut mac = HmacSha256::new_from_slice(secret).expect("any key length");
    mac.update(format!("{h}.{p}").as_bytes());
    mac.verify_slice(&sig).map_err(|_| AuthError::Signature)?;
    let claims: Claims = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(p)
            .map_err(|_| AuthError::Malformed)?,
    )
    .map_err(|_| AuthError::Claims)?;
    if claims.exp <= now {
        return Err(AuthError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| nbf > now + LEEWAY_SECS)
        || claims.iat.is_some_and(|iat| iat > now + LEEWAY_SECS)
    {
        return Err(AuthError::NotYetValid);
    }
    if claims.exp - claims.iat.unwrap_or(now).min(now) > MAX_TOKEN_LIFETIME_SECS {
        return Err(AuthError::Lifetime);
    }
    if let Some(iss) = issuer {
        if claims.iss.as_deref() != Some(iss) {
            return Err(AuthError::Audience);
        }
    }
    if let Some(aud) = audience {
        if claims.aud.as_deref() != Some(aud) {
            return Err(AuthError::Audience);
        }
    }
    Ok(claims)
}

/// The actor the claims describe. Officers need a department; guardians' subjects are
/// normalised citizen ID numbers.
pub fn actor(claims: &Claims) -> Result<Actor, AuthError> {
    let role = Role::parse(&claims.role).ok_or(AuthError::Claims)?;
    let dept = match &claims.dept {
        Some(d) => Some(Dept::parse(d).ok_or(AuthError::Claims)?),
        None => None,
    };
    // A person's subject: printable, short, and never the automated system's.
    if claims.sub.trim().is_empty()
        || claims.sub.len() > 128
        || claims
            .sub
            .chars()
            .any(|c| c.is_whitespace() || domain::text::is_forbidden(c, false))
        || claims.sub.to_ascii_lowercase().starts_with("system")
    {
        return Err(AuthError::Claims);
    }
    let sub = match role {
        Role::Guardian => domain::idnum::normalise(&claims.sub),
        _ => claims.sub.clone(),
    };
    let region_ok = |r: &String| {
        (2..=6).contains(&r.len())
            && r.len().is_multiple_of(2)
            && r.bytes().all(|b| b.is_ascii_digit())
    };
    let code_ok =
        |h: &String| !h.is_empty() && h.len() <= 32 && h.bytes().all(|b| b.is_ascii_alphanumeric());
    let site_ok = |x: &String| {
        !x.trim().is_empty()
            && x.chars().count() <= 64
            && !x.chars().any(|c| domain::text::is_forbidden(c, false))
    };
    let c = &claims.scope;
    if c.region.as_ref().is_some_and(|r| !region_ok(r))
        || c.hospital.as_ref().is_some_and(|h| !code_ok(h))
        || c.site.as_ref().is_some_and(|x| !site_ok(x))
    {
        return Err(AuthError::Claims);
    }
    let scope = match role {
        Role::Guardian => Scope::default(),
        _ => claims.scope.clone(),
    };
    scope_required(role, dept, &scope)?;
    Ok(Actor {
        sub,
        role,
        dept,
        scope,
    })
}

/// Scopes fail closed: every officer and supervisor names the region they work in
/// (`33` for the whole province, never the absence of a claim); a hospital officer names
/// their hospital; a window officer their site or hospital.
fn scope_required(role: Role, dept: Option<Dept>, scope: &Scope) -> Result<(), AuthError> {
    if role == Role::Guardian {
        return Ok(());
    }
    if scope.region.is_none() {
        return Err(AuthError::ScopeRequired(
            "登录凭证缺少辖区（region）：全省范围的账号也须写明 region 为 33",
        ));
    }
    if role == Role::DeptOfficer && dept == Some(Dept::Hospital) && scope.hospital.is_none() {
        return Err(AuthError::ScopeRequired(
            "医疗机构工作人员的登录凭证须写明所属医疗机构（hospital）",
        ));
    }
    if role == Role::WindowOfficer && scope.site.is_none() && scope.hospital.is_none() {
        return Err(AuthError::ScopeRequired(
            "受理窗口工作人员的登录凭证须写明所在点位（site）或医疗机构（hospital）",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "330106199001010130".into(),
            role: "guardian".into(),
            dept: None,
            exp,
            iat: None,
            iss: None,
            aud: None,
            nbf: None,
            scope: Scope::default(),
        }
    }

    #[test]
    fn round_trip_and_rejections() {
        let t = sign(b"k", &claims(2000));
        assert_eq!(
            verify(b"k", &t, 1000, None, None).unwrap().sub,
            "330106199001010130"
        );
        assert_eq!(
            verify(b"other", &t, 1000, None, None),
            Err(AuthError::Signature)
        );
        assert_eq!(verify(b"k", &t, 3000, None, None), Err(AuthError::Expired));
        assert_eq!(
            verify(b"k", &t, 1000, None, Some("portal")),
            Err(AuthError::Audience)
        );
        let parts: Vec<&str> = t.split('.').collect();
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
            parts[1]
        );
        assert_eq!(
            verify(b"k", &none, 1000, None, None),
            Err(AuthError::Algorithm)
        );
        assert_eq!(
            verify(b"k", "abc", 1000, None, None),
            Err(AuthError::Malformed)
        );
    }

    /// An officer's subject or site shown to others never carries invisible or
    /// bidirectional characters (a right-to-left override reverses what follows it).
    #[test]
    fn subjects_and_sites_with_invisible_or_bidirectional_characters_are_refused() {
        let officer = |sub: &str, site: Option<&str>| {
            let mut c = claims(2000);
            c.sub = sub.into();
            c.role = "window_officer".into();
            c.dept = Some("service_center".into());
            c.scope.region = Some("330106".into());
            c.scope.site = site.map(str::to_string);
            actor(&c)
        };
        assert!(officer("window-1", Some("西湖区行政服务中心")).is_ok());
        for bad in [
            "window\u{202E}1",
            "window\u{200B}1",
            "\u{2066}window",
            "window\u{FEFF}",
        ] {
            assert_eq!(
                officer(bad, Some("西湖区行政服务中心")),
                Err(AuthError::Claims),
                "{bad:?}"
            );
            assert_eq!(
                officer("window-1", Some(bad)),
                Err(AuthError::Claims),
                "{bad:?}"
            );
        }
    }

    /// Scopes fail closed: a token that leaves out where its holder works is refused,
    /// never read as "everywhere".
    #[test]
    fn officers_and_supervisors_without_their_scope_claims_are_refused() {
        let token =
            |role: &str, dept: Option<&str>, scope: (Option<&str>, Option<&str>, Option<&str>)| {
                let mut c = claims(2000);
                c.sub = "staff-1".into();
                c.role = role.into();
                c.dept = dept.map(str::to_string);
                c.scope.region = scope.0.map(str::to_string);
                c.scope.hospital = scope.1.map(str::to_string);
                c.scope.site = scope.2.map(str::to_string);
                actor(&c)
            };
        let refused = |r: Result<Actor, AuthError>| matches!(r, Err(AuthError::ScopeRequired(_)));
        assert!(refused(token("supervisor", None, (None, None, None))));
        assert!(token("supervisor", None, (Some("33"), None, None)).is_ok());
        assert!(refused(token(
            "dept_officer",
            Some("police"),
            (None, None, None)
        )));
        assert!(token("dept_officer", Some("police"), (Some("330106"), None, None)).is_ok());
        assert!(refused(token(
            "dept_officer",
            Some("hospital"),
            (Some("33"), None, None)
        )));
        assert!(refused(token(
            "dept_officer",
            Some("hospital"),
            (None, Some("H1"), None)
        )));
        assert!(token(
            "dept_officer",
            Some("hospital"),
            (Some("33"), Some("H1"), None)
        )
        .is_ok());
        let window = Some("service_center");
        assert!(refused(token(
            "window_officer",
            window,
            (Some("33"), None, None)
        )));
        assert!(refused(token(
            "window_officer",
            window,
            (None, None, Some("SC330106"))
        )));
        assert!(token(
            "window_officer",
            window,
            (Some("33"), None, Some("SC330106"))
        )
        .is_ok());
        assert!(token(
            "window_officer",
            Some("hospital"),
            (Some("33"), Some("H1"), None)
        )
        .is_ok());
        // A guardian's token carries no scope and needs none.
        assert!(actor(&claims(2000)).is_ok());
    }
}
