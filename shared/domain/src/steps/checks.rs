//! What an officer sees beside a task (`GET /v1/tasks/{task_id}`): the step's checklist,
//! and the records the step matched the form against with what did not match. Each
//! department's file says what its officers check; this file holds the shapes and the
//! comparisons several departments share.

use super::StepResults;
use crate::case::Case;
use crate::sharing::{BirthRecord, HouseholdRecord, Institution, MarriageRecord, Person};
use crate::steps::issuance::DeliveryRecord;
use serde::Serialize;

/// One thing the officer confirms; a decision names those confirmed by `item_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckItem {
    pub item_id: &'static str,
    pub text: &'static str,
}

/// The records a step's officer checks the form against (data sharing, the hospital's
/// delivery record, what earlier steps issued, the hand-overs), and what did not match.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TaskRecords {
    /// The hospital's delivery record matching the form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth: Option<BirthRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub institution: Option<Institution>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mother: Option<Person>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub father: Option<Person>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub household: Option<HouseholdRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marriage: Option<MarriageRecord>,
    /// What the earlier steps issued that this one builds on.
    #[serde(skip_serializing_if = "StepResults::is_empty")]
    pub issued: StepResults,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deliveries: Vec<DeliveryRecord>,
    /// What the form says that a record does not (or that no record holds).
    pub mismatches: Vec<Mismatch>,
}

/// A form field a record does not bear out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// The form field, as the API names it.
    pub field: &'static str,
    pub form: String,
    /// What the record holds (None: no record holds it).
    pub record: Option<String>,
    /// The same in Chinese, for the officer.
    pub text: String,
}

impl Mismatch {
    fn new(field: &'static str, label: &str, form: String, record: Option<String>) -> Mismatch {
        let text = match &record {
            Some(r) => format!("{label}：申请填写“{form}”，记录为“{r}”"),
            None => format!("{label}：申请填写“{form}”，共享数据中无记录"),
        };
        Mismatch {
            field,
            form,
            record,
            text,
        }
    }
}

/// The parents as data sharing holds them, and each parent the form names that it does
/// not hold (or holds under another name).
pub fn parents(case: &Case, out: &mut TaskRecords) {
    let shared = case.shared();
    out.mother = shared.mother.clone();
    out.father = shared.father.clone();
    let form = case.form();
    let mother = (
        "mother.name",
        "母亲姓名",
        &form.mother.name,
        shared.mother.as_ref(),
    );
    let father = form
        .father
        .as_ref()
        .map(|f| ("father.name", "父亲姓名", &f.name, shared.father.as_ref()));
    for (field, label, name, held) in std::iter::once(mother).chain(father) {
        match held {
            Some(p) if &p.name == name => {}
            Some(p) => out.mismatches.push(Mismatch::new(
                field,
                label,
                name.clone(),
                Some(p.name.clone()),
            )),
            None => out
                .mismatches
                .push(Mismatch::new(field, label, name.clone(), None)),
        }
    }
}

/// The hospital's delivery record against the form: mother, birth time, sex, weight,
/// length, gestational weeks, birth order.
pub fn delivery_record(case: &Case, out: &mut TaskRecords) {
    let form = case.form();
    let n = &form.newborn;
    out.institution = case.shared().institution.clone();
    let Some(b) = &case.shared().birth else {
        out.mismatches.push(Mismatch::new(
            "newborn.hospital_code",
            "分娩记录",
            n.hospital_code.clone(),
            None,
        ));
        return;
    };
    out.birth = Some(b.clone());
    let pairs: [(&'static str, &str, String, String); 7] = [
        (
            "mother.id_number",
            "母亲身份证号码",
            form.mother.id_number.as_str().to_string(),
            b.mother_id_number.clone(),
        ),
        (
            "newborn.birth_time",
            "出生时间",
            n.birth_time.format("%Y-%m-%d %H:%M").to_string(),
            b.birth_time.format("%Y-%m-%d %H:%M").to_string(),
        ),
        (
            "newborn.sex",
            "性别",
            n.sex.name_zh().to_string(),
            b.sex.name_zh().to_string(),
        ),
        (
            "newborn.weight_g",
            "体重（克）",
            n.weight_g.to_string(),
            b.weight_g.to_string(),
        ),
        (
            "newborn.length_cm",
            "身长（厘米）",
            n.length_cm.to_string(),
            b.length_cm.to_string(),
        ),
        (
            "newborn.gestational_weeks",
            "出生孕周",
            n.gestational_weeks.to_string(),
            b.gestational_weeks.to_string(),
        ),
        (
            "newborn.birth_order",
            "胎次",
            n.birth_order.to_string(),
            b.birth_order.to_string(),
        ),
    ];
    for (field, label, form, record) in pairs {
        if form != record {
            out.mismatches
                .push(Mismatch::new(field, label, form, Some(record)));
        }
    }
}
