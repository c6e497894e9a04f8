//! The application context: the adapters, the calendar and the settings, built once
//! (at a Lambda's init, or at the local runtime's start) and shared by every handler.

use crate::{Allocator, BlobStore, CaseStore, Clock, DataSharing, Notifier, Queue};
use domain::flow::Dept;
use domain::{Calendar, Settings};
use std::collections::HashSet;
use std::sync::Arc;

#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn CaseStore>,
    pub queues: Arc<dyn Queue>,
    pub blobs: Arc<dyn BlobStore>,
    pub sharing: Arc<dyn DataSharing>,
    pub numbers: Arc<dyn Allocator>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: Arc<dyn Clock>,
    pub calendar: Arc<Calendar>,
    pub settings: Arc<Settings>,
    /// Departments whose steps wait for an officer's decision.
    pub manual: Arc<HashSet<Dept>>,
}

impl App {
    pub fn now(&self) -> domain::case::Time {
        domain::case::shanghai_now(self.clock.now())
    }
    pub fn is_manual(&self, dept: Dept) -> bool {
        self.manual.contains(&dept)
    }
}
