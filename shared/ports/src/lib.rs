//! Ports: the narrow traits behind which storage (cases, task index, kept answers, read
//! models, birth records), queues, blobs, data sharing, number allocation,
//! notifications, the audit trail, signing and the clock sit, and their errors. Nothing
//! else: the use cases and handlers that drive the domain through these traits are in
//! `onething-application`; two adapter sets implement them: embedded
//! (`onething-embedded`, the default) and AWS (`onething-aws`).

pub mod error;

pub use error::StoreError;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::audit::{AuditEvent, BreakGlassRead};
use domain::case::Case;
use domain::flow::Dept;
use domain::notice::Notification;
use domain::projection::{CaseRow, EscalationEntry, FeedbackEntry, TallyCell};
use domain::sharing::{BirthRecord, HouseholdRecord, Institution, MarriageRecord, Person};
use std::time::Duration;

/// A message to send when a change commits (the store's outbox).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutMessage {
    pub queue: String,
    pub body: String,
}

/// What an upload URL pins: the bytes' type, length and (optionally) SHA-256 in hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPin {
    pub content_type: String,
    pub size: u64,
    pub sha256: Option<String>,
}

/// A presigned upload: the URL and the headers the `PUT` must send as they are.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PresignedUpload {
    pub url: String,
    pub headers: std::collections::BTreeMap<String, String>,
}

/// A POST's answer kept under its `Idempotency-Key`, to be given again to a retry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// What an `Idempotency-Key` holds when a request arrives with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remembered {
    /// Unused (or expired): reserved now for this request; run it.
    New,
    /// The same request ran before: its answer.
    Replay(StoredResponse),
    /// The key was used with another request.
    Mismatch,
    /// The same request is running now.
    InFlight,
}

/// How long an idempotency key is kept.
pub const IDEMPOTENCY_TTL_HOURS: i64 = 24;

/// Result of creating a case under an idempotency key.
#[derive(Debug)]
pub enum Created {
    /// Stored now.
    New,
    /// The key was used before: the case it created.
    Existing(Box<Case>),
    /// The newborn already has a live case (see [`Case::newborn_claim`]): this one.
    Duplicate { case_id: String },
}

/// Case state. Every change is a conditional write on the case's version; the messages
/// that the change causes are committed with it (an outbox), so a crash between the write
/// and the send cannot lose them.
#[async_trait]
pub trait CaseStore: Send + Sync {
    async fn get(&self, case_id: &str) -> Result<Option<Case>, StoreError>;
    /// Insert a new case (version 1) unless `(scope, case.idempotency_key)` is taken
    /// ([`Created::Existing`]) or its newborn is claimed by a live case
    /// ([`Created::Duplicate`]); the claim is taken in the same atomic write.
    async fn create(
        &self,
        case: &Case,
        scope: &str,
        outbox: &[OutMessage],
    ) -> Result<Created, StoreError>;
    /// Store `case` (whose `version` is `expected + 1`) if the stored version is `expected`.
    /// When [`Case::releases_newborn_now`], the newborn's claim is released in the same
    /// write (only if this case holds it); when [`Case::claims_newborn_now`], it is taken
    /// in the same write unless another case holds it ([`StoreError::Taken`], nothing
    /// written).
    async fn commit(
        &self,
        case: &Case,
        expected: u64,
        outbox: &[OutMessage],
    ) -> Result<(), StoreError>;
    /// A guardian's own cases (those they applied for), newest first.
    async fn by_owner(&self, owner: &str) -> Result<Vec<Case>, StoreError>;
    /// The cases whose form names `mother_id` as the mother of the newborn whose claim
    /// is `newborn_claim` ([`Case::newborn_claim`]), from the parents' index (one read,
    /// and a case read only for the ones that match), each once.
    async fn naming_newborn(
        &self,
        mother_id: &str,
        newborn_claim: &str,
    ) -> Result<Vec<Case>, StoreError>;
    /// The cases that name this person (a citizen ID number): those they own, and those
    /// whose form names them as the mother or father (as indexed at a commit: the caller
    /// checks the case still does), newest first, each once.
    async fn by_person(&self, id_number: &str) -> Result<Vec<Case>, StoreError>;
}

/// The work lists kept beside the cases: the departments' open tasks and the SLA
/// monitor's due index.
#[async_trait]
pub trait TaskIndex: Send + Sync {
    /// The open manual-review tasks of this department handled in `region` (a division
    /// code prefix; None: everywhere), from the index alone (no case is read), in queue
    /// order ([`domain::view::TaskEntry::queue_key`]) after the key `after`, at most
    /// `limit`; with the key of the last when more may follow. A county's first page is
    /// one read however long its queue.
    async fn open_tasks(
        &self,
        dept: Dept,
        region: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<domain::view::TaskEntry>, Option<String>), StoreError>;
    /// The cases the SLA monitor should look at by `before` (their next check, as of
    /// their last commit, is due: see `Case::compute_next_check`), earliest first, after
    /// the store's key `after`, at most `limit`; with the key of the last when more may
    /// follow. Settled cases and cases with nothing due are never read.
    async fn due_for_check(
        &self,
        before: DateTime<Utc>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Case>, Option<String>), StoreError>;
}

/// The API's kept answers: a POST repeated with its `Idempotency-Key` gets the first
/// answer back.
#[async_trait]
pub trait KeptAnswers: Send + Sync {
    /// Reserve `(scope, key)` for the request whose hash is `request_hash` (scopes and keys
    /// are opaque digests), unless it holds an unexpired record: then what it holds. A
    /// reservation older than a minute without an answer is taken over (its request died).
    async fn remember(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Remembered, StoreError>;
    /// Keep the answer of the request that reserved `(scope, key)` until `expires`.
    async fn keep_response(
        &self,
        scope: &str,
        key: &str,
        response: &StoredResponse,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Release a reservation whose request failed (a retry runs it again).
    async fn forget(&self, scope: &str, key: &str) -> Result<(), StoreError>;
}

/// The read models the commits keep (see [`domain::projection`]): feedback inboxes,
/// escalations, the supervision aggregates and the report's per-case rows.
#[async_trait]
pub trait ReadModels: Send + Sync {
    /// The feedback entries routed to `dept` in `region` (a division code prefix; None:
    /// everywhere), from the inbox index alone (no case is read): the open ones
    /// (`Some(true)`), the closed ones (`Some(false)`) or all (`None`). Reading the open
    /// ones does not read the closed ones, which only ever grow.
    async fn feedback_entries(
        &self,
        dept: Dept,
        region: Option<&str>,
        open: Option<bool>,
    ) -> Result<Vec<FeedbackEntry>, StoreError>;
    /// The open steps escalated (督办) in `region`, from the escalation index alone.
    async fn escalated(&self, region: Option<&str>) -> Result<Vec<EscalationEntry>, StoreError>;
    /// Record a supervisor's break-glass read unless they already made `per_day` on its
    /// Beijing day ([`BreakGlassRead::day`]): `true` when recorded, `false` when the
    /// limit refuses it. Counting and recording are one atomic write.
    async fn record_break_glass(
        &self,
        read: &BreakGlassRead,
        per_day: u32,
    ) -> Result<bool, StoreError>;
    /// The break-glass reads of cases in `region` (a division code prefix; None: all),
    /// newest first,
    /// after the key `after` ([`BreakGlassRead::order_key`]), at most `limit`; with the
    /// key of the last when more may follow.
    async fn break_glass_reads(
        &self,
        region: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<BreakGlassRead>, Option<String>), StoreError>;
    /// The supervision aggregates of these months (`yyyymm`) for the counties within
    /// `region`: one read per month, whatever the number of cases.
    async fn tallies(
        &self,
        months: &[String],
        region: Option<&str>,
    ) -> Result<Vec<TallyCell>, StoreError>;
    /// The per-case rows of the cases submitted in `[from, to)` and counted in `region`,
    /// in the store's order, after the store's key `after`, at most `limit`; with the key
    /// of the last row when more follow.
    async fn case_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        region: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<CaseRow>, Option<String>), StoreError>;
}

/// The hospitals' delivery records (出生登记), filed through the API.
#[async_trait]
pub trait BirthRecords: Send + Sync {
    /// Store a hospital's delivery record once: `(birth_id, true)` when new, `(birth_id,
    /// false)` for the same record again; a different record under the same key is a
    /// conflict.
    /// A birth (mother, birth minute, order: [`BirthRecord::slot`]) has one record from
    /// one institution: a record of a birth another record holds is refused
    /// ([`StoreError::Taken`] with the holder's id), nothing written.
    async fn record_birth(&self, record: &BirthRecord) -> Result<(String, bool), StoreError>;
    /// Replace the stored record with `record`'s id by `record` (the same birth; the
    /// institution corrects its entries). False when there is none.
    async fn replace_birth(&self, record: &BirthRecord) -> Result<bool, StoreError>;
    /// The delivery record stored under this key ([`BirthRecord::key`]).
    async fn birth(&self, key: &str) -> Result<Option<BirthRecord>, StoreError>;
    /// The delivery record with this id ([`BirthRecord::id`]).
    async fn birth_by_id(&self, birth_id: &str) -> Result<Option<BirthRecord>, StoreError>;
    /// The live case holding the newborn claim `claim`, if any.
    async fn newborn_holder(&self, claim: &str) -> Result<Option<String>, StoreError>;
}

/// A whole storage adapter: the cases and everything kept beside them. The application
/// holds each part apart ([`CaseStore`], [`TaskIndex`], [`KeptAnswers`], [`ReadModels`],
/// [`BirthRecords`]), so a test double wraps only the part it watches.
pub trait Store: CaseStore + TaskIndex + KeptAnswers + ReadModels + BirthRecords {}

impl<T: CaseStore + TaskIndex + KeptAnswers + ReadModels + BirthRecords + ?Sized> Store for T {}

/// A message as received from a queue.
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    pub receipt: String,
    pub body: String,
    pub receive_count: u32,
}

/// A dead-lettered message.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeadLetter {
    pub queue: String,
    pub message_id: String,
    pub body: String,
    pub receive_count: u32,
    pub last_error: Option<String>,
    pub dead_at: Option<String>,
}

/// Sending to at-least-once queues: what the application does.
#[async_trait]
pub trait QueueSender: Send + Sync {
    async fn send(&self, queue: &str, body: &str) -> Result<(), StoreError>;

    /// Put a message that could not be sent to `queue` in that queue's dead-letter queue,
    /// whole, so that it can be looked at and sent again (`onething dlq redrive QUEUE`).
    /// The relay does this instead of holding up every later change of the stream.
    async fn park(&self, queue: &str, _body: &str) -> Result<(), StoreError> {
        Err(StoreError::NotWired(format!(
            "a dead-letter queue for {queue}"
        )))
    }
}

/// Consuming a queue, as an event source mapping does: what the runtime that hosts the
/// functions does (the local runtime's pollers; Lambda itself on AWS).
#[async_trait]
pub trait QueueConsumer: Send + Sync {
    /// Up to `max` visible messages, hidden for `visibility` after receipt. A message
    /// received more than the maximum receive count goes to the queue's DLQ instead.
    async fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, StoreError>;
    /// Delete a processed message.
    async fn ack(&self, queue: &str, receipt: &str) -> Result<(), StoreError>;
    /// Make a failed message visible again after `delay`, recording why it failed.
    async fn retry_later(
        &self,
        queue: &str,
        receipt: &str,
        delay: Duration,
        error: &str,
    ) -> Result<(), StoreError>;
    /// Move a message that can never succeed straight to the queue's DLQ.
    async fn dead_letter(
        &self,
        queue: &str,
        message: &Received,
        error: &str,
    ) -> Result<(), StoreError>;
    /// Wait until a message may be available on `queue` (or the timeout passes).
    async fn wait(&self, queue: &str, timeout: Duration);
}

/// Dead-letter administration: what operators do (`onething dlq`).
#[async_trait]
pub trait DeadLetterAdmin: Send + Sync {
    async fn dead_letters(&self, queue: &str) -> Result<Vec<DeadLetter>, StoreError>;
    /// Move dead letters (one, or all when `message_id` is None) back to their queue.
    async fn redrive(&self, queue: &str, message_id: Option<&str>) -> Result<usize, StoreError>;
}

/// At-least-once queues with a visibility timeout, a maximum receive count and a DLQ:
/// all three roles, as an adapter provides them.
pub trait Queue: QueueSender + QueueConsumer + DeadLetterAdmin {}

impl<T: QueueSender + QueueConsumer + DeadLetterAdmin + ?Sized> Queue for T {}

/// A stored object's size, SHA-256 (hex) and first bytes ([`BlobStore::inspect`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    pub size: u64,
    pub sha256: String,
    pub head: Vec<u8>,
    /// The last [`TAIL_BYTES`] (where a file's format puts its end marker).
    pub tail: Vec<u8>,
}

/// How many of a file's last bytes [`BlobStore::inspect`] reads.
pub const TAIL_BYTES: usize = 1024;

impl Inspected {
    /// What a read of the whole object tells.
    pub fn of(bytes: &[u8], head: usize) -> Inspected {
        use sha2::Digest;
        Inspected {
            size: bytes.len() as u64,
            sha256: sha2::Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            head: bytes[..head.min(bytes.len())].to_vec(),
            tail: bytes[bytes.len().saturating_sub(TAIL_BYTES)..].to_vec(),
        }
    }
}

/// Materials and archives.
#[async_trait]
pub trait BlobStore: Send + Sync {
    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<(), StoreError>;
    /// Write once: fails with Conflict if the key holds other bytes; same bytes are a no-op.
    async fn put_once(&self, key: &str, bytes: &[u8], content_type: &str)
        -> Result<(), StoreError>;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// What an upload's confirmation checks, without reading the whole object where the
    /// store keeps its checksum: the size, the SHA-256 (hex) and the first `head` bytes;
    /// None when the key holds nothing.
    async fn inspect(&self, key: &str, head: usize) -> Result<Option<Inspected>, StoreError> {
        Ok(self.get(key).await?.map(|b| Inspected::of(&b, head)))
    }
    /// Copy `from` to `to` (stores that can copy without reading the bytes through this
    /// process do); the SHA-256 (hex) of the bytes copied, or None when `from` does not
    /// exist. Copying the same bytes again is a no-op.
    async fn copy_once(
        &self,
        from: &str,
        to: &str,
        content_type: &str,
    ) -> Result<Option<String>, StoreError> {
        use sha2::Digest;
        let Some(bytes) = self.get(from).await? else {
            return Ok(None);
        };
        self.put_once(to, &bytes, content_type).await?;
        let hex: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Some(hex))
    }
    /// A URL the client PUTs the bytes to once, pinned to this content type and length
    /// (and, when given, this SHA-256 in hex), with the headers the PUT must carry.
    async fn upload_url(
        &self,
        key: &str,
        pin: &UploadPin,
        expires: DateTime<Utc>,
        base_url: &str,
    ) -> Result<PresignedUpload, StoreError>;
    /// A short-lived URL that serves the stored bytes as an attachment (`filename`) with
    /// `X-Content-Type-Options: nosniff`.
    async fn download_url(
        &self,
        key: &str,
        content_type: &str,
        filename: &str,
        expires: DateTime<Utc>,
        base_url: &str,
    ) -> Result<String, StoreError>;
    /// Where an archive lives, for the case's record.
    fn location(&self, key: &str) -> String;
}

/// Government data sharing (政务数据共享).
#[async_trait]
pub trait DataSharing: Send + Sync {
    async fn person(&self, id_number: &str) -> Result<Option<Person>, StoreError>;
    async fn household(
        &self,
        household_number: &str,
    ) -> Result<Option<HouseholdRecord>, StoreError>;
    async fn marriage(
        &self,
        husband_id: &str,
        wife_id: &str,
    ) -> Result<Option<MarriageRecord>, StoreError>;
    async fn institution(&self, code: &str) -> Result<Option<Institution>, StoreError>;
    /// Every institution the source lists, where it can list them (a fixture can; the
    /// platform's API cannot): the built-in sample of sites names its hospitals.
    fn known_institutions(&self) -> Vec<Institution> {
        vec![]
    }
    /// A delivery record shared by the platform under this key ([`BirthRecord::key`]).
    async fn birth(&self, key: &str) -> Result<Option<BirthRecord>, StoreError> {
        let _ = key;
        Ok(None)
    }
}

/// The port a Lambda function was not given. Each function links only the adapters its
/// step uses (and its IAM role allows only those), so a function without S3 or without
/// the data-sharing client holds this instead. Reaching it is a deployment error: the
/// message fails permanently and waits in the DLQ for redrive once the wiring is fixed.
#[derive(Debug, Clone, Copy)]
pub struct NotWired(pub &'static str);

impl NotWired {
    fn err(&self) -> StoreError {
        StoreError::NotWired(format!("this function has no {}", self.0))
    }
}

#[async_trait]
impl AuditLog for NotWired {
    async fn record(&self, _: &AuditEvent) -> Result<(), StoreError> {
        Err(self.err())
    }
    async fn for_case(&self, _: &str) -> Result<Vec<AuditEvent>, StoreError> {
        Err(self.err())
    }
}

#[async_trait]
impl BlobStore for NotWired {
    async fn put(&self, _: &str, _: &[u8], _: &str) -> Result<(), StoreError> {
        Err(self.err())
    }
    async fn put_once(&self, _: &str, _: &[u8], _: &str) -> Result<(), StoreError> {
        Err(self.err())
    }
    async fn get(&self, _: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Err(self.err())
    }
    async fn upload_url(
        &self,
        _: &str,
        _: &UploadPin,
        _: DateTime<Utc>,
        _: &str,
    ) -> Result<PresignedUpload, StoreError> {
        Err(self.err())
    }
    async fn download_url(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: DateTime<Utc>,
        _: &str,
    ) -> Result<String, StoreError> {
        Err(self.err())
    }
    fn location(&self, _: &str) -> String {
        String::new()
    }
}

#[async_trait]
impl DataSharing for NotWired {
    async fn person(&self, _: &str) -> Result<Option<Person>, StoreError> {
        Err(self.err())
    }
    async fn household(&self, _: &str) -> Result<Option<HouseholdRecord>, StoreError> {
        Err(self.err())
    }
    async fn marriage(&self, _: &str, _: &str) -> Result<Option<MarriageRecord>, StoreError> {
        Err(self.err())
    }
    async fn institution(&self, _: &str) -> Result<Option<Institution>, StoreError> {
        Err(self.err())
    }
}

/// How a booking went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Booking {
    Booked,
    /// The slot holds `capacity` active appointments.
    SlotFull,
    /// The guardian already holds this active appointment for the purpose.
    AlreadyBooked(Box<domain::appointment::Appointment>),
}

/// The 一件事 catalogue's versions (standard 5.1, 动态管理): applied by an operator,
/// read for every new case, never changed once stored.
#[async_trait]
pub trait CatalogueStore: Send + Sync {
    /// The latest applied version (None: none applied, the built-in one is in force).
    async fn current_catalogue(&self) -> Result<Option<domain::catalogue::Version>, StoreError>;
    /// Store the next version: only if `version.version` is one more than the latest
    /// (the built-in one is 1), otherwise `Conflict` (another apply came first).
    async fn apply_catalogue(&self, version: &domain::catalogue::Version)
        -> Result<(), StoreError>;
    /// Every applied version, oldest first.
    async fn catalogue_history(&self) -> Result<Vec<domain::catalogue::Version>, StoreError>;
}

#[async_trait]
impl CatalogueStore for NotWired {
    async fn current_catalogue(&self) -> Result<Option<domain::catalogue::Version>, StoreError> {
        Err(self.err())
    }
    async fn apply_catalogue(&self, _: &domain::catalogue::Version) -> Result<(), StoreError> {
        Err(self.err())
    }
    async fn catalogue_history(&self) -> Result<Vec<domain::catalogue::Version>, StoreError> {
        Err(self.err())
    }
}

/// Appointments at sites' windows.
#[async_trait]
pub trait AppointmentStore: Send + Sync {
    /// Book `a`, in one atomic write: only if its slot holds fewer than `capacity` active
    /// appointments and its guardian holds no active appointment for its purpose.
    async fn book(
        &self,
        a: &domain::appointment::Appointment,
        capacity: u32,
    ) -> Result<Booking, StoreError>;
    /// Cancel an active appointment, freeing its place (a cancelled one is returned as
    /// it is); `None` if there is no such appointment.
    async fn cancel(
        &self,
        appointment_id: &str,
        at: domain::case::Time,
    ) -> Result<Option<domain::appointment::Appointment>, StoreError>;
    async fn appointment(
        &self,
        appointment_id: &str,
    ) -> Result<Option<domain::appointment::Appointment>, StoreError>;
    /// A guardian's appointments (any status), soonest first.
    async fn of_guardian(
        &self,
        guardian: &str,
    ) -> Result<Vec<domain::appointment::Appointment>, StoreError>;
    /// A site's appointments (any status) of one day (Beijing time), by start.
    async fn at_site(
        &self,
        site_id: &str,
        day: chrono::NaiveDate,
    ) -> Result<Vec<domain::appointment::Appointment>, StoreError>;
    /// Record that the reminder was sent (idempotent).
    async fn mark_reminded(&self, appointment_id: &str) -> Result<(), StoreError>;
}

#[async_trait]
impl AppointmentStore for NotWired {
    async fn book(
        &self,
        _: &domain::appointment::Appointment,
        _: u32,
    ) -> Result<Booking, StoreError> {
        Err(self.err())
    }
    async fn cancel(
        &self,
        _: &str,
        _: domain::case::Time,
    ) -> Result<Option<domain::appointment::Appointment>, StoreError> {
        Err(self.err())
    }
    async fn appointment(
        &self,
        _: &str,
    ) -> Result<Option<domain::appointment::Appointment>, StoreError> {
        Err(self.err())
    }
    async fn of_guardian(
        &self,
        _: &str,
    ) -> Result<Vec<domain::appointment::Appointment>, StoreError> {
        Err(self.err())
    }
    async fn at_site(
        &self,
        _: &str,
        _: chrono::NaiveDate,
    ) -> Result<Vec<domain::appointment::Appointment>, StoreError> {
        Err(self.err())
    }
    async fn mark_reminded(&self, _: &str) -> Result<(), StoreError> {
        Err(self.err())
    }
}

/// Renders a certificate's PDF (CPU only, deterministic for the same page; about 10 ms a
/// page, so callers run it off the async threads).
pub trait CertRenderer: Send + Sync {
    fn render(&self, page: &domain::certificate::DocumentPage) -> Result<Vec<u8>, String>;
}

/// A secret value kept outside the code and its configuration (Secrets Manager on AWS),
/// read on first use.
#[async_trait]
pub trait SecretSource: Send + Sync {
    async fn secret(&self) -> Result<String, StoreError>;
}

/// The key that signs certificates (ES256: ECDSA P-256 with SHA-256). Locally a key in the
/// data directory; on AWS an asymmetric KMS key that never leaves KMS.
#[async_trait]
pub trait CertSigner: Send + Sync {
    /// The signing key's id (the `kid` of its JWK).
    fn kid(&self) -> String;
    /// The signature of `message` (JWS form: `r || s`, 64 bytes).
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, StoreError>;
    /// Every public key a certificate may have been signed with (the current one and
    /// those rotated out), as a JWK set.
    async fn public_keys(&self) -> Result<serde_json::Value, StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum AllocError {
    #[error("no number left in {0}")]
    Exhausted(String),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Unique numbers: the same `(namespace, owner)` always gets the same ordinal; two owners
/// never get the same ordinal in a namespace. Ordinals start at 1.
#[async_trait]
pub trait Allocator: Send + Sync {
    async fn allocate(&self, namespace: &str, owner: &str, max: u64) -> Result<u64, AllocError>;
    /// Several numbers at once (a step's): `(namespace, owner, max)` each, the same rules
    /// as [`Allocator::allocate`]. Stores that can do it in one round trip do.
    async fn allocate_many(
        &self,
        requests: &[(String, String, u64)],
    ) -> Result<Vec<u64>, AllocError> {
        let mut out = vec![];
        for (ns, owner, max) in requests {
            out.push(self.allocate(ns, owner, *max).await?);
        }
        Ok(out)
    }
    /// A step's numbers, by the same rules, for its own commit to take: the store reads
    /// the counters and owners and returns the writes that take the numbers
    /// ([`domain::case::Case::take_numbers`]), conditional on what it read, so that the
    /// numbers and the results carrying them are one write (a lost race is that commit's
    /// conflict, retried from a fresh read; a crash in between takes nothing). Owners that
    /// are not `lasting` (the case's own) get no record: the case keeps its numbers.
    /// Stores whose commit cannot take numbers allocate at once and return no writes
    /// (the default).
    async fn reserve(&self, asks: &[NumberAsk]) -> Result<Reserved, AllocError> {
        let requests: Vec<(String, String, u64)> = asks
            .iter()
            .map(|a| (a.namespace.clone(), a.owner.clone(), a.max))
            .collect();
        Ok(Reserved {
            numbers: self.allocate_many(&requests).await?,
            takes: vec![],
        })
    }
}

/// One number asked of [`Allocator::reserve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberAsk {
    pub namespace: String,
    pub owner: String,
    pub max: u64,
    /// The owner outlives the case (the newborn): its number is recorded for it.
    pub lasting: bool,
    /// The number may go unused ([`domain::steps::NumberKind::may_skip`]): a store may
    /// hand it out from a block of the namespace taken ahead (no counter write in the
    /// commit; a number reserved and never committed is a gap). With `lasting`, the
    /// owner's record is still written by the commit, so the owner keeps one number.
    pub from_block: bool,
}

/// Numbers reserved, in the order asked, and the writes that take them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reserved {
    pub numbers: Vec<u64>,
    pub takes: Vec<domain::steps::NumberTake>,
}

/// A notification as delivered (recorded locally; SMS or app push in production).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Delivered {
    pub notification: Notification,
    pub channel: String,
    pub sent_at: DateTime<Utc>,
}

/// The daily caps on a family's messages (API.md "Notifications"): on `day` (Beijing),
/// at most `per_case` messages about one case and `per_phone` to one phone are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyCaps {
    pub day: chrono::NaiveDate,
    pub per_case: u32,
    pub per_phone: u32,
}

/// The channel of a message the caps held back (recorded, owed a summary).
pub const HELD: &str = "held";

/// A phone's messages held on one day, owed one summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub day: chrono::NaiveDate,
    pub phone: String,
    pub count: u32,
}

#[async_trait]
pub trait Notifier: Send + Sync {
    /// Record and send `n`, once per `(case_id, seq)`. With `caps`, a message whose case
    /// or phone already had its share of `caps.day` is recorded with the channel [`HELD`]
    /// instead, and counted for that phone's summary; counting and recording are one
    /// atomic write. Without `caps` (alerts to officials, summaries) it is always sent.
    async fn send(&self, n: &Notification, caps: Option<DailyCaps>) -> Result<(), StoreError>;
    /// The messages recorded under `case_id` (a case, or what else they are about).
    async fn sent(&self, case_id: &str) -> Result<Vec<Delivered>, StoreError>;
    /// Phones with messages held on `day` that have no summary yet.
    async fn held_on(&self, day: chrono::NaiveDate) -> Result<Vec<Held>, StoreError>;
    /// Mark `held` summarised (idempotent): it is no longer listed by [`Self::held_on`].
    async fn summarised(&self, held: &Held) -> Result<(), StoreError>;
}

/// The audit trail of personal data: append-only, kept apart from the application log.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Append one event (durably, before the response is sent).
    async fn record(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// Every event about this case, oldest first.
    async fn for_case(&self, case_id: &str) -> Result<Vec<AuditEvent>, StoreError>;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
