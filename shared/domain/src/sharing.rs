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
    /// The phone the platform holds for the person (where a parent who did not apply is
    /// told of an application naming them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
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
    pub kind: InstitutionKind,
}

/// What kind of institution data sharing says it is (kept as given when it is another).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstitutionKind {
    /// A midwifery institution (助产机构): births there are this service's.
    Midwifery,
    Clinic,
    #[serde(untagged)]
    Other(String),
}

/// A midwifery institution's delivery record (A.4.2.1): what a birth medical certificate
/// certifies. Pushed by the hospital's system (`POST /v1/births`) or shared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BirthRecord {
    pub institution_code: String,
    pub mother_id_number: String,
    pub birth_time: chrono::DateTime<chrono::FixedOffset>,
    pub sex: crate::idnum::Sex,
    #[serde(default = "one")]
    pub birth_order: u32,
    #[serde(default = "one")]
    pub multiple_birth: u32,
    pub weight_g: u32,
    pub length_cm: u32,
    pub gestational_weeks: u32,
}

fn one() -> u32 {
    1
}

impl BirthRecord {
    /// What identifies a record: institution, mother, birth order, birth time to the minute.
    pub fn key(&self) -> String {
        birth_key(
            &self.institution_code,
            &self.mother_id_number,
            self.birth_order,
            self.birth_time,
        )
    }

    /// The birth itself, whichever institution records it: the mother, the birth order and
    /// the birth minute (a digest: no ID number in a key). One record per birth.
    pub fn slot(&self) -> String {
        let minute = self
            .birth_time
            .with_timezone(&chrono::Utc)
            .format("%Y%m%d%H%M");
        hex_sha256(&format!(
            "birth-slot:{}:{}:{minute}",
            self.mother_id_number, self.birth_order
        ))
    }

    /// The newborn claim of the case this record's birth would have (the mother, the
    /// Beijing birth date, the birth order; see `Form::newborn_claim`).
    pub fn newborn_claim(&self) -> String {
        let date = self
            .birth_time
            .with_timezone(&crate::calendar::shanghai())
            .date_naive();
        crate::form::newborn_claim_of(&self.mother_id_number, date, self.birth_order)
    }

    /// The record's id (`BR` + a digest of [`BirthRecord::key`]): no ID number in a key.
    pub fn id(&self) -> String {
        birth_id(&self.key())
    }

    /// Whether the form's entries agree with the record (sex, weight, length, gestational
    /// weeks, multiple birth).
    pub fn agrees_with(&self, form: &crate::form::Form) -> bool {
        let nb = &form.newborn;
        self.sex == nb.sex
            && self.weight_g == nb.weight_g
            && self.length_cm == nb.length_cm
            && self.gestational_weeks == nb.gestational_weeks
            && self.multiple_birth == nb.multiple_birth
    }

    /// Whether the application's form names this birth.
    pub fn matches(&self, form: &crate::form::Form) -> bool {
        self.key()
            == birth_key(
                &form.newborn.hospital_code,
                form.mother.id_number.as_str(),
                form.newborn.birth_order,
                form.newborn.birth_time,
            )
    }
}

/// The matching key of a birth: the birth time is compared to the minute, in UTC.
pub fn birth_key(
    institution: &str,
    mother_id: &str,
    birth_order: u32,
    birth_time: chrono::DateTime<chrono::FixedOffset>,
) -> String {
    let minute = birth_time.with_timezone(&chrono::Utc).format("%Y%m%d%H%M");
    format!("{institution}:{mother_id}:{birth_order}:{minute}")
}

/// The id of the birth record stored under `key` ([`BirthRecord::key`]).
pub fn birth_id(key: &str) -> String {
    format!("BR{}", &hex_sha256(key)[..24].to_uppercase())
}

pub(crate) fn hex_sha256(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
    #[serde(default)]
    pub births: Vec<BirthRecord>,
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
    /// The hospital's delivery record matching the form, if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth: Option<BirthRecord>,
}
