//! The application: the domain driven through the ports.
//!
//! - [`service`]: the use cases behind the HTTP API (each checks who asks, drives the
//!   domain, commits through [`repo::CaseRepo`]).
//! - [`handlers`]: the queue consumers, one per step function, plus notify, archive and
//!   the SLA monitor's tick.
//! - [`authz`]: who may see and change what.
//! - [`report`]: supervision figures.
//! - [`message`]: the envelopes on the queues.
//! - [`repo`]: load → decide → commit, with the one conflict policy.
//! - [`fixture`]: the data-sharing fixture and the built-in sample registry.

pub mod archive;
pub mod authz;
pub mod body;
pub mod booking;
pub mod certs;
pub mod context;
pub mod digest;
pub mod error;
pub mod fixture;
pub mod handlers;
pub mod message;
pub mod paging;
pub mod repo;
pub mod report;
pub mod response;
pub mod service;

pub use context::App;
pub use error::{HandlerError, ServiceError};
pub use fixture::{sample_registry, FixtureSharing};
pub use message::Envelope;
pub use repo::{CaseRepo, Change};
