//! The data-sharing fixture (`--registry FILE` locally, or `DATA_SHARING_FIXTURE=true`, the
//! template's `UseFixture`, on a test stack), and the built-in sample registry. Pure: no
//! I/O beyond parsing the JSON.

use async_trait::async_trait;
use domain::sharing::{
    BirthRecord, HouseholdRecord, Institution, MarriageRecord, Person, Registry,
};
use ports::{DataSharing, StoreError};
use std::collections::HashMap;

pub struct FixtureSharing {
    people: HashMap<String, Person>,
    households: HashMap<String, HouseholdRecord>,
    marriages: HashMap<(String, String), MarriageRecord>,
    institutions: HashMap<String, Institution>,
    births: HashMap<String, BirthRecord>,
}

impl FixtureSharing {
    pub fn new(r: Registry) -> Self {
        let norm = |s: &str| domain::idnum::normalise(s);
        FixtureSharing {
            people: r
                .people
                .into_iter()
                .map(|p| (norm(&p.id_number), p))
                .collect(),
            households: r
                .households
                .into_iter()
                .map(|h| (h.household_number.clone(), h))
                .collect(),
            marriages: r
                .marriages
                .into_iter()
                .map(|m| ((norm(&m.husband_id_number), norm(&m.wife_id_number)), m))
                .collect(),
            institutions: r
                .institutions
                .into_iter()
                .map(|i| (i.code.clone(), i))
                .collect(),
            births: r
                .births
                .into_iter()
                .map(|mut b| {
                    b.mother_id_number = norm(&b.mother_id_number);
                    (b.key(), b)
                })
                .collect(),
        }
    }

    pub fn from_json(json: &str) -> Result<Self, String> {
        let r: Registry = serde_json::from_str(json).map_err(|e| format!("registry: {e}"))?;
        Ok(Self::new(r))
    }
}

#[async_trait]
impl DataSharing for FixtureSharing {
    async fn person(&self, id: &str) -> Result<Option<Person>, StoreError> {
        Ok(self.people.get(id).cloned())
    }
    async fn household(&self, n: &str) -> Result<Option<HouseholdRecord>, StoreError> {
        Ok(self.households.get(n).cloned())
    }
    async fn marriage(
        &self,
        husband: &str,
        wife: &str,
    ) -> Result<Option<MarriageRecord>, StoreError> {
        Ok(self
            .marriages
            .get(&(husband.to_string(), wife.to_string()))
            .cloned())
    }
    fn known_institutions(&self) -> Vec<Institution> {
        self.institutions.values().cloned().collect()
    }
    async fn institution(&self, code: &str) -> Result<Option<Institution>, StoreError> {
        Ok(self.institutions.get(code).cloned())
    }
    async fn birth(&self, key: &str) -> Result<Option<BirthRecord>, StoreError> {
        Ok(self.births.get(key).cloned())
    }
}

/// The built-in sample: synthetic people (their numbers identify nobody) covering the
/// common paths. See `docs/sample-registry.md`.
pub fn sample_registry() -> &'static str {
    include_str!("../sample-registry.json")
}
