//! Acceptance (受理), by the unit that took the application: policy first (not accepted),
//! then everything else decidable from the form and the shared records, all in one notice
//! (一次告知). A department never returns a case for something acceptance could see: the
//! newborn's ethnicity, the birth record, the parents' records, the household, the
//! marriage requirement (only when registering with the father) and the proof of
//! guardianship are all decided here.

use crate::case::{AcceptanceOutcome, Case, Missing};
use crate::flow::MaterialKind;
use crate::form::ParentRole;
use crate::settings::Settings;
use crate::sharing::{InstitutionKind, SharedFacts};

const FORM: &str = "registration_form";
const FORM_NAME: &str = "出生一件事办理登记表";

/// Something the guardian corrects on the form (an officer's reason, or a policy reason
/// met after acceptance).
pub fn form_reason(reason: impl Into<String>) -> Missing {
    Missing::new(FORM, FORM_NAME, reason)
}

/// A problem with the form that the guardian corrects (named by its field).
fn form_problem(field: &str, reason: String) -> Missing {
    Missing {
        field: Some(field.to_string()),
        ..form_reason(reason)
    }
}

/// Accept, not accept (policy) or ask for everything missing at once.
pub fn assess(case: &Case, facts: &SharedFacts, settings: &Settings) -> AcceptanceOutcome {
    let reasons = out_of_scope(facts);
    if !reasons.is_empty() {
        return AcceptanceOutcome::NotAccepted { reasons };
    }
    let mut missing = materials_missing(case, facts, settings);
    missing.extend(form_problems(case, facts));
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

/// Why the application is outside the service (not accepted): a birth outside the
/// province's midwifery institutions, a household outside the province.
fn out_of_scope(facts: &SharedFacts) -> Vec<String> {
    let mut reasons = vec![];
    match &facts.institution {
        None => {
            reasons.push("新生儿出生机构不是本省助产机构，不属于出生“一件事”办理范围".to_string())
        }
        Some(i) if i.kind != InstitutionKind::Midwifery || !i.county_code.starts_with("33") => {
            reasons.push(format!(
                "{}不是本省助产机构，不属于出生“一件事”办理范围",
                i.name
            ))
        }
        _ => {}
    }
    if let Some(h) = &facts.household {
        if !h.address_code.starts_with("33") {
            reasons.push("拟落户方户籍不在浙江省，不符合本省落户政策".to_string());
        }
    }
    reasons
}

/// The materials neither data sharing nor an upload provides.
fn materials_missing(case: &Case, facts: &SharedFacts, settings: &Settings) -> Vec<Missing> {
    let form = &case.form;
    let mut missing = vec![];
    let need = |kind: MaterialKind, reason: String, missing: &mut Vec<Missing>| {
        if !case.has_upload(kind) {
            missing.push(Missing::new(kind.as_str(), kind.name_zh(), reason));
        }
    };
    if facts.mother.is_none() {
        need(
            MaterialKind::MotherIdCard,
            "未能通过数据共享获取母亲的居民身份证信息，请上传身份证扫描件".into(),
            &mut missing,
        );
    }
    if form.father.is_some() && facts.father.is_none() {
        need(
            MaterialKind::FatherIdCard,
            "未能通过数据共享获取父亲的居民身份证信息，请上传身份证扫描件".into(),
            &mut missing,
        );
    }
    missing.extend(marriage_missing(case, facts, settings));
    if facts.household.is_none() {
        let whose = match form.household.register_with {
            ParentRole::Father => "父亲",
            ParentRole::Mother => "母亲",
        };
        need(
            MaterialKind::HouseholdRegister,
            format!("未能通过数据共享获取拟落户方（{whose}）的居民户口簿，请上传户口簿扫描件"),
            &mut missing,
        );
    }
    if form.applicant.relation == crate::form::Relation::Guardian {
        need(
            MaterialKind::GuardianshipProof,
            "申请人不是新生儿父母，请提供监护关系证明".into(),
            &mut missing,
        );
    }
    missing
}

/// Registering with the father needs the marriage record (婚生) or, where the operator
/// allows it, a written commitment; registering with the mother never needs it.
fn marriage_missing(case: &Case, facts: &SharedFacts, settings: &Settings) -> Option<Missing> {
    if case.form.household.register_with != ParentRole::Father || facts.marriage.is_some() {
        return None;
    }
    // The catalogue version's rule and the operator's setting must both allow it.
    let commitment_allowed = settings
        .substitutable
        .contains(&MaterialKind::MarriageCertificate)
        && case
            .plan()
            .allows_commitment(MaterialKind::MarriageCertificate.as_str());
    let covered = case.has_upload(MaterialKind::MarriageCertificate)
        || (commitment_allowed && case.has_upload(MaterialKind::Commitment));
    if covered {
        return None;
    }
    let kind = MaterialKind::MarriageCertificate;
    let mut m = Missing::new(
        kind.as_str(),
        kind.name_zh(),
        if commitment_allowed {
            "随父落户须提供父母婚姻证明：未能通过数据共享获取婚姻登记信息，请上传结婚证，\
             或签署并上传书面告知承诺书"
        } else {
            "随父落户须提供父母婚姻证明：未能通过数据共享获取婚姻登记信息，请上传结婚证"
        },
    );
    if commitment_allowed {
        m.alternatives = vec![MaterialKind::Commitment.as_str().to_string()];
    }
    Some(m)
}

/// The ethnicities data sharing holds for the parents the form names, when it holds one
/// for each of them; None when any named parent's is unknown.
pub fn ethnicities_on_record<'f>(case: &Case, facts: &'f SharedFacts) -> Option<Vec<&'f str>> {
    let mother = facts.mother.as_ref()?.ethnicity.as_deref()?;
    let mut out = vec![mother];
    if case.form.father.is_some() {
        out.push(facts.father.as_ref()?.ethnicity.as_deref()?);
    }
    Some(out)
}

/// What the guardian corrects on the form: names that differ from the ID card, an
/// ethnicity neither parent has, entries that differ from the delivery record.
fn form_problems(case: &Case, facts: &SharedFacts) -> Vec<Missing> {
    let form = &case.form;
    let mut problems = vec![];
    if facts
        .mother
        .as_ref()
        .is_some_and(|p| p.name != form.mother.name)
    {
        problems.push(form_problem(
            "mother.name",
            "母亲姓名与居民身份证信息不一致，请核对".into(),
        ));
    }
    if let (Some(father), Some(p)) = (&form.father, &facts.father) {
        if p.name != father.name {
            problems.push(form_problem(
                "father.name",
                "父亲姓名与居民身份证信息不一致，请核对".into(),
            ));
        }
    }
    // The newborn's ethnicity follows the father's or the mother's. Only when data sharing
    // gives every named parent's can acceptance tell the family it is neither; a parent
    // data sharing lacks may be the one it follows, and the police check that
    // (`household::review`), never forcing the other parent's.
    let parents = ethnicities_on_record(case, facts);
    // The notice never tells a parent's recorded ethnicity (another person's record).
    if parents.is_some_and(|p| !p.contains(&form.newborn.ethnicity.as_str())) {
        problems.push(form_problem(
            "newborn.ethnicity",
            "新生儿民族应随父或随母，请按父母居民身份证上的民族更正".into(),
        ));
    }
    // The hospital's delivery record is what the certificate certifies. The family is
    // told which of their own entries disagree with it (never its values), twice at
    // most: then the hospital's officer looks (`birth_certificate::review`), so the
    // record cannot be guessed by resubmitting.
    let told_enough = case.record_mismatch_notices() >= MAX_RECORD_MISMATCH_NOTICES;
    if let Some(b) = facts.birth.as_ref().filter(|_| !told_enough) {
        let nb = &form.newborn;
        let mut differs = |field: &str, what: &str, ok: bool| {
            if !ok {
                problems.push(form_problem(
                    field,
                    format!("新生儿{what}与助产机构分娩记录不一致，请核对"),
                ));
            }
        };
        differs("newborn.sex", "性别", b.sex == nb.sex);
        differs("newborn.weight_g", "出生体重", b.weight_g == nb.weight_g);
        differs("newborn.length_cm", "出生身长", b.length_cm == nb.length_cm);
        differs(
            "newborn.gestational_weeks",
            "出生孕周",
            b.gestational_weeks == nb.gestational_weeks,
        );
        differs(
            "newborn.multiple_birth",
            "同胎数",
            b.multiple_birth == nb.multiple_birth,
        );
    }
    problems
}

/// How many one notices may name entries that disagree with the delivery record.
pub const MAX_RECORD_MISMATCH_NOTICES: u32 = 2;

/// The form's fields a delivery record is compared on.
pub const RECORD_FIELDS: [&str; 5] = [
    "newborn.sex",
    "newborn.weight_g",
    "newborn.length_cm",
    "newborn.gestational_weeks",
    "newborn.multiple_birth",
];

/// Acceptance (受理) as a department step: its work is [`assess`], before the case is
/// accepted; once accepted it issues nothing.
pub struct Acceptance;

impl super::DeptStep for Acceptance {
    fn checklist(&self) -> &'static [super::checks::CheckItem] {
        use super::checks::CheckItem as C;
        &[
            C {
                item_id: "applicant",
                text: "申请人身份及与新生儿的关系",
            },
            C {
                item_id: "materials",
                text: "申请材料齐全，共享数据与上传材料一致",
            },
            C {
                item_id: "form",
                text: "申请表内容完整",
            },
        ]
    }
    fn facts(&self) -> &'static [&'static str] {
        &["applicant", "newborn", "mother", "father", "household"]
    }
    fn records(&self, case: &Case) -> super::checks::TaskRecords {
        let mut out = super::checks::TaskRecords::default();
        super::checks::parents(case, &mut out);
        out.household = case.shared().household.clone();
        out.marriage = case.shared().marriage.clone();
        out
    }
    fn issue(
        &self,
        _case: &Case,
        _numbers: &super::Numbers,
        _settings: &Settings,
        _now: crate::case::Time,
    ) -> Result<super::StepResults, String> {
        Ok(super::StepResults::default())
    }
}
