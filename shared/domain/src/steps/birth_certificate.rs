//! The hospital (助产机构): the birth medical certificate (出生医学证明) and the
//! vaccination certificate (预防接种证). The certificate certifies the hospital's own
//! delivery record (A.4.2.1), never the guardian's word alone.

use super::{AllocationRequest, NumberKind, Numbers, Verdict};
use crate::case::Case;
use crate::case::SupersededKind;
use serde::{Deserialize, Serialize};

/// What the hospital issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificates {
    /// `Q` + 9 digits.
    pub birth_certificate_number: String,
    /// `V` + the institution's county code + 9 digits.
    pub vaccination_certificate_number: String,
}

/// No delivery record matching the form, or a gestational age or weight out of the usual
/// range, goes to the hospital's officer. (Everything the guardian could correct was
/// decided at acceptance.)
pub fn review(case: &Case) -> Verdict {
    let form = &case.form;
    let mut review = vec![];
    match &case.shared.birth {
        None => {
            review.push("未找到本机构与登记表一致的分娩记录，需助产机构核实出生信息".to_string())
        }
        Some(b) if !b.agrees_with(form) => review.push(
            "申请人两次更正后填报的出生信息仍与本机构分娩记录不一致，需助产机构核实".to_string(),
        ),
        Some(_) => {}
    }
    if form.newborn.gestational_weeks < 28 || form.newborn.weight_g < 1000 {
        review.push("出生孕周或体重异常，需助产机构核对".to_string());
    }
    if review.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Review(review)
    }
}

/// The certificate numbers belong to the newborn (not the case): a second case for the
/// same newborn gets the same numbers back; a reissue after a correction gets new ones.
pub fn allocations(case: &Case) -> Vec<AllocationRequest> {
    let generation = case.number_generation(SupersededKind::BirthCertificateNumber);
    let owner = format!("newborn:{}#{generation}", case.newborn_key());
    vec![
        AllocationRequest::newborn(
            NumberKind::BirthCertificate,
            "birth_certificate",
            999_999_999,
            owner.clone(),
        ),
        AllocationRequest::newborn(
            NumberKind::VaccinationCertificate,
            "vaccination_certificate",
            999_999_999,
            owner,
        ),
    ]
}

pub fn issue(case: &Case, numbers: &Numbers) -> Result<Certificates, String> {
    let county = case
        .shared
        .institution
        .as_ref()
        .map(|i| i.county_code.as_str())
        .unwrap_or("330000");
    Ok(Certificates {
        birth_certificate_number: format!("Q{:09}", numbers.get(NumberKind::BirthCertificate)?),
        vaccination_certificate_number: format!(
            "V{county}{:09}",
            numbers.get(NumberKind::VaccinationCertificate)?
        ),
    })
}

/// The hospital's step.
pub struct Hospital;

impl super::DeptStep for Hospital {
    fn document_facts(&self, case: &Case, kind: CertKind) -> Vec<super::paper::Fact> {
        use super::paper;
        use crate::form::ParentRole;
        let n = &case.form().newborn;
        let mut out = vec![("新生儿姓名", n.name.clone()), ("性别", paper::sex(case))];
        match kind {
            CertKind::BirthMedicalCertificate => {
                out.extend([
                    ("出生时间", paper::time(n.birth_time)),
                    ("出生孕周", format!("{}周", n.gestational_weeks)),
                    ("出生体重", format!("{}克", n.weight_g)),
                    ("出生身长", format!("{}厘米", n.length_cm)),
                ]);
                if n.multiple_birth > 1 {
                    out.push((
                        "胎次",
                        format!("{}胎之第{}", n.multiple_birth, n.birth_order),
                    ));
                }
                out.extend(paper::place_of_birth(case));
                out.extend(paper::parent(case, ParentRole::Mother));
                out.extend(paper::parent(case, ParentRole::Father));
            }
            _ => {
                out.push(("出生日期", paper::date(n.birth_time)));
                out.push(("母亲姓名", case.form().mother.name.clone()));
                if let Some(f) = &case.form().father {
                    out.push(("父亲姓名", f.name.clone()));
                }
                if let Some(h) = &case.shared().household {
                    out.push(("住址", h.address.clone()));
                }
                if let Some(i) = &case.shared().institution {
                    out.push(("接种单位", i.name.clone()));
                }
                if let Some(t) = case.step(crate::flow::Step::BirthCertificate).finished_at {
                    out.push(("建证日期", paper::date(t)));
                }
            }
        }
        out
    }
    fn checklist(&self) -> &'static [super::checks::CheckItem] {
        use super::checks::CheckItem as C;
        &[
            C {
                item_id: "delivery_record",
                text: "分娩记录与申请一致：母亲、出生时间、性别、体重、身长、孕周、胎次",
            },
            C {
                item_id: "mother_identity",
                text: "母亲身份属实",
            },
            C {
                item_id: "father",
                text: "父亲信息符合亲子关系规定（婚姻记录、承诺书或亲子鉴定）",
            },
            C {
                item_id: "newborn_name",
                text: "新生儿姓名用字可以登记",
            },
        ]
    }
    fn facts(&self) -> &'static [&'static str] {
        &["newborn", "mother", "father"]
    }
    fn records(&self, case: &Case) -> super::checks::TaskRecords {
        let mut out = super::checks::TaskRecords::default();
        super::checks::delivery_record(case, &mut out);
        super::checks::parents(case, &mut out);
        out.marriage = case.shared().marriage.clone();
        out
    }
    /// The mother's identity, the father as the parentage rules allow.
    fn materials_checked(&self) -> Option<&'static [crate::flow::MaterialKind]> {
        use crate::flow::MaterialKind as K;
        Some(&[
            K::MotherIdCard,
            K::FatherIdCard,
            K::PaternityProof,
            K::Other,
        ])
    }
    fn handover_items(&self, _: &Case) -> Vec<&'static str> {
        vec!["出生医学证明", "预防接种证"]
    }
    fn review(&self, case: &Case, _: &crate::settings::Settings, _: chrono::NaiveDate) -> Verdict {
        review(case)
    }
    fn allocations(&self, case: &Case, _: &crate::settings::Settings) -> Vec<AllocationRequest> {
        allocations(case)
    }
    fn issue(
        &self,
        case: &Case,
        numbers: &Numbers,
        _: &crate::settings::Settings,
        _: crate::case::Time,
    ) -> Result<super::StepResults, String> {
        Ok(super::StepResults {
            birth: Some(issue(case, numbers)?),
            ..Default::default()
        })
    }
    /// Both certificate numbers, when the birth details they certify were corrected.
    fn superseded_on_redo(&self, case: &Case) -> Vec<(SupersededKind, String, &'static str)> {
        let Some(b) = &case.results().birth else {
            return vec![];
        };
        let reason = "出生信息更正，重新签发";
        vec![
            (
                SupersededKind::BirthCertificateNumber,
                b.birth_certificate_number.clone(),
                reason,
            ),
            (
                SupersededKind::VaccinationCertificateNumber,
                b.vaccination_certificate_number.clone(),
                reason,
            ),
        ]
    }
    /// Both certificates, issued by the birth institution.
    fn certificates(&self, case: &Case) -> Vec<(CertKind, String, String)> {
        let Some(b) = &case.results().birth else {
            return vec![];
        };
        let institution = case
            .shared()
            .institution
            .as_ref()
            .map(|i| i.name.clone())
            .unwrap_or_else(|| crate::flow::Dept::Hospital.name_zh().to_string());
        vec![
            (
                CertKind::BirthMedicalCertificate,
                b.birth_certificate_number.clone(),
                institution.clone(),
            ),
            (
                CertKind::VaccinationCertificate,
                b.vaccination_certificate_number.clone(),
                institution,
            ),
        ]
    }
    fn numbers_replaced(
        &self,
        old: &super::StepResults,
        new: &super::StepResults,
    ) -> Vec<(SupersededKind, String, String)> {
        let (Some(o), Some(n)) = (&old.birth, &new.birth) else {
            return vec![];
        };
        [
            super::replaced(
                SupersededKind::BirthCertificateNumber,
                Some(&o.birth_certificate_number),
                Some(&n.birth_certificate_number),
            ),
            super::replaced(
                SupersededKind::VaccinationCertificateNumber,
                Some(&o.vaccination_certificate_number),
                Some(&n.vaccination_certificate_number),
            ),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

use crate::certificate::CertKind;
