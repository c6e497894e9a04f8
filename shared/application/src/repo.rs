//! Load → decide → commit. Every change to a case goes through [`CaseRepo::update`]: it
//! reads the case, lets the caller decide (a domain transition returning effects), bumps
//! the version, and commits conditionally on the version it read, with the messages the
//! effects cause in the same commit. A lost race is retried from a fresh read, with one
//! policy for every use case and handler.

use crate::message::outbox;
use domain::case::{Case, Effect};
use domain::Calendar;
use ports::{CaseStore, Created, StoreError};

/// How many times a lost race is retried from a fresh read.
pub const ATTEMPTS: usize = 8;
/// The first wait after a lost race; each later one may be twice as long, up to
/// [`BACKOFF_CAP_MS`]. The wait is drawn at random below that bound ("full jitter"), so
/// that writers who collided do not collide again in step.
pub const BACKOFF_BASE_MS: u64 = 10;
pub const BACKOFF_CAP_MS: u64 = 640;

/// The wait before attempt `attempt` (1 = the first retry): uniformly random in
/// `0..min(cap, base * 2^(attempt-1))` milliseconds.
pub fn backoff(attempt: usize) -> std::time::Duration {
    let bound = BACKOFF_BASE_MS
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(BACKOFF_CAP_MS);
    let r = u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into().expect("8"));
    std::time::Duration::from_millis(r % bound.max(1))
}

/// What the caller decided.
pub enum Change<T> {
    /// Commit the changed case, and send the messages of these effects with it.
    Commit(T, Vec<Effect>),
    /// Nothing to write (e.g. a duplicate message for work already done).
    Keep(T),
}

/// Why an update did not commit.
#[derive(Debug)]
pub enum RepoError {
    /// No such case.
    NotFound(String),
    /// Every attempt lost a race.
    Busy(String),
    Store(StoreError),
}

impl From<StoreError> for RepoError {
    fn from(e: StoreError) -> Self {
        RepoError::Store(e)
    }
}

pub struct CaseRepo<'a> {
    store: &'a dyn CaseStore,
    /// For the read models recomputed at each commit (working hours in the tally).
    calendar: &'a Calendar,
    /// For the case's next check by the SLA monitor, recomputed at each commit.
    settings: &'a domain::Settings,
}

impl<'a> CaseRepo<'a> {
    pub fn new(
        store: &'a dyn CaseStore,
        calendar: &'a Calendar,
        settings: &'a domain::Settings,
    ) -> Self {
        CaseRepo {
            store,
            calendar,
            settings,
        }
    }

    /// Read the case, decide, commit; on a lost race read again and decide again.
    /// Returns what `decide` returned and the case as committed (or as read, for
    /// [`Change::Keep`]).
    pub async fn update<T, E>(
        &self,
        case_id: &str,
        mut decide: impl FnMut(&mut Case) -> Result<Change<T>, E>,
    ) -> Result<(T, Case), E>
    where
        E: From<RepoError>,
    {
        self.update_async(case_id, |mut case| {
            let decided = decide(&mut case).map(|change| (change, case));
            std::future::ready(decided)
        })
        .await
    }

    /// [`CaseRepo::update`] starting from a case the caller has just read (a scan): the
    /// first attempt decides on it without reading again; a lost race reads afresh.
    pub async fn update_from<T, E>(
        &self,
        read: Case,
        mut decide: impl FnMut(&mut Case) -> Result<Change<T>, E>,
    ) -> Result<(T, Case), E>
    where
        E: From<RepoError>,
    {
        let mut case = read;
        let (value, effects) = match decide(&mut case)? {
            Change::Keep(v) => return Ok((v, case)),
            Change::Commit(v, effects) => (v, effects),
        };
        let expected = case.prepare_commit(self.calendar, self.settings);
        match self
            .store
            .commit(&case, expected, &outbox(&case, &effects))
            .await
        {
            Ok(()) => {
                case.committed();
                Ok((value, case))
            }
            Err(StoreError::Conflict(_)) => {
                // A lost race: wait as any retry does, then read afresh.
                tokio::time::sleep(backoff(1)).await;
                self.update(case.case_id(), decide).await
            }
            Err(e) => Err(RepoError::Store(e).into()),
        }
    }

    /// [`CaseRepo::update`] for decisions that need I/O first (data sharing, number
    /// allocation, archive writes): `decide` takes the case read and gives it back.
    pub async fn update_async<T, E, Fut>(
        &self,
        case_id: &str,
        mut decide: impl FnMut(Case) -> Fut,
    ) -> Result<(T, Case), E>
    where
        E: From<RepoError>,
        Fut: std::future::Future<Output = Result<(Change<T>, Case), E>>,
    {
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                // A lost race: wait a little, at random, before reading again.
                tokio::time::sleep(backoff(attempt)).await;
            }
            let case = self
                .store
                .get(case_id)
                .await
                .map_err(RepoError::from)?
                .ok_or_else(|| RepoError::NotFound(case_id.to_string()))?;
            let (value, effects, mut case) = match decide(case).await? {
                (Change::Keep(v), case) => return Ok((v, case)),
                (Change::Commit(v, effects), case) => (v, effects, case),
            };
            let expected = case.prepare_commit(self.calendar, self.settings);
            match self
                .store
                .commit(&case, expected, &outbox(&case, &effects))
                .await
            {
                Ok(()) => {
                    case.committed();
                    return Ok((value, case));
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(RepoError::Store(e).into()),
            }
        }
        Err(RepoError::Busy(case_id.to_string()).into())
    }

    /// Store a new case (version 1) with the messages of its first effects, unless the
    /// idempotency key is taken in `scope`.
    pub async fn create(
        &self,
        case: &mut Case,
        scope: &str,
        effects: &[Effect],
    ) -> Result<Created, StoreError> {
        case.prepare_commit(self.calendar, self.settings);
        let created = self.store.create(case, scope, &outbox(case, effects)).await;
        case.committed();
        created
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_after_a_lost_race_is_random_and_bounded_and_grows() {
        for attempt in 1..=ATTEMPTS {
            let bound = (BACKOFF_BASE_MS << (attempt - 1)).min(BACKOFF_CAP_MS);
            let waits: std::collections::HashSet<u128> =
                (0..200).map(|_| backoff(attempt).as_millis()).collect();
            assert!(
                waits.iter().all(|w| *w < bound as u128),
                "{attempt}: {waits:?}"
            );
            if bound > 2 {
                assert!(waits.len() > 1, "{attempt}: always the same wait");
            }
        }
        let late: u128 = (0..500).map(|_| backoff(7).as_millis()).sum();
        let early: u128 = (0..500).map(|_| backoff(1).as_millis()).sum();
        assert!(
            late > early * 10,
            "later waits are longer: {late} vs {early}"
        );
    }
}
