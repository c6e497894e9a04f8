//! What a route's handler gets ([`Call`]) and gives back ([`Answer`]).

use crate::Api;
use application::paging::PageRequest;
use application::{App, ServiceError};
use bytes::Bytes;
use domain::audit::AuditAction;
use domain::case::Actor;
use http::{Response, StatusCode};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// A handler: one route's work, from the request to the answer.
pub type Handler = for<'a> fn(Call<'a>) -> Handled<'a>;

/// What a handler returns.
pub type Handled<'a> = Pin<Box<dyn Future<Output = Result<Answer, ServiceError>> + Send + 'a>>;

/// One request, as a route's handler sees it.
pub struct Call<'a> {
    pub api: &'a Api,
    pub parts: &'a http::request::Parts,
    pub body: &'a [u8],
    pub params: Params,
    /// The signed-in caller; `None` on a public route.
    pub actor: Option<Actor>,
}

impl<'a> Call<'a> {
    pub fn app(&self) -> &'a App {
        &self.api.app
    }

    /// The signed-in caller (a handler of a signed route only).
    pub fn actor(&self) -> &Actor {
        self.actor
            .as_ref()
            .expect("the router authenticates every route that is not public")
    }

    /// The path parameter `name`.
    pub fn param(&self, name: &str) -> String {
        self.params.get(name).to_string()
    }

    /// The query parameter `name`.
    pub fn query(&self, name: &str) -> Option<String> {
        crate::query_param(self.parts.uri.query(), name)
    }

    /// `?limit=&cursor=` of a list.
    pub fn page(&self) -> Result<PageRequest, ServiceError> {
        PageRequest::parse(
            self.query("limit").as_deref(),
            self.query("cursor").as_deref(),
        )
    }

    /// The JSON object the request carries.
    pub fn json(&self) -> Result<Value, ServiceError> {
        crate::json_body(&self.parts.headers, self.body)
    }

    /// Where links in the answer point.
    pub fn base_url(&self) -> String {
        self.api.base_url(&self.parts.headers)
    }
}

/// A handler's answer: the response and, when it read or wrote a case's personal data,
/// what the audit trail records of it.
pub struct Answer {
    pub response: Response<Bytes>,
    pub access: Option<Access>,
}

/// A read or write of personal data, for the audit trail.
pub struct Access {
    pub action: AuditAction,
    pub cases: Vec<String>,
    pub fields: Vec<String>,
    /// A break-glass read's reason.
    pub reason: Option<String>,
}

impl Answer {
    /// A JSON answer with this status.
    pub fn json(status: StatusCode, v: impl serde::Serialize) -> Result<Answer, ServiceError> {
        Ok(Answer {
            response: crate::json_response(status, &v),
            access: None,
        })
    }

    /// This answer, recorded as `action` on `cases`' `fields`.
    pub fn recorded(mut self, action: AuditAction, cases: Vec<String>, fields: &[&str]) -> Answer {
        self.access = Some(Access {
            action,
            cases,
            fields: fields.iter().map(|f| f.to_string()).collect(),
            reason: None,
        });
        self
    }
}

/// `Ok(answer)` recorded as a read or write (the common end of a handler).
pub trait Record {
    fn read(self, cases: Vec<String>, fields: &[&str]) -> Self;
    fn wrote(self, cases: Vec<String>, fields: &[&str]) -> Self;
}

impl Record for Result<Answer, ServiceError> {
    fn read(self, cases: Vec<String>, fields: &[&str]) -> Self {
        self.map(|a| a.recorded(AuditAction::Read, cases, fields))
    }
    fn wrote(self, cases: Vec<String>, fields: &[&str]) -> Self {
        self.map(|a| a.recorded(AuditAction::Write, cases, fields))
    }
}

/// A matched route's path parameters, by name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    pub(crate) fn new(named: Vec<(&'static str, String)>) -> Params {
        Params(named)
    }

    /// The parameter `name` of the route's pattern (the pattern names it, so it is there).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
}
