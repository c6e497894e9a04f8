//! The routes of the API, parsed once from the method and path into a [`Route`] that the
//! API matches exhaustively. `openapi.json` documents exactly [`Route::TABLE`].

/// A request's route, with its path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Healthz,
    OpenApi,
    Guide,
    Submit,
    MyCases,
    Case {
        case_id: String,
    },
    AddMaterial {
        case_id: String,
    },
    Resubmit {
        case_id: String,
    },
    Rate {
        case_id: String,
    },
    Complain {
        case_id: String,
    },
    AnswerComplaint {
        case_id: String,
        complaint_id: String,
    },
    Tasks,
    Decide {
        task_id: String,
    },
    Report,
    Births,
    Withdraw {
        case_id: String,
    },
    PremiumPayment {
        case_id: String,
    },
    Material {
        case_id: String,
        material_id: String,
    },
    Feedback,
    FollowUp {
        feedback_id: String,
        /// `answer`, `return-visit` or `rectification`.
        action: &'static str,
    },
    Escalations,
    /// The operator's sites (public).
    Sites,
    /// A site's slots of a day (public).
    SiteSlots {
        site_id: String,
    },
    /// A site's appointments of a day (its window officers).
    SiteAppointments {
        site_id: String,
    },
    Book,
    MyAppointments,
    CancelAppointment {
        appointment_id: String,
    },
    Certificates {
        case_id: String,
    },
    Correct {
        case_id: String,
    },
    /// A certificate's verification (public).
    Verify {
        cert_id: String,
    },
    /// The certificate keys (public).
    Keys,
}

/// Why a request has no route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unrouted {
    NotFound,
    /// The path exists with these methods only.
    MethodNotAllowed(Vec<&'static str>),
}

const METHODS: [&str; 3] = ["GET", "POST", "DELETE"];

impl Route {
    /// Every route: method and path pattern, as `openapi.json` documents them.
    pub const TABLE: &'static [(&'static str, &'static str)] = &[
        ("GET", "/healthz"),
        ("GET", "/openapi.json"),
        ("GET", "/v1/guide"),
        ("POST", "/v1/applications"),
        ("GET", "/v1/cases"),
        ("GET", "/v1/cases/{case_id}"),
        ("POST", "/v1/cases/{case_id}/materials"),
        ("POST", "/v1/cases/{case_id}/resubmit"),
        ("POST", "/v1/cases/{case_id}/rating"),
        ("POST", "/v1/cases/{case_id}/complaints"),
        (
            "POST",
            "/v1/cases/{case_id}/complaints/{complaint_id}/answer",
        ),
        ("GET", "/v1/tasks"),
        ("POST", "/v1/tasks/{task_id}/decision"),
        ("GET", "/v1/supervision/report"),
        ("POST", "/v1/births"),
        ("POST", "/v1/cases/{case_id}/withdraw"),
        ("POST", "/v1/cases/{case_id}/premium-payment"),
        ("GET", "/v1/cases/{case_id}/materials/{material_id}"),
        ("GET", "/v1/feedback"),
        ("POST", "/v1/feedback/{feedback_id}/answer"),
        ("POST", "/v1/feedback/{feedback_id}/return-visit"),
        ("POST", "/v1/feedback/{feedback_id}/rectification"),
        ("GET", "/v1/supervision/escalations"),
        ("GET", "/v1/sites"),
        ("GET", "/v1/sites/{site_id}/slots"),
        ("GET", "/v1/sites/{site_id}/appointments"),
        ("POST", "/v1/appointments"),
        ("GET", "/v1/appointments"),
        ("DELETE", "/v1/appointments/{appointment_id}"),
        ("GET", "/v1/cases/{case_id}/certificates"),
        ("GET", "/v1/verify/{cert_id}"),
        ("GET", "/.well-known/onething-keys.json"),
        ("POST", "/v1/cases/{case_id}/corrections"),
    ];

    /// The route of `method path`, or why there is none.
    pub fn parse(method: &str, path: &str) -> Result<Route, Unrouted> {
        if let Some(r) = Self::find(method, path) {
            return Ok(r);
        }
        let allowed: Vec<&'static str> = METHODS
            .into_iter()
            .filter(|m| Self::find(m, path).is_some())
            .collect();
        if allowed.is_empty() {
            Err(Unrouted::NotFound)
        } else {
            Err(Unrouted::MethodNotAllowed(allowed))
        }
    }

    fn find(method: &str, path: &str) -> Option<Route> {
        let segs: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        let id = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Some(match (method, segs.as_slice()) {
            ("GET", ["healthz"]) => Route::Healthz,
            ("GET", ["openapi.json"]) => Route::OpenApi,
            ("GET", ["v1", "guide"]) => Route::Guide,
            ("POST", ["v1", "applications"]) => Route::Submit,
            ("GET", ["v1", "cases"]) => Route::MyCases,
            ("GET", ["v1", "cases", c]) => Route::Case { case_id: id(c)? },
            ("POST", ["v1", "cases", c, "materials"]) => Route::AddMaterial { case_id: id(c)? },
            ("POST", ["v1", "cases", c, "resubmit"]) => Route::Resubmit { case_id: id(c)? },
            ("POST", ["v1", "cases", c, "rating"]) => Route::Rate { case_id: id(c)? },
            ("POST", ["v1", "cases", c, "complaints"]) => Route::Complain { case_id: id(c)? },
            ("POST", ["v1", "cases", c, "complaints", x, "answer"]) => Route::AnswerComplaint {
                case_id: id(c)?,
                complaint_id: id(x)?,
            },
            ("GET", ["v1", "tasks"]) => Route::Tasks,
            ("POST", ["v1", "tasks", t, "decision"]) => Route::Decide { task_id: id(t)? },
            ("GET", ["v1", "supervision", "report"]) => Route::Report,
            ("POST", ["v1", "births"]) => Route::Births,
            ("POST", ["v1", "cases", c, "withdraw"]) => Route::Withdraw { case_id: id(c)? },
            ("POST", ["v1", "cases", c, "premium-payment"]) => {
                Route::PremiumPayment { case_id: id(c)? }
            }
            ("GET", ["v1", "cases", c, "materials", m]) => Route::Material {
                case_id: id(c)?,
                material_id: id(m)?,
            },
            ("GET", ["v1", "feedback"]) => Route::Feedback,
            ("POST", ["v1", "feedback", f, a]) => Route::FollowUp {
                feedback_id: id(f)?,
                action: match *a {
                    "answer" => "answer",
                    "return-visit" => "return-visit",
                    "rectification" => "rectification",
                    _ => return None,
                },
            },
            ("GET", ["v1", "supervision", "escalations"]) => Route::Escalations,
            ("GET", ["v1", "sites"]) => Route::Sites,
            ("GET", ["v1", "sites", s, "slots"]) => Route::SiteSlots { site_id: id(s)? },
            ("GET", ["v1", "sites", s, "appointments"]) => {
                Route::SiteAppointments { site_id: id(s)? }
            }
            ("POST", ["v1", "appointments"]) => Route::Book,
            ("GET", ["v1", "appointments"]) => Route::MyAppointments,
            ("DELETE", ["v1", "appointments", a]) => Route::CancelAppointment {
                appointment_id: id(a)?,
            },
            ("GET", ["v1", "cases", c, "certificates"]) => Route::Certificates { case_id: id(c)? },
            ("GET", ["v1", "verify", c]) => Route::Verify { cert_id: id(c)? },
            ("GET", [".well-known", "onething-keys.json"]) => Route::Keys,
            ("POST", ["v1", "cases", c, "corrections"]) => Route::Correct { case_id: id(c)? },
            _ => return None,
        })
    }

    /// The route's path pattern (for logs: no identifiers).
    pub fn pattern(&self) -> &'static str {
        let i = match self {
            Route::Healthz => 0,
            Route::OpenApi => 1,
            Route::Guide => 2,
            Route::Submit => 3,
            Route::MyCases => 4,
            Route::Case { .. } => 5,
            Route::AddMaterial { .. } => 6,
            Route::Resubmit { .. } => 7,
            Route::Rate { .. } => 8,
            Route::Complain { .. } => 9,
            Route::AnswerComplaint { .. } => 10,
            Route::Tasks => 11,
            Route::Decide { .. } => 12,
            Route::Report => 13,
            Route::Births => 14,
            Route::Withdraw { .. } => 15,
            Route::PremiumPayment { .. } => 16,
            Route::Material { .. } => 17,
            Route::Feedback => 18,
            Route::FollowUp { action, .. } => match *action {
                "answer" => 19,
                "return-visit" => 20,
                _ => 21,
            },
            Route::Escalations => 22,
            Route::Sites => 23,
            Route::SiteSlots { .. } => 24,
            Route::SiteAppointments { .. } => 25,
            Route::Book => 26,
            Route::MyAppointments => 27,
            Route::CancelAppointment { .. } => 28,
            Route::Certificates { .. } => 29,
            Route::Verify { .. } => 30,
            Route::Keys => 31,
            Route::Correct { .. } => 32,
        };
        Self::TABLE[i].1
    }

    /// Served without a token.
    pub fn is_public(&self) -> bool {
        matches!(
            self,
            Route::Healthz
                | Route::OpenApi
                | Route::Guide
                | Route::Sites
                | Route::SiteSlots { .. }
                | Route::Verify { .. }
                | Route::Keys
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_in_the_table_parses_to_its_route() {
        for (m, p) in Route::TABLE {
            let path = p
                .replace("{case_id}", "BC1")
                .replace("{complaint_id}", "CP1")
                .replace("{task_id}", "BC1.police.1");
            let r = Route::parse(m, &path).unwrap_or_else(|e| panic!("{m} {p}: {e:?}"));
            assert_eq!(r.pattern(), *p);
        }
    }

    #[test]
    fn path_parameters_are_captured_and_never_empty() {
        assert_eq!(
            Route::parse("GET", "/v1/cases/abc"),
            Ok(Route::Case {
                case_id: "abc".into()
            })
        );
        assert_eq!(Route::parse("GET", "/v1/cases/"), Err(Unrouted::NotFound));
        assert_eq!(
            Route::parse("GET", "/v1/cases/a/b"),
            Err(Unrouted::NotFound)
        );
    }

    #[test]
    fn a_known_path_with_another_method_is_not_allowed() {
        assert_eq!(
            Route::parse("DELETE", "/v1/cases/abc"),
            Err(Unrouted::MethodNotAllowed(vec!["GET"]))
        );
        assert_eq!(
            Route::parse("GET", "/v1/applications"),
            Err(Unrouted::MethodNotAllowed(vec!["POST"]))
        );
    }
}
