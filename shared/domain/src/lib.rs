//! The pure domain of the Zhejiang birth one-thing (出生"一件事").
//!
//! No I/O, no AWS types: the flow table ([`flow`]), the case state machine ([`case`]),
//! each department's step ([`steps`]), the working-day calendar ([`calendar`]), citizen ID numbers
//! ([`idnum`]), the form ([`form`]), notifications ([`notice`]) and the API views ([`view`]).

pub mod appointment;
pub mod audit;
pub mod calendar;
pub mod case;
pub mod catalogue;
pub mod certificate;
pub mod feedback;
pub mod flow;
pub mod form;
pub mod holidays;
pub mod idnum;
pub mod notice;
pub mod problem;
pub mod projection;
pub mod settings;
pub mod sharing;
pub mod sites;
pub mod steps;
pub mod supervision;
pub mod text;
pub mod view;
pub mod wire;

pub use calendar::{Calendar, UnknownYearPolicy};
pub use case::{Actor, Case, CaseStatus, Decision, DomainError, Effect, Role, StepStatus};
pub use flow::{Channel, Dept, MaterialKind, Step};
pub use form::Form;
pub use problem::Problem;
pub use settings::Settings;
