//! Acceptance (受理), by the service centre or the window that took the application:
//! policy first (not accepted), then completeness (one notice with everything missing).

use crate::case::{AcceptanceOutcome, Case, Missing};
use crate::flow::MaterialKind;
use crate::form::ParentRole;
use crate::sharing::SharedFacts;

/// Acceptance: policy first (not accepted), then completeness (one notice with everything
/// missing). Data sharing is tried first; a material is asked for only when sharing has no
/// record and the guardian has not uploaded it.
// What the guardian is told (one notice lists every one that applies).
const NOT_MIDWIFERY: &str = "不是本省助产机构 (not a Zhejiang midwifery institution)";
const NO_INSTITUTION: &str =
    "不是本省助产机构 (the birth institution is not a Zhejiang midwifery institution)";
const NOT_ZHEJIANG_HOUSEHOLD: &str = "拟落户方户籍不在浙江省，不符合本省落户政策 \
     (the household to register with is not a Zhejiang household)";
const NO_MOTHER_RECORD: &str =
    "数据共享未获取到母亲居民身份证信息，请上传 (no resident ID record for the mother)";
const NO_FATHER_RECORD: &str =
    "数据共享未获取到父亲居民身份证信息，请上传 (no resident ID record for the father)";
const NO_MARRIAGE_RECORD: &str =
    "数据共享未获取到父母婚姻登记信息，请上传结婚证 (no marriage record for the parents)";
const NAME_MISMATCH: &str = "与居民身份证信息不一致 (does not match the ID record)";

pub fn assess(case: &Case, facts: &SharedFacts) -> AcceptanceOutcome {
    let form = &case.form;
    let mut reasons = vec![];
    match &facts.institution {
        None => reasons.push(format!(
            "新生儿出生机构 {} {NO_INSTITUTION}",
            form.newborn.hospital_code
        )),
        Some(i) if i.kind != "midwifery" || !i.county_code.starts_with("33") => {
            reasons.push(format!("{} {NOT_MIDWIFERY}", i.name))
        }
        _ => {}
    }
    if let Some(h) = &facts.household {
        if !h.address_code.starts_with("33") {
            reasons.push(NOT_ZHEJIANG_HOUSEHOLD.into());
        }
    }
    if !reasons.is_empty() {
        return AcceptanceOutcome::NotAccepted { reasons };
    }

    let mut missing = vec![];
    let need = |kind: MaterialKind, reason: String, missing: &mut Vec<Missing>| {
        if !case.has_upload(kind) {
            missing.push(Missing {
                material: kind.as_str().into(),
                reason,
            });
        }
    };
    let mut form_problems = vec![];
    match &facts.mother {
        None => need(
            MaterialKind::MotherIdCard,
            NO_MOTHER_RECORD.into(),
            &mut missing,
        ),
        Some(p) if p.name != form.mother.name => {
            form_problems.push(format!("mother.name {NAME_MISMATCH}"))
        }
        _ => {}
    }
    if let Some(father) = &form.father {
        match &facts.father {
            None => need(
                MaterialKind::FatherIdCard,
                NO_FATHER_RECORD.into(),
                &mut missing,
            ),
            Some(p) if p.name != father.name => {
                form_problems.push(format!("father.name {NAME_MISMATCH}"))
            }
            _ => {}
        }
        if facts.marriage.is_none() {
            need(
                MaterialKind::MarriageCertificate,
                NO_MARRIAGE_RECORD.into(),
                &mut missing,
            );
        }
    }
    if facts.household.is_none() {
        let whose = match form.household.register_with {
            ParentRole::Father => "父亲 (father)",
            ParentRole::Mother => "母亲 (mother)",
        };
        need(
            MaterialKind::HouseholdRegister,
            format!(
                "数据共享未获取到拟落户方{whose}的居民户口簿，请上传 \
                 (no household register record)"
            ),
            &mut missing,
        );
    }
    for p in form_problems {
        missing.push(Missing {
            material: "registration_form".into(),
            reason: p,
        });
    }
    if missing.is_empty() {
        let mut probe = case.clone();
        probe.shared = facts.clone();
        AcceptanceOutcome::Accept {
            received: probe.received_materials(),
        }
    } else {
        AcceptanceOutcome::Incomplete { missing }
    }
}
