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

/// The policy for pages that call an API on their own origin (`onething serve`).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; \
     frame-src blob:; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

#[cfg(test)]
mod tests {
    use super::*;

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
