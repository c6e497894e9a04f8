//! Fault injection for tests: wrappers that make any store or queue misbehave the way
//! production does — duplicate deliveries, reordered batches, throttling and 5xx errors,
//! and a process crash between two storage operations. Never on by default: the local
//! runtime enables it only when `ONETHING_FAULTS` is set (test runs), e.g.
//! `ONETHING_FAULTS=dup=0.2,reorder=1,throttle=0.05,crash=0.002`.

use async_trait::async_trait;
use domain::case::Case;
use ports::{
    AllocError, Allocator, CaseStore, Created, DeadLetter, DeadLetterAdmin, OutMessage, Queue,
    QueueConsumer, QueueSender, Received, StoreError,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Probabilities of each fault.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// A sent message is delivered twice.
    pub dup: f64,
    /// A received batch comes back in reverse order.
    pub reorder: f64,
    /// A storage or queue call fails as throttled / 5xx before it runs.
    pub throttle: f64,
    /// The process exits right after a committed case change, before anything else.
    pub crash: f64,
}

impl Faults {
    /// Parse `dup=0.2,reorder=1,throttle=0.05,crash=0.002`.
    pub fn parse(s: &str) -> Result<Faults, String> {
        let mut f = Faults::default();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("fault {part:?}: want kind=probability"))?;
            let p: f64 = v
                .trim()
                .parse()
                .map_err(|_| format!("fault {part:?}: not a number"))?;
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("fault {part:?}: probability must be 0..1"));
            }
            match k.trim() {
                "dup" => f.dup = p,
                "reorder" => f.reorder = p,
                "throttle" => f.throttle = p,
                "crash" => f.crash = p,
                other => return Err(format!("unknown fault {other:?}")),
            }
        }
        Ok(f)
    }
}

/// A tiny shared xorshift generator (no cryptographic use).
pub struct Dice(AtomicU64);

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice(AtomicU64::new(seed | 1))
    }
    pub fn roll(&self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        let mut x = self.0.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0.store(x, Ordering::Relaxed);
        ((x >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

fn injected(kind: &str) {
    tracing::warn!(fault = kind, "fault injected");
}

fn throttled(f: &Faults, d: &Dice) -> Result<(), StoreError> {
    if d.roll(f.throttle) {
        injected("throttle");
        return Err(StoreError::Unavailable(
            "injected: throttled (HTTP 400 ThrottlingException / 500)".into(),
        ));
    }
    Ok(())
}

/// The parts of a store whose calls fault (the task index and the read models are
/// read-only and left as they are).
pub struct FaultyStore {
    pub cases: Arc<dyn CaseStore>,
    pub answers: Arc<dyn ports::KeptAnswers>,
    pub births: Arc<dyn ports::BirthRecords>,
    pub faults: Faults,
    pub dice: Arc<Dice>,
}

#[async_trait]
impl CaseStore for FaultyStore {
    async fn get(&self, case_id: &str) -> Result<Option<Case>, StoreError> {
        throttled(&self.faults, &self.dice)?;
        self.cases.get(case_id).await
    }
    async fn create(
        &self,
        case: &Case,
        scope: &str,
        outbox: &[OutMessage],
    ) -> Result<Created, StoreError> {
        throttled(&self.faults, &self.dice)?;
        let r = self.cases.create(case, scope, outbox).await?;
        maybe_crash(&self.faults, &self.dice, "create");
        Ok(r)
    }
    async fn commit(
        &self,
        case: &Case,
        expected: u64,
        outbox: &[OutMessage],
    ) -> Result<(), StoreError> {
        throttled(&self.faults, &self.dice)?;
        self.cases.commit(case, expected, outbox).await?;
        // A crash between this write and whatever the handler does next.
        maybe_crash(&self.faults, &self.dice, "commit");
        Ok(())
    }
    async fn by_owner(&self, owner: &str) -> Result<Vec<domain::Case>, ports::StoreError> {
        self.cases.by_owner(owner).await
    }
    async fn naming_newborn(
        &self,
        mother_id: &str,
        newborn_claim: &str,
    ) -> Result<Vec<domain::Case>, ports::StoreError> {
        self.cases.naming_newborn(mother_id, newborn_claim).await
    }
    async fn by_person(&self, id_number: &str) -> Result<Vec<Case>, StoreError> {
        self.cases.by_person(id_number).await
    }
}

#[async_trait]
impl ports::KeptAnswers for FaultyStore {
    async fn remember(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<ports::Remembered, ports::StoreError> {
        throttled(&self.faults, &self.dice)?;
        self.answers.remember(scope, key, request_hash, now).await
    }
    async fn keep_response(
        &self,
        scope: &str,
        key: &str,
        response: &ports::StoredResponse,
        expires: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ports::StoreError> {
        throttled(&self.faults, &self.dice)?;
        self.answers
            .keep_response(scope, key, response, expires)
            .await
    }
    async fn forget(&self, scope: &str, key: &str) -> Result<(), ports::StoreError> {
        throttled(&self.faults, &self.dice)?;
        self.answers.forget(scope, key).await
    }
}

#[async_trait]
impl ports::BirthRecords for FaultyStore {
    async fn record_birth(
        &self,
        record: &domain::sharing::BirthRecord,
    ) -> Result<(String, bool), StoreError> {
        throttled(&self.faults, &self.dice)?;
        self.births.record_birth(record).await
    }
    async fn birth(&self, key: &str) -> Result<Option<domain::sharing::BirthRecord>, StoreError> {
        self.births.birth(key).await
    }
    async fn replace_birth(
        &self,
        record: &domain::sharing::BirthRecord,
    ) -> Result<bool, StoreError> {
        throttled(&self.faults, &self.dice)?;
        self.births.replace_birth(record).await
    }
    async fn birth_by_id(
        &self,
        birth_id: &str,
    ) -> Result<Option<domain::sharing::BirthRecord>, StoreError> {
        self.births.birth_by_id(birth_id).await
    }
    async fn newborn_holder(&self, claim: &str) -> Result<Option<String>, StoreError> {
        self.births.newborn_holder(claim).await
    }
}

pub struct FaultyQueue {
    pub inner: Arc<dyn Queue>,
    pub faults: Faults,
    pub dice: Arc<Dice>,
}

#[async_trait]
impl QueueSender for FaultyQueue {
    async fn send(&self, queue: &str, body: &str) -> Result<(), StoreError> {
        throttled(&self.faults, &self.dice)?;
        self.inner.send(queue, body).await?;
        if self.dice.roll(self.faults.dup) {
            injected("duplicate");
            self.inner.send(queue, body).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for FaultyQueue {
    async fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, StoreError> {
        throttled(&self.faults, &self.dice)?;
        let mut got = self.inner.receive(queue, max, visibility).await?;
        if got.len() > 1 && self.dice.roll(self.faults.reorder) {
            injected("reorder");
            got.reverse();
        }
        // A duplicate delivery of a received message: the same body arrives again.
        if let Some(m) = got.first() {
            if self.dice.roll(self.faults.dup) {
                injected("duplicate");
                self.inner.send(queue, &m.body).await?;
            }
        }
        Ok(got)
    }

    async fn ack(&self, queue: &str, receipt: &str) -> Result<(), StoreError> {
        // The handler's work is committed; crash before the message is deleted.
        maybe_crash(&self.faults, &self.dice, "before-ack");
        throttled(&self.faults, &self.dice)?;
        self.inner.ack(queue, receipt).await
    }

    async fn retry_later(
        &self,
        queue: &str,
        receipt: &str,
        delay: Duration,
        error: &str,
    ) -> Result<(), StoreError> {
        self.inner.retry_later(queue, receipt, delay, error).await
    }

    async fn dead_letter(
        &self,
        queue: &str,
        message: &Received,
        error: &str,
    ) -> Result<(), StoreError> {
        self.inner.dead_letter(queue, message, error).await
    }

    async fn wait(&self, queue: &str, timeout: Duration) {
        self.inner.wait(queue, timeout).await
    }
}

#[async_trait]
impl DeadLetterAdmin for FaultyQueue {
    async fn dead_letters(&self, queue: &str) -> Result<Vec<DeadLetter>, StoreError> {
        self.inner.dead_letters(queue).await
    }

    async fn redrive(&self, queue: &str, message_id: Option<&str>) -> Result<usize, StoreError> {
        self.inner.redrive(queue, message_id).await
    }
}

fn maybe_crash(f: &Faults, d: &Dice, after: &str) {
    if d.roll(f.crash) {
        tracing::warn!(fault = "crash", after, "fault injected");
        std::process::exit(137);
    }
}

/// Number allocation that throttles and crashes right after allocating (before the case
/// records the number: the retry must get the same number back).
pub struct FaultyAllocator {
    pub inner: Arc<dyn Allocator>,
    pub faults: Faults,
    pub dice: Arc<Dice>,
}

#[async_trait]
impl Allocator for FaultyAllocator {
    async fn allocate(&self, namespace: &str, owner: &str, max: u64) -> Result<u64, AllocError> {
        throttled(&self.faults, &self.dice)?;
        let n = self.inner.allocate(namespace, owner, max).await?;
        maybe_crash(&self.faults, &self.dice, "allocate");
        Ok(n)
    }

    async fn reserve(&self, asks: &[ports::NumberAsk]) -> Result<ports::Reserved, AllocError> {
        throttled(&self.faults, &self.dice)?;
        let r = self.inner.reserve(asks).await?;
        maybe_crash(&self.faults, &self.dice, "reserve");
        Ok(r)
    }
}

/// Wrap an application's store and allocator, and the queues it sends to and the runtime
/// consumes, with the given faults. Returns the faulty queues for the runtime's pollers.
pub fn inject(
    app: &mut application::App,
    queues: Arc<dyn Queue>,
    faults: Faults,
    seed: u64,
) -> Arc<dyn Queue> {
    let dice = Arc::new(Dice::new(seed));
    let store = Arc::new(FaultyStore {
        cases: app.store.clone(),
        answers: app.answers.clone(),
        births: app.births.clone(),
        faults: faults.clone(),
        dice: dice.clone(),
    });
    app.store = store.clone();
    app.answers = store.clone();
    app.births = store;
    app.numbers = Arc::new(FaultyAllocator {
        inner: app.numbers.clone(),
        faults: faults.clone(),
        dice: dice.clone(),
    });
    let faulty: Arc<dyn Queue> = Arc::new(FaultyQueue {
        inner: queues,
        faults,
        dice,
    });
    app.queues = faulty.clone();
    faulty
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_roll() {
        let f = Faults::parse("dup=0.5,crash=0").unwrap();
        assert_eq!(f.dup, 0.5);
        assert!(Faults::parse("boom=1").is_err());
        assert!(Faults::parse("dup=2").is_err());
        let d = Dice::new(7);
        let hits = (0..10_000).filter(|_| d.roll(0.25)).count();
        assert!((2000..3000).contains(&hits), "{hits}");
        assert!(!(0..100).any(|_| d.roll(0.0)));
    }
}
