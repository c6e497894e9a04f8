//! What government data sharing (政务数据共享) knows: the records of the fixture format.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id_number: String,
    pub name: String,
    #[serde(default)]
    pub sex: Option<String>,
    #[serde(default)]
    pub ethnicity: Option<String>,
    #[serde(default)]
    pub household_number: Option<String>,
    #[serde(default)]
    pub employee_insured: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HouseholdRecord {
    pub household_number: String,
    pub address_code: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub head_id_number: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarriageRecord {
    pub certificate_number: String,
    pub husband_id_number: String,
    pub wife_id_number: String,
    #[serde(default)]
    pub registered_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Institution {
    pub code: String,
    pub name: String,
    pub county_code: String,
    pub kind: String,
}

/// The fixture: what the provincial platform would answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Registry {
    #[serde(default)]
    pub people: Vec<Person>,
    #[serde(default)]
    pub households: Vec<HouseholdRecord>,
    #[serde(default)]
    pub marriages: Vec<MarriageRecord>,
    #[serde(default)]
    pub institutions: Vec<Institution>,
}

/// What acceptance obtained from data sharing, kept on the case so later steps read it
/// instead of asking again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SharedFacts {
    pub mother: Option<Person>,
    pub father: Option<Person>,
    pub household: Option<HouseholdRecord>,
    pub marriage: Option<MarriageRecord>,
    pub institution: Option<Institution>,
}
