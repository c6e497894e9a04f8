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
    async fn by_owner(&self, owner: &str) -> Result<Vec<domain::Case>, ports::StoreError> {
        self.inner.by_owner(owner).await
    }
    async fn naming_newborn(
        &self,
        mother_id: &str,
        newborn_claim: &str,
    ) -> Result<Vec<domain::Case>, ports::StoreError> {
        self.inner.naming_newborn(mother_id, newborn_claim).await
    }
    async fn by_person(&self, id_number: &str) -> Result<Vec<Case>, StoreError> {
        self.inner.by_person(id_number).await
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
