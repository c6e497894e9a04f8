//! One integration-test binary: each test starts an in-process local runtime on a
//! temporary data directory and drives it over its HTTP API, as the portal would.

mod helpers;
use testkit::moto;

mod appointments;
mod authz;
mod aws_cost;
mod batch;
mod catalogue;
mod certificates;
mod contract;
mod corrections;
mod deployed_roles;
mod events;
mod flows;
mod hardening;
mod identity;
mod messages;
mod officers;
mod parentage;
mod repo;
mod review;
mod robustness;
mod scale;
mod sharing_http;
mod sites;
mod task_view;
