//! The department steps, one module each. A step's module says everything that
//! department does: its automatic review, the numbers it needs, the data an officer may
//! supply with an approval, and the results it issues.
//!
//! | step | module | department |
//! |---|---|---|
//! | acceptance | [`acceptance`] | service centre (or the window that took the application) |
//! | birth medical and vaccination certificates | [`birth_certificate`] | hospital |
//! | household registration and the newborn's ID number | [`household`] | police |
//! | medical insurance and maternity benefit | [`insurance`] | medical security |
//! | social security card | [`card`] | HR & social security |
//! | unified issuance | [`issuance`] | service centre |
//!
//! This file holds the trait every department step implements ([`DeptStep`]), its lookup
//! ([`of`]), the types every step shares ([`Verdict`], [`Numbers`], [`StepResults`]) and
//! the one review policy ([`verdict`]).

pub mod acceptance;
pub mod birth_certificate;
pub mod card;
pub mod checks;
pub mod household;
pub mod insurance;
pub mod issuance;
pub mod paper;

use crate::case::SupersededKind;
use crate::case::{Case, Time};
use crate::flow::Step;
use crate::settings::Settings;
use chrono::NaiveDate;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;

/// What an officer may supply with an approval: the household's county code in force and
/// its household number (police), the premium when none is configured (medical security).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_cny: Option<u32>,
    /// Why the newborn is registered in another county than the household record's
    /// (an explicit move, recorded in the timeline); required for such an `address_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_reason: Option<String>,
}

impl ApprovalData {
    pub fn is_empty(&self) -> bool {
        *self == ApprovalData::default()
    }
}

/// What a department does in its step. Each `steps/<dept>.rs` implements it for its
/// step; [`of`] finds the implementation, and the generic machine and the handlers call
/// nothing else of a step. A method a department has nothing to say about keeps its
/// default.
pub trait DeptStep: Sync {
    /// The department's automatic review (applied through the one policy, [`verdict`]).
    fn review(&self, _case: &Case, _settings: &Settings, _today: NaiveDate) -> Verdict {
        Verdict::Pass
    }
    /// The numbers the step needs from the allocator before it can issue.
    fn allocations(&self, _case: &Case, _settings: &Settings) -> Vec<AllocationRequest> {
        vec![]
    }
    /// The step's results, from the numbers allocated for its allocations.
    fn issue(
        &self,
        case: &Case,
        numbers: &Numbers,
        settings: &Settings,
        now: Time,
    ) -> Result<StepResults, String>;
    /// What an officer's approval must carry (field problems; empty when complete).
    fn approval_problems(
        &self,
        _case: &Case,
        _data: &ApprovalData,
        _settings: &Settings,
    ) -> Vec<crate::problem::Problem> {
        vec![]
    }
    /// The electronic certificates the step's results are issued as: kind, number and
    /// issuing unit, for the results it holds now.
    fn certificates(&self, _case: &Case) -> Vec<(crate::certificate::CertKind, String, String)> {
        vec![]
    }
    /// What redoing the step supersedes when a correction changed what it certified:
    /// `(kind, number, reason)`; such numbers are never issued again.
    fn superseded_on_redo(&self, _case: &Case) -> Vec<(SupersededKind, String, &'static str)> {
        vec![]
    }
    /// The kinds of uploaded material the department's officers check in this step
    /// (None: every kind). An officer of a department opens only those.
    fn materials_checked(&self) -> Option<&'static [crate::flow::MaterialKind]> {
        None
    }
    /// Every number the step issued on the case, `(kind, number)`: what a void
    /// supersedes (never issued again). Default: what redoing it would supersede.
    fn issued_numbers(&self, case: &Case) -> Vec<(SupersededKind, String)> {
        self.superseded_on_redo(case)
            .into_iter()
            .map(|(kind, number, _)| (kind, number))
            .collect()
    }
    /// The documents the step's results are handed over as, for this case.
    fn handover_items(&self, _case: &Case) -> Vec<&'static str> {
        vec![]
    }
    /// What the family is told when the step is done with these results, beyond the
    /// hand-over (medical security: the premium to pay).
    fn notices(&self, _results: &StepResults) -> Vec<crate::case::NoticeKind> {
        vec![]
    }
    /// Numbers the step's new results replace when it is done again: `(kind, old, new)`
    /// for each that changed.
    fn numbers_replaced(
        &self,
        _old: &StepResults,
        _new: &StepResults,
    ) -> Vec<(SupersededKind, String, String)> {
        vec![]
    }
    /// What the department's officer confirms before deciding, in the order they check
    /// it (DOMAIN.md "What each department checks").
    fn checklist(&self) -> &'static [checks::CheckItem] {
        &[]
    }
    /// The form fields the step decides on (paths into the form as the API names them),
    /// shown unmasked to the department's officer.
    fn facts(&self) -> &'static [&'static str] {
        &[]
    }
    /// The records the step matched the form against, and what did not match.
    fn records(&self, _case: &Case) -> checks::TaskRecords {
        checks::TaskRecords::default()
    }
    /// What a document of `kind` the step issues certifies beyond its number, holder,
    /// issuer and date: the facts of its paper form, from the case.
    fn document_facts(
        &self,
        _case: &Case,
        _kind: crate::certificate::CertKind,
    ) -> Vec<paper::Fact> {
        vec![]
    }
}

/// The department step's rules.
pub fn of(step: Step) -> &'static dyn DeptStep {
    match step {
        Step::Acceptance => &acceptance::Acceptance,
        Step::BirthCertificate => &birth_certificate::Hospital,
        Step::HouseholdRegistration => &household::Police,
        Step::MedicalInsurance => &insurance::MedicalSecurity,
        Step::SocialSecurityCard => &card::Hrss,
        Step::UnifiedIssuance => &issuance::UnifiedIssuance,
    }
}

/// What an approval of `step` must carry (field problems, empty when it is complete).
pub fn approval_problems(
    step: Step,
    case: &Case,
    data: &ApprovalData,
    settings: &Settings,
) -> Vec<crate::problem::Problem> {
    of(step).approval_problems(case, data, settings)
}

/// A department's automatic verdict on its step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Issue the results.
    Pass,
    /// An officer must look; the findings say why. (No rule returns a case to the family
    /// by itself: what the family can fix is found at acceptance, in the one notice; a
    /// department's officer returns a case by a decision.)
    Review(Vec<String>),
}

/// The one review policy: what a step does when its message arrives.
///
/// - An officer already approved the step: issue (the rules are not asked again).
/// - The department works on manual review: every verdict becomes a task for an officer,
///   carrying what the rules found.
/// - Otherwise the rules decide.
pub fn verdict(
    step: Step,
    case: &Case,
    settings: &Settings,
    today: NaiveDate,
    manual: bool,
) -> Verdict {
    if case.step(step).approved_by.is_some() {
        return Verdict::Pass;
    }
    match (review(step, case, settings, today), manual) {
        (Verdict::Pass, true) => Verdict::Review(vec![]),
        (v, _) => v,
    }
}

/// A department's automatic review of its step (acceptance is assessed by
/// [`acceptance::assess`] before the case is accepted).
pub fn review(step: Step, case: &Case, settings: &Settings, today: NaiveDate) -> Verdict {
    of(step).review(case, settings, today)
}

/// The numbers a step needs from the allocator before it can issue (its own, and the
/// parcel or pick-up code of its hand-over).
pub fn allocations(step: Step, case: &Case, settings: &Settings) -> Vec<AllocationRequest> {
    let mut v = of(step).allocations(case, settings);
    if step != Step::UnifiedIssuance {
        v.extend(issuance::allocations_at(step, case));
    }
    v
}

/// The step's results, from the numbers allocated for its [`allocations`].
pub fn issue(
    step: Step,
    case: &Case,
    numbers: &Numbers,
    settings: &Settings,
    now: Time,
) -> Result<StepResults, String> {
    of(step).issue(case, numbers, settings, now)
}

/// Numbers the new results of any step replace: `(kind, old, new)` for each that changed.
pub fn numbers_replaced(
    old: &StepResults,
    new: &StepResults,
) -> Vec<(SupersededKind, String, String)> {
    Step::ALL
        .into_iter()
        .flat_map(|s| of(s).numbers_replaced(old, new))
        .collect()
}

/// `(kind, old, new)` when the two numbers differ (a step's [`DeptStep::numbers_replaced`]).
pub(crate) fn replaced(
    kind: SupersededKind,
    old: Option<&String>,
    new: Option<&String>,
) -> Option<(SupersededKind, String, String)> {
    match (old, new) {
        (Some(o), Some(n)) if o != n => Some((kind, o.clone(), n.clone())),
        _ => None,
    }
}

/// The hand-over a step makes when it is done (online: the unit's own documents; the
/// unified issuance's on every channel), from the numbers allocated for it.
pub fn delivery(
    step: Step,
    case: &Case,
    numbers: &Numbers,
    now: Time,
) -> Result<Option<issuance::DeliveryRecord>, String> {
    let items = issuance::hands_over_at(step, case);
    if items.is_empty() {
        return Ok(None);
    }
    let by = if step == Step::UnifiedIssuance {
        issuance::accepting_unit(case.channel())
    } else {
        step.dept()
    };
    issuance::delivery_record(case, step, by, items, numbers, now).map(Some)
}

/// Which number an allocation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NumberKind {
    BirthCertificate,
    VaccinationCertificate,
    /// The sequence part of the newborn's citizen ID number.
    CitizenId,
    /// A new household number (only when no household record names one).
    Household,
    CardSerial,
    MailSerial,
    PickupCode,
}

impl NumberKind {
    /// Whether a number of this kind may go unused (a gap in its sequence), so that it
    /// may be handed out from a block taken ahead and no case's commit writes its
    /// counter: a parcel's tracking number, a pick-up code, a card's serial, and the two
    /// certificate numbers. These are unique in the province, not a gapless series (the
    /// printed forms they stand for are voided and skipped as a matter of course); their
    /// counters are the province's, which every birth would otherwise write in its own
    /// commit. The certificate numbers' owner (the newborn) is still recorded by the
    /// commit, so a newborn keeps one number. The ID sequence (about 500 a day per county
    /// and sex, a scarce and audited series) and household numbers are taken in the
    /// commit that records them, with no gaps.
    pub fn may_skip(self) -> bool {
        matches!(
            self,
            NumberKind::BirthCertificate
                | NumberKind::VaccinationCertificate
                | NumberKind::CardSerial
                | NumberKind::MailSerial
                | NumberKind::PickupCode
        )
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            NumberKind::BirthCertificate => "出生医学证明编号",
            NumberKind::VaccinationCertificate => "预防接种证编号",
            NumberKind::CitizenId => "公民身份号码顺序码",
            NumberKind::Household => "户号",
            NumberKind::CardSerial => "社会保障卡卡号",
            NumberKind::MailSerial => "邮寄单号",
            NumberKind::PickupCode => "取件码",
        }
    }
}

/// A number the step needs from the allocator: a namespace, the largest ordinal it may
/// hold, and whose it is (the same owner always gets the same number back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRequest {
    pub kind: NumberKind,
    pub namespace: String,
    pub max: u64,
    /// `None`: the case itself.
    pub owner: Option<String>,
    /// The owner outlives the case (the newborn: a new application for the same baby
    /// gets the same numbers), so the store keeps its number for it. Numbers of the case
    /// itself (a card, a parcel) are kept by the case's own commit.
    pub lasting: bool,
}

impl AllocationRequest {
    pub fn new(kind: NumberKind, namespace: impl Into<String>, max: u64) -> Self {
        AllocationRequest {
            kind,
            namespace: namespace.into(),
            max,
            owner: None,
            lasting: false,
        }
    }
    /// A number owned by the newborn: kept for it beyond this case.
    pub fn newborn(
        kind: NumberKind,
        namespace: impl Into<String>,
        max: u64,
        owner: impl Into<String>,
    ) -> Self {
        AllocationRequest {
            lasting: true,
            ..AllocationRequest::owned(kind, namespace, max, owner)
        }
    }
    /// A number of one thing of the case (a hand-over): the same owner gets the same
    /// number within the case.
    pub fn owned(
        kind: NumberKind,
        namespace: impl Into<String>,
        max: u64,
        owner: impl Into<String>,
    ) -> Self {
        AllocationRequest {
            owner: Some(owner.into()),
            ..AllocationRequest::new(kind, namespace, max)
        }
    }
}

/// What taking reserved numbers writes, in the commit that records them (so that a
/// step's numbers and the results that carry them are one write: a crash in between
/// leaves neither, and a lost race on a counter is a conflict of that commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberTake {
    /// Move a namespace's counter from `from` (0: never used) to `to`, if still at `from`.
    Counter {
        namespace: String,
        from: u64,
        to: u64,
    },
    /// Keep `ordinal` for a lasting owner, if it holds none.
    Owner {
        namespace: String,
        owner: String,
        ordinal: u64,
    },
}

/// The numbers allocated for a step, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Numbers(BTreeMap<NumberKind, u64>);

impl Numbers {
    pub fn insert(&mut self, kind: NumberKind, n: u64) {
        self.0.insert(kind, n);
    }
    pub fn get(&self, kind: NumberKind) -> Result<u64, String> {
        self.0
            .get(&kind)
            .copied()
            .ok_or_else(|| format!("no {kind:?} number was allocated"))
    }
}

impl FromIterator<(NumberKind, u64)> for Numbers {
    fn from_iter<I: IntoIterator<Item = (NumberKind, u64)>>(iter: I) -> Self {
        Numbers(iter.into_iter().collect())
    }
}

/// Every result of a case (or of one step), typed per step. Stored and shown as one flat
/// JSON object of the steps' fields (`birth_certificate_number`, `newborn_id_number`,
/// `medical_insurance`, …), keys in sorted order, as earlier versions stored it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepResults {
    pub birth: Option<birth_certificate::Certificates>,
    pub household: Option<household::Registration>,
    pub insurance: Option<insurance::Enrolment>,
    pub card: Option<card::CardResult>,
    pub issuance: Option<issuance::Issuance>,
}

impl StepResults {
    pub fn is_empty(&self) -> bool {
        *self == StepResults::default()
    }

    /// Add the results of a later step (what it issued replaces what was there).
    pub fn merge(&mut self, other: StepResults) {
        let StepResults {
            birth,
            household,
            insurance,
            card,
            issuance,
        } = other;
        self.birth = birth.or(self.birth.take());
        self.household = household.or(self.household.take());
        self.insurance = insurance.or(self.insurance.take());
        self.card = card.or(self.card.take());
        self.issuance = issuance.or(self.issuance.take());
    }

    /// The newborn's citizen ID number, once the police issued it.
    pub fn newborn_id_number(&self) -> Option<&str> {
        self.household
            .as_ref()
            .map(|h| h.newborn_id_number.as_str())
    }

    /// The same results with personal data masked.
    pub fn masked(&self) -> StepResults {
        StepResults {
            birth: self.birth.clone(),
            household: self.household.as_ref().map(household::Registration::masked),
            insurance: self.insurance.as_ref().map(insurance::Enrolment::masked),
            card: self.card.as_ref().map(card::CardResult::masked),
            issuance: self.issuance.as_ref().map(issuance::Issuance::masked),
        }
    }

    fn fields(&self) -> Result<BTreeMap<String, Value>, serde_json::Error> {
        let mut out = BTreeMap::new();
        let mut add = |v: Value| {
            if let Value::Object(m) = v {
                out.extend(m);
            }
        };
        if let Some(x) = &self.birth {
            add(serde_json::to_value(x)?);
        }
        if let Some(x) = &self.household {
            add(serde_json::to_value(x)?);
        }
        if let Some(x) = &self.insurance {
            add(serde_json::to_value(x)?);
        }
        if let Some(x) = &self.card {
            add(serde_json::to_value(x)?);
        }
        if let Some(x) = &self.issuance {
            add(serde_json::to_value(x)?);
        }
        Ok(out)
    }
}

impl Serialize for StepResults {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.fields()
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for StepResults {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let fields: BTreeMap<String, Value> = BTreeMap::deserialize(d)?;
        /// A step's part, read when its first field is present.
        fn part<T: serde::de::DeserializeOwned, E: serde::de::Error>(
            fields: &BTreeMap<String, Value>,
            key: &str,
        ) -> Result<Option<T>, E> {
            if !fields.contains_key(key) {
                return Ok(None);
            }
            let obj = Value::Object(fields.clone().into_iter().collect());
            serde_json::from_value(obj).map(Some).map_err(E::custom)
        }
        let results = StepResults {
            birth: part(&fields, "birth_certificate_number")?,
            household: part(&fields, "newborn_id_number")?,
            insurance: part(&fields, "medical_insurance")?,
            card: part(&fields, "social_security_card")?,
            issuance: part(&fields, "issuance")?,
        };
        let known = results.fields().map_err(D::Error::custom)?;
        if let Some(k) = fields.keys().find(|k| !known.contains_key(*k)) {
            return Err(D::Error::custom(format!("unknown result field {k}")));
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrected_field_sends_the_case_back_to_the_earliest_step_that_depends_on_it() {
        let cases = [
            ("newborn.name", Some(Step::BirthCertificate)),
            ("newborn.ethnicity", Some(Step::BirthCertificate)),
            ("mother.name", Some(Step::BirthCertificate)),
            ("father.name", Some(Step::BirthCertificate)),
            ("father.id_number", Some(Step::HouseholdRegistration)),
            ("father", Some(Step::HouseholdRegistration)),
            ("household.register_with", Some(Step::HouseholdRegistration)),
            ("insurance.enrol_newborn", Some(Step::MedicalInsurance)),
            ("social_security_card.apply", Some(Step::SocialSecurityCard)),
            ("delivery.address", Some(Step::UnifiedIssuance)),
            ("applicant.phone", None),
            ("fathers", None),
        ];
        for (field, step) in cases {
            assert_eq!(
                crate::catalogue::Plan::builtin().earliest_affected(&[field.to_string()]),
                step,
                "{field}"
            );
        }
        let both = ["delivery.method".to_string(), "father.name".to_string()];
        assert_eq!(
            crate::catalogue::Plan::builtin().earliest_affected(&both),
            Some(Step::BirthCertificate)
        );
    }
}
