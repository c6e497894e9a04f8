//! The application context: the adapters, the calendar and the settings, built once
//! (at a Lambda's init, or at the local runtime's start) and shared by every handler.

use crate::repo::CaseRepo;
use domain::flow::Dept;
use domain::{Calendar, Settings};
use ports::{
    Allocator, BirthRecords, BlobStore, CaseStore, Clock, DataSharing, KeptAnswers, Notifier,
    QueueSender, ReadModels, Store, TaskIndex,
};
use std::collections::HashSet;
use std::sync::Arc;

#[derive(Clone)]
pub struct App {
    /// The cases (every change a conditional write with its messages).
    pub store: Arc<dyn CaseStore>,
    /// The departments' open tasks and the SLA monitor's due index.
    pub tasks: Arc<dyn TaskIndex>,
    /// The API's kept answers (`Idempotency-Key`).
    pub answers: Arc<dyn KeptAnswers>,
    /// Inboxes, escalations, aggregates and report rows.
    pub reads: Arc<dyn ReadModels>,
    /// The hospitals' delivery records.
    pub births: Arc<dyn BirthRecords>,
    /// Where the handlers send messages (consuming is the hosting runtime's part).
    pub queues: Arc<dyn QueueSender>,
    pub blobs: Arc<dyn BlobStore>,
    pub sharing: Arc<dyn DataSharing>,
    pub numbers: Arc<dyn Allocator>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: Arc<dyn Clock>,
    pub calendar: Arc<Calendar>,
    pub settings: Arc<Settings>,
    /// Departments whose steps wait for an officer's decision.
    pub manual: Arc<HashSet<Dept>>,
    /// Service centres and hospital windows (operator data, or the built-in sample).
    pub sites: Arc<domain::sites::Sites>,
    /// Appointments at the sites (functions that take none have [`ports::NotWired`]).
    pub appointments: Arc<dyn ports::AppointmentStore>,
    /// The 一件事 catalogue's versions (read for every new case; functions that start
    /// none have [`ports::NotWired`]: a case keeps its own plan).
    pub catalogues: Arc<dyn ports::CatalogueStore>,
    /// The certificate signing key (none: this deployment issues no certificates).
    pub signer: Option<Arc<dyn ports::CertSigner>>,
    /// Certificates' PDFs (none: this deployment renders none, `document_url` is null).
    pub documents: Option<Documents>,
    /// The personal-data audit trail, for the lookups a handler makes itself (the API
    /// records its requests' accesses through its own; functions that make none have
    /// [`ports::NotWired`]).
    pub audit: Arc<dyn ports::AuditLog>,
}

/// How certificates' PDFs are made: the renderer (None: another function renders them,
/// this one only finds them stored), and the public address their QR codes point to
/// (fixed per deployment, never taken from a request's Host header).
#[derive(Clone)]
pub struct Documents {
    pub renderer: Option<Arc<dyn ports::CertRenderer>>,
    pub public_base: String,
}

impl App {
    /// The context over these adapters (the composition root, `onething` or a Lambda's
    /// init, chooses them).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        queues: Arc<dyn QueueSender>,
        blobs: Arc<dyn BlobStore>,
        sharing: Arc<dyn DataSharing>,
        numbers: Arc<dyn Allocator>,
        notifier: Arc<dyn Notifier>,
        clock: Arc<dyn Clock>,
        calendar: Calendar,
        settings: Settings,
        manual: HashSet<Dept>,
    ) -> App {
        let sites = domain::sites::Sites::builtin(&sharing.known_institutions(), |c| {
            settings.county_in_force(c)
        });
        App {
            sites: Arc::new(sites),
            appointments: Arc::new(ports::NotWired("appointment store")),
            catalogues: Arc::new(ports::NotWired("catalogue")),
            audit: Arc::new(ports::NotWired("audit trail")),
            signer: None,
            documents: None,
            tasks: store.clone(),
            answers: store.clone(),
            reads: store.clone(),
            births: store.clone(),
            store,
            queues,
            blobs,
            sharing,
            numbers,
            notifier,
            clock,
            calendar: Arc::new(calendar),
            settings: Arc::new(settings),
            manual: Arc::new(manual),
        }
    }

    /// The same application with an appointment store.
    pub fn with_appointments(mut self, store: Arc<dyn ports::AppointmentStore>) -> App {
        self.appointments = store;
        self
    }

    /// The same application reading the catalogue from this store.
    pub fn with_catalogue(mut self, store: Arc<dyn ports::CatalogueStore>) -> App {
        self.catalogues = store;
        self
    }

    /// The catalogue in force: the latest applied version, or the built-in one.
    pub async fn catalogue(&self) -> Result<domain::catalogue::Version, ports::StoreError> {
        Ok(self
            .catalogues
            .current_catalogue()
            .await?
            .unwrap_or_else(domain::catalogue::Version::builtin))
    }

    /// The same application recording its own lookups in this audit trail.
    pub fn with_audit(mut self, audit: Arc<dyn ports::AuditLog>) -> App {
        self.audit = audit;
        self
    }

    /// The same application signing certificates with this key.
    pub fn with_signer(mut self, signer: Arc<dyn ports::CertSigner>) -> App {
        self.signer = Some(signer);
        self
    }

    /// The same application with certificates' PDFs: rendered here (`renderer`), or by
    /// another function (None: only read where stored, and waited for by the archive).
    pub fn with_documents(
        mut self,
        renderer: Option<Arc<dyn ports::CertRenderer>>,
        public_base: &str,
    ) -> App {
        self.documents = Some(Documents {
            renderer,
            public_base: public_base.trim_end_matches('/').to_string(),
        });
        self
    }

    /// The same application with the operator's sites.
    pub fn with_sites(mut self, sites: domain::sites::Sites) -> App {
        self.sites = Arc::new(sites);
        self
    }

    pub fn now(&self) -> domain::case::Time {
        domain::case::shanghai_now(self.clock.now())
    }
    /// Today's caps on a family's messages of `kind` (API.md "Notifications"): the last
    /// of the day's messages is kept for a case's outcome.
    pub fn daily_caps(&self, kind: domain::case::NoticeKind) -> ports::DailyCaps {
        let keep = |cap: u32| {
            if kind.is_outcome() {
                cap
            } else {
                cap.saturating_sub(1).max(1)
            }
        };
        ports::DailyCaps {
            day: self.now().date_naive(),
            per_case: keep(self.settings.notices_per_case_per_day),
            per_phone: keep(self.settings.notices_per_phone_per_day),
        }
    }

    /// Send a message: a family's under today's caps, an official's always.
    pub async fn deliver(&self, n: &domain::notice::Notification) -> Result<(), ports::StoreError> {
        let caps = n.kind.is_capped().then(|| self.daily_caps(n.kind));
        self.notifier.send(n, caps).await
    }

    /// Load → decide → commit for this app's case store.
    pub fn repo(&self) -> CaseRepo<'_> {
        CaseRepo::new(self.store.as_ref(), &self.calendar, &self.settings)
    }
    pub fn is_manual(&self, dept: Dept) -> bool {
        self.manual.contains(&dept)
    }
}
