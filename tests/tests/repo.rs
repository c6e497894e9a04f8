//! Load → decide → commit (`application::repo::CaseRepo`) over the embedded store, with
//! the store's reads and commits counted and a lost race injected.

use crate::contract::a_case;
use application::repo::{CaseRepo, Change, RepoError};
use domain::case::Case;
use ports::{CaseStore, Created, OutMessage, StoreError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A store that counts reads and commits and can make the next commit lose a race
/// (another writer commits the same case first).
struct Counting {
    inner: Arc<dyn CaseStore>,
    gets: AtomicUsize,
    commits: AtomicUsize,
    race_next_commit: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl CaseStore for Counting {
    async fn feedback_entries(
        &self,
        dept: domain::Dept,
        region: Option<&str>,
        open: Option<bool>,
    ) -> Result<Vec<domain::projection::FeedbackEntry>, ports::StoreError> {
        self.inner.feedback_entries(dept, region, open).await
    }
    async fn escalated(
        &self,
        region: Option<&str>,
    ) -> Result<Vec<domain::projection::EscalationEntry>, ports::StoreError> {
        self.inner.escalated(region).await
    }
    async fn tallies(
        &self,
        months: &[String],
        region: Option<&str>,
    ) -> Result<Vec<domain::projection::TallyCell>, ports::StoreError> {
        self.inner.tallies(months, region).await
    }
    async fn case_rows(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        region: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<domain::projection::CaseRow>, Option<String>), ports::StoreError> {
        self.inner.case_rows(from, to, region, after, limit).await
    }
    async fn remember(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<ports::Remembered, ports::StoreError> {
        self.inner.remember(scope, key, request_hash, now).await
    }
    async fn keep_response(
        &self,
        scope: &str,
        key: &str,
        response: &ports::StoredResponse,
        expires: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ports::StoreError> {
        self.inner
            .keep_response(scope, key, response, expires)
            .await
    }
    async fn forget(&self, scope: &str, key: &str) -> Result<(), ports::StoreError> {
        self.inner.forget(scope, key).await
    }
    async fn get(&self, id: &str) -> Result<Option<Case>, StoreError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(id).await
    }
    async fn create(&self, c: &Case, s: &str, o: &[OutMessage]) -> Result<Created, StoreError> {
        self.inner.create(c, s, o).await
    }
    async fn commit(&self, c: &Case, expected: u64, o: &[OutMessage]) -> Result<(), StoreError> {
        self.commits.fetch_add(1, Ordering::SeqCst);
        if self.race_next_commit.swap(false, Ordering::SeqCst) {
            // The other writer: the same case, one version on.
            let mut other = self.inner.get(c.case_id()).await?.expect("stored");
            let v = other.prepare_commit(&calendar(), &domain::Settings::default());
            self.inner.commit(&other, v, &[]).await?;
        }
        self.inner.commit(c, expected, o).await
    }
    async fn by_owner(&self, owner: &str) -> Result<Vec<Case>, StoreError> {
        self.inner.by_owner(owner).await
    }
    async fn record_birth(
        &self,
        r: &domain::sharing::BirthRecord,
    ) -> Result<(String, bool), StoreError> {
        self.inner.record_birth(r).await
    }
    async fn birth(&self, key: &str) -> Result<Option<domain::sharing::BirthRecord>, StoreError> {
        self.inner.birth(key).await
    }
    async fn open_tasks(
        &self,
        dept: domain::Dept,
        region: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<domain::view::TaskEntry>, Option<String>), ports::StoreError> {
        self.inner.open_tasks(dept, region, after, limit).await
    }
    async fn due_for_check(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Case>, Option<String>), StoreError> {
        self.inner.due_for_check(before, after, limit).await
    }
}

async fn store_with_a_case() -> (tempfile::TempDir, Counting, Case) {
    let dir = tempfile::tempdir().unwrap();
    let e =
        embedded::Embedded::open(dir.path(), embedded::Durability::Normal, 5, b"secret").unwrap();
    let case = a_case("BCREPO1", crate::helpers::FATHER_A);
    e.store.create(&case, "scope", &[]).await.unwrap();
    let store = Counting {
        inner: e.store.clone(),
        gets: AtomicUsize::new(0),
        commits: AtomicUsize::new(0),
        race_next_commit: false.into(),
    };
    (dir, store, case)
}

fn calendar() -> domain::Calendar {
    domain::Calendar::builtin(domain::UnknownYearPolicy::AssumeWeekdays)
}

/// A change that only moves the version on.
fn touch(_: &mut Case) -> Result<Change<()>, RepoError> {
    Ok(Change::Commit((), vec![]))
}

#[tokio::test]
async fn a_change_to_a_case_just_read_commits_without_reading_it_again() {
    let (_dir, store, case) = store_with_a_case().await;
    let cal = calendar();
    let (_, after) = CaseRepo::new(&store, &cal, &domain::Settings::default())
        .update_from(case, touch)
        .await
        .unwrap();
    assert_eq!(store.gets.load(Ordering::SeqCst), 0);
    assert_eq!(store.commits.load(Ordering::SeqCst), 1);
    assert_eq!(after.version(), 2);
}

#[tokio::test]
async fn a_lost_race_is_decided_again_on_a_fresh_read() {
    let (_dir, store, case) = store_with_a_case().await;
    let cal = calendar();
    store.race_next_commit.store(true, Ordering::SeqCst);
    let (_, after) = CaseRepo::new(&store, &cal, &domain::Settings::default())
        .update_from(case, touch)
        .await
        .unwrap();
    assert_eq!(
        store.gets.load(Ordering::SeqCst),
        1,
        "one fresh read after the race"
    );
    assert_eq!(store.commits.load(Ordering::SeqCst), 2);
    assert_eq!(after.version(), 3, "decided on the other writer's version");
}

#[tokio::test]
async fn keeping_the_case_writes_nothing() {
    let (_dir, store, _) = store_with_a_case().await;
    let cal = calendar();
    let (kept, case) = CaseRepo::new(&store, &cal, &domain::Settings::default())
        .update("BCREPO1", |_| Ok::<_, RepoError>(Change::Keep(7)))
        .await
        .unwrap();
    assert_eq!(kept, 7);
    assert_eq!(case.version(), 1);
    assert_eq!(store.commits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_unknown_case_is_not_found() {
    let (_dir, store, _) = store_with_a_case().await;
    let cal = calendar();
    let r = CaseRepo::new(&store, &cal, &domain::Settings::default())
        .update("BC-NONE", |_| Ok::<_, RepoError>(Change::Keep(())))
        .await;
    assert!(matches!(r, Err(RepoError::NotFound(_))));
}
