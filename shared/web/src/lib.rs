//! The reference web front: four pages in Chinese (guardian, window officer, department
//! officer, supervisor) and a sign-in page, plain HTML, CSS and JavaScript modules with no
//! framework and no build step. The files under `static/` are compiled into the binary
//! here, so `onething serve` serves them at `/`; the same folder can be copied to any
//! static host (an S3 bucket behind CloudFront) beside a `config.json` naming the API.
//!
//! Every page loads its scripts from files: the Content-Security-Policy sent with them
//! ([`CONTENT_SECURITY_POLICY`]) forbids inline scripts and styles.

/// One static file.
#[derive(Clone, Copy, Debug)]
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

macro_rules! assets {
    ($($path:literal => $ct:literal),* $(,)?) => {
        /// Every file of the front, by its URL path.
        pub const ASSETS: &[Asset] = &[
            $(Asset {
                path: concat!("/", $path),
                content_type: $ct,
                body: include_bytes!(concat!("../static/", $path)),
            }),*
        ];
    };
}

assets! {
    "index.html" => "text/html; charset=utf-8",
    "guardian.html" => "text/html; charset=utf-8",
    "window.html" => "text/html; charset=utf-8",
    "officer.html" => "text/html; charset=utf-8",
    "supervisor.html" => "text/html; charset=utf-8",
    "guide.html" => "text/html; charset=utf-8",
    "app.css" => "text/css; charset=utf-8",
    "favicon.svg" => "image/svg+xml",
    "js/common.js" => "text/javascript; charset=utf-8",
    "js/labels.js" => "text/javascript; charset=utf-8",
    "js/form.js" => "text/javascript; charset=utf-8",
    "js/casefile.js" => "text/javascript; charset=utf-8",
    "js/login.js" => "text/javascript; charset=utf-8",
    "js/guardian.js" => "text/javascript; charset=utf-8",
    "js/window.js" => "text/javascript; charset=utf-8",
    "js/officer.js" => "text/javascript; charset=utf-8",
    "js/supervisor.js" => "text/javascript; charset=utf-8",
    "js/guide.js" => "text/javascript; charset=utf-8",
}

/// The file served at `path` (`/` is the sign-in page).
pub fn asset(path: &str) -> Option<&'static Asset> {
    let path = if path == "/" { "/index.html" } else { path };
    ASSETS.iter().find(|a| a.path == path)
}

/// Scripts and styles only from this origin, never inline; no plugins, no framing; forms
/// post only here. `connect_to` adds the origins the pages call when they are elsewhere:
/// on AWS the API's and the materials bucket's (uploads go to S3 presigned URLs, and an
/// officer's page fetches a material from one). `blob:` lets the page show a material.
pub fn content_security_policy(connect_to: &[&str]) -> String {
    let mut connect = String::from("'self'");
    for o in connect_to {
        connect.push(' ');
        connect.push_str(o);
    }
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
         font-src 'self'; connect-src {connect}; frame-src blob:; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// How the pages fit a portal (浙里办, the provincial website): its bridge script and the
/// app that frames the pages (CSP sources), its sign-in (OpenID Connect), the identity
/// claims that pre-fill the form, and the premium payment link. Off by default: without
/// it the strict policy holds. `serve --portal-config FILE`; on AWS, the template's
/// parameters write the same into the pages' `config.json` and the CDN's headers.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Portal {
    /// Origins allowed to serve scripts (the portal's bridge script), `https://` only.
    #[serde(default)]
    pub script_src: Vec<String>,
    /// Origins the pages may call (the portal's bridge API).
    #[serde(default)]
    pub connect_src: Vec<String>,
    /// Origins allowed to frame the pages (the portal's app).
    #[serde(default)]
    pub frame_ancestors: Vec<String>,
    /// The sign-in: `{"authorize_url", "client_id", "scope"}`.
    #[serde(default)]
    pub oidc: Option<serde_json::Value>,
    /// Form field → the identity claim that pre-fills it (`"applicant.name": "name"`).
    #[serde(default)]
    pub prefill: std::collections::BTreeMap<String, String>,
    /// Where a family pays the newborn's premium (a link on the case's page).
    #[serde(default)]
    pub payment_url: Option<String>,
}

/// The form fields a claim may pre-fill.
pub const PREFILLABLE: [&str; 3] = ["applicant.name", "applicant.id_number", "applicant.phone"];

impl Portal {
    /// The configuration from its JSON, with every problem at once.
    pub fn from_json(text: &str) -> Result<Portal, String> {
        let p: Portal = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut problems = vec![];
        for o in p
            .script_src
            .iter()
            .chain(&p.connect_src)
            .chain(&p.frame_ancestors)
        {
            let host = o.strip_prefix("https://").unwrap_or("");
            if host.is_empty() || host.contains(['/', ' ', '*', '\'', ';']) {
                problems.push(format!(
                    "{o:?} is not an https origin (https://host[:port])"
                ));
            }
        }
        for field in p.prefill.keys() {
            if !PREFILLABLE.contains(&field.as_str()) {
                problems.push(format!("prefill: {field:?} is not one of {PREFILLABLE:?}"));
            }
        }
        if let Some(u) = &p.payment_url {
            if !u.starts_with("https://") {
                problems.push(format!("payment_url {u:?} is not an https URL"));
            }
        }
        if problems.is_empty() {
            Ok(p)
        } else {
            Err(problems.join("; "))
        }
    }

    /// The pages' policy with the portal's sources added.
    pub fn content_security_policy(&self) -> String {
        let list = |v: &[String]| v.iter().map(|o| format!(" {o}")).collect::<String>();
        let ancestors = if self.frame_ancestors.is_empty() {
            "'none'".to_string()
        } else {
            list(&self.frame_ancestors).trim_start().to_string()
        };
        format!(
            "default-src 'none'; script-src 'self'{}; style-src 'self'; img-src 'self' data: blob:; \
             font-src 'self'; connect-src 'self'{}; frame-src blob:; object-src 'none'; \
             base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}",
            list(&self.script_src),
            list(&self.connect_src),
        )
    }
}

/// The policy for pages that call an API on their own origin (`onething serve`).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; \
     frame-src blob:; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_portal_the_strict_policy_holds_and_with_one_only_its_origins_are_added() {
        assert_eq!(
            Portal::default().content_security_policy(),
            CONTENT_SECURITY_POLICY
        );
        let p = Portal::from_json(
            r#"{"script_src": ["https://assets.zjzwfw.gov.cn"],
                "frame_ancestors": ["https://portal.zjzwfw.gov.cn"],
                "prefill": {"applicant.name": "name"},
                "payment_url": "https://pay.example.gov.cn/premium"}"#,
        )
        .unwrap();
        let csp = p.content_security_policy();
        assert!(
            csp.contains("script-src 'self' https://assets.zjzwfw.gov.cn;"),
            "{csp}"
        );
        assert!(
            csp.contains("frame-ancestors https://portal.zjzwfw.gov.cn"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe"), "{csp}");
        let bad = Portal::from_json(
            r#"{"script_src": ["http://x.cn", "https://*.cn", "'unsafe-inline'"],
                "prefill": {"newborn.name": "name"}, "payment_url": "http://pay"}"#,
        )
        .unwrap_err();
        for what in [
            "http://x.cn",
            "https://*.cn",
            "unsafe-inline",
            "newborn.name",
            "payment_url",
        ] {
            assert!(bad.contains(what), "{bad}");
        }
    }

    #[test]
    fn the_root_is_the_sign_in_page_and_unknown_paths_are_none() {
        assert_eq!(asset("/").unwrap().path, "/index.html");
        assert!(asset("/v1/cases").is_none());
        assert!(asset("/../Cargo.toml").is_none());
    }

    #[test]
    fn no_page_carries_an_inline_script_or_style() {
        for a in ASSETS.iter().filter(|a| a.path.ends_with(".html")) {
            let text = std::str::from_utf8(a.body).unwrap();
            for tag in text.split("<script").skip(1) {
                let head = &tag[..tag.find('>').unwrap()];
                assert!(head.contains("src="), "{}: an inline script", a.path);
            }
            assert!(!text.contains("<style"), "{}: an inline style", a.path);
            assert!(!text.contains(" style="), "{}: a style attribute", a.path);
            assert!(!text.contains(" onclick="), "{}: an inline handler", a.path);
            assert!(
                text.contains("<html lang=\"zh-CN\">"),
                "{}: the language",
                a.path
            );
        }
    }

    #[test]
    fn the_policy_for_the_local_server_is_the_policy_for_its_own_origin() {
        assert_eq!(content_security_policy(&[]), CONTENT_SECURITY_POLICY);
        assert!(
            content_security_policy(&["https://api.example", "https://b.s3.example"])
                .contains("connect-src 'self' https://api.example https://b.s3.example;")
        );
    }
}
