//! The routes of the API as one table: method, path pattern, who may call, handler.
//!
//! [`ROUTES`] is the only list. The router matches a request against it, the OpenAPI test
//! compares it with `openapi.json`, and `onething routes --json` prints it for the
//! infrastructure (`infra/routes.json`: which routes API Gateway serves without the JWT
//! authorizer) and the OpenAPI generator.

use crate::call::{Handler, Params};
use crate::routes::{appointments, births, cases, feedback, parents, public, supervision, tasks};
use domain::flow::Dept;
use domain::Role;

/// Who may call a route. A route closed to a caller's role or department is refused
/// (403) here, with the route's own message, before its handler runs; which case, county
/// or site the caller may touch is the use case's to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Anyone, without a token.
    Public,
    /// Anyone signed in (the use case decides on the facts: own case, own county).
    SignedIn,
    /// Only this role.
    Role(Role, &'static str),
    /// Only officers of this department.
    Dept(Dept, &'static str),
}

impl Who {
    /// The JSON name of this kind of access (`infra/routes.json`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Who::Public => "public",
            Who::SignedIn => "signed_in",
            Who::Role(..) => "role",
            Who::Dept(..) => "dept",
        }
    }
}

/// One route.
pub struct RouteDef {
    pub method: &'static str,
    /// Path pattern as `openapi.json` writes it (`{name}` is a parameter).
    pub pattern: &'static str,
    pub who: Who,
    pub handler: Handler,
    /// The route keeps its own `Idempotency-Key` (an application's key is kept with the
    /// case), so the API's generic replay store is not used for it.
    pub own_key: bool,
}

const fn route(
    method: &'static str,
    pattern: &'static str,
    who: Who,
    handler: Handler,
) -> RouteDef {
    RouteDef {
        method,
        pattern,
        who,
        handler,
        own_key: false,
    }
}

const GUARDIAN_BOOKS: &str = "预约由申请人本人办理";
const SUPERVISORS_ONLY: &str = "监督报告仅供监督人员查看";

/// Every route of the API.
pub static ROUTES: &[RouteDef] = &[
    route("GET", "/healthz", Who::Public, public::healthz),
    route("GET", "/openapi.json", Who::Public, public::openapi),
    route("GET", "/v1/guide", Who::Public, public::guide),
    route("GET", "/v1/catalogue", Who::Public, public::catalogue),
    route(
        "GET",
        "/v1/catalogue/{bundle_id}",
        Who::Public,
        public::catalogue_bundle,
    ),
    RouteDef {
        own_key: true,
        ..route("POST", "/v1/applications", Who::SignedIn, cases::submit)
    },
    route("GET", "/v1/cases", Who::SignedIn, cases::mine),
    route("GET", "/v1/cases/{case_id}", Who::SignedIn, cases::view),
    route(
        "POST",
        "/v1/cases/{case_id}/materials",
        Who::SignedIn,
        cases::add_material,
    ),
    route(
        "POST",
        "/v1/cases/{case_id}/resubmit",
        Who::SignedIn,
        cases::resubmit,
    ),
    route(
        "POST",
        "/v1/cases/{case_id}/rating",
        Who::SignedIn,
        feedback::rate,
    ),
    route(
        "POST",
        "/v1/cases/{case_id}/complaints",
        Who::SignedIn,
        feedback::complain,
    ),
    route(
        "POST",
        "/v1/cases/{case_id}/complaints/{complaint_id}/answer",
        Who::SignedIn,
        feedback::answer_complaint,
    ),
    route("GET", "/v1/tasks", Who::SignedIn, tasks::list),
    route("GET", "/v1/tasks/{task_id}", Who::SignedIn, tasks::view),
    route(
        "POST",
        "/v1/tasks/{task_id}/decision",
        Who::SignedIn,
        tasks::decide,
    ),
    route(
        "GET",
        "/v1/supervision/report",
        Who::Role(Role::Supervisor, SUPERVISORS_ONLY),
        supervision::report,
    ),
    route(
        "POST",
        "/v1/births",
        Who::Dept(Dept::Hospital, "分娩记录由助产机构登记"),
        births::record,
    ),
    route(
        "PUT",
        "/v1/births/{birth_id}",
        Who::Dept(Dept::Hospital, "分娩记录由登记它的助产机构更正"),
        births::replace,
    ),
    route(
        "POST",
        "/v1/cases/{case_id}/withdraw",
        Who::SignedIn,
        cases::withdraw,
    ),
    route(
        "POST",
        "/v1/cases/{case_id}/confirm-parent",
        Who::Role(Role::Guardian, "只有申请中列明的新生儿父母本人可以确认申请"),
        parents::confirm,
    ),
    route(
        "POST",
        "/v1/cases/{case_id}/decline",
        Who::Role(
            Role::Guardian,
            "只有申请中列明的新生儿父母本人可以选择不同意",
        ),
        parents::decline,
    ),
    route(
        "POST",
        "/v1/cases/{case_id}/object",
        Who::Role(Role::Guardian, "只有申请中列明的新生儿父母本人可以提出异议"),
        parents::object,
    ),
    route(
        "POST",
        "/v1/cases/{case_id}/void",
        Who::SignedIn,
        parents::void,
    ),
    route(
        "POST",
        "/v1/cases/{case_id}/premium-payment",
        Who::Dept(Dept::MedicalInsurance, "缴费记录由医疗保障部门登记"),
        cases::premium_payment,
    ),
    route(
        "POST",
        "/v1/cases/{case_id}/premium-payment/reversal",
        Who::SignedIn,
        cases::premium_reversal,
    ),
    route(
        "GET",
        "/v1/cases/{case_id}/materials/{material_id}",
        Who::SignedIn,
        cases::material,
    ),
    route("GET", "/v1/feedback", Who::SignedIn, feedback::inbox),
    route(
        "POST",
        "/v1/feedback/{feedback_id}/answer",
        Who::SignedIn,
        feedback::answer,
    ),
    route(
        "POST",
        "/v1/feedback/{feedback_id}/return-visit",
        Who::SignedIn,
        feedback::return_visit,
    ),
    route(
        "POST",
        "/v1/feedback/{feedback_id}/rectification",
        Who::SignedIn,
        feedback::rectification,
    ),
    route(
        "GET",
        "/v1/supervision/escalations",
        Who::Role(Role::Supervisor, "督办清单仅供监督人员查看"),
        supervision::escalations,
    ),
    route(
        "GET",
        "/v1/supervision/break-glass",
        Who::Role(Role::Supervisor, "监督查阅记录仅供监督人员查看"),
        supervision::break_glass,
    ),
    route("GET", "/v1/sites", Who::Public, public::sites),
    route(
        "GET",
        "/v1/sites/{site_id}/slots",
        Who::Public,
        public::slots,
    ),
    route(
        "GET",
        "/v1/sites/{site_id}/appointments",
        Who::SignedIn,
        appointments::site_day,
    ),
    route(
        "POST",
        "/v1/appointments",
        Who::Role(Role::Guardian, GUARDIAN_BOOKS),
        appointments::book,
    ),
    route(
        "GET",
        "/v1/appointments",
        Who::Role(Role::Guardian, "仅申请人本人可查看其预约"),
        appointments::mine,
    ),
    route(
        "DELETE",
        "/v1/appointments/{appointment_id}",
        Who::Role(Role::Guardian, "预约由申请人本人取消"),
        appointments::cancel,
    ),
    route(
        "GET",
        "/v1/cases/{case_id}/certificates",
        Who::SignedIn,
        cases::certificates,
    ),
    route("GET", "/v1/verify/{cert_id}", Who::Public, public::verify),
    route(
        "GET",
        "/.well-known/onething-keys.json",
        Who::Public,
        public::keys,
    ),
    route(
        "POST",
        "/v1/cases/{case_id}/corrections",
        Who::SignedIn,
        cases::correct,
    ),
];

/// Why a request has no route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unrouted {
    NotFound,
    /// The path exists with these methods only.
    MethodNotAllowed(Vec<&'static str>),
}

/// The route of `method path` with its parameters, or why there is none.
pub fn find(method: &str, path: &str) -> Result<(&'static RouteDef, Params), Unrouted> {
    let mut allowed = vec![];
    for r in ROUTES {
        if let Some(params) = matches(r.pattern, path) {
            if r.method == method {
                return Ok((r, params));
            }
            allowed.push(r.method);
        }
    }
    if allowed.is_empty() {
        Err(Unrouted::NotFound)
    } else {
        Err(Unrouted::MethodNotAllowed(allowed))
    }
}

/// The parameters of `path` under `pattern`, when it matches (a parameter is never empty).
fn matches(pattern: &'static str, path: &str) -> Option<Params> {
    let want: Vec<&'static str> = pattern.split('/').collect();
    let got: Vec<&str> = path.split('/').collect();
    if want.len() != got.len() {
        return None;
    }
    let mut params = vec![];
    for (w, g) in want.into_iter().zip(got) {
        match w.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
            Some(name) if !g.is_empty() => params.push((name, g.to_string())),
            Some(_) => return None,
            None if w == g => {}
            None => return None,
        }
    }
    Some(Params::new(params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_in_the_table_matches_itself_and_only_itself() {
        for r in ROUTES {
            let path = r
                .pattern
                .replace("{case_id}", "BC1")
                .replace("{complaint_id}", "CP1")
                .replace("{task_id}", "BC1.police.1");
            let (found, _) = find(r.method, &path).unwrap_or_else(|e| panic!("{path}: {e:?}"));
            assert_eq!(found.pattern, r.pattern);
        }
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(
                seen.insert((r.method, r.pattern)),
                "{} {} twice",
                r.method,
                r.pattern
            );
        }
    }

    #[test]
    fn path_parameters_are_captured_and_never_empty() {
        let (r, p) = find("GET", "/v1/cases/abc").unwrap();
        assert_eq!(r.pattern, "/v1/cases/{case_id}");
        assert_eq!(p.get("case_id"), "abc");
        assert_eq!(find("GET", "/v1/cases/").err(), Some(Unrouted::NotFound));
        assert_eq!(find("GET", "/v1/cases/a/b").err(), Some(Unrouted::NotFound));
        let (_, p) = find("POST", "/v1/cases/c1/complaints/x2/answer").unwrap();
        assert_eq!((p.get("case_id"), p.get("complaint_id")), ("c1", "x2"));
    }

    #[test]
    fn a_known_path_with_another_method_is_not_allowed() {
        assert_eq!(
            find("DELETE", "/v1/cases/abc").err(),
            Some(Unrouted::MethodNotAllowed(vec!["GET"]))
        );
        assert_eq!(
            find("GET", "/v1/applications").err(),
            Some(Unrouted::MethodNotAllowed(vec!["POST"]))
        );
        assert_eq!(
            find("PUT", "/v1/appointments").err(),
            Some(Unrouted::MethodNotAllowed(vec!["POST", "GET"]))
        );
    }

    #[test]
    fn every_refusal_in_the_table_is_written_for_citizens() {
        for r in ROUTES {
            if let Who::Role(_, m) | Who::Dept(_, m) = r.who {
                assert!(domain::text::CitizenText::is_fit(m), "{}: {m}", r.pattern);
            }
        }
    }
}
