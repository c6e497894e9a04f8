//! Medical security (医保): the newborn's residents' medical insurance enrolment
//! (医保参保登记) with its premium notice, and the mother's maternity benefit review
//! (生育保险待遇审核).

use super::Verdict;
use crate::case::Case;
use crate::idnum::mask_id;
use crate::settings::Settings;
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// What medical security issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub medical_insurance: MedicalInsurance,
    pub maternity_benefit: MaternityBenefit,
}

impl Enrolment {
    pub fn masked(&self) -> Enrolment {
        Enrolment {
            medical_insurance: MedicalInsurance {
                insurance_number: self
                    .medical_insurance
                    .insurance_number
                    .as_deref()
                    .map(mask_id),
                ..self.medical_insurance.clone()
            },
            maternity_benefit: self.maternity_benefit.clone(),
        }
    }
}

/// The newborn's enrolment: enrolled with the insurance number (the newborn's ID number),
/// the scheme and the premium to pay, or not enrolled with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedicalInsurance {
    pub enrolled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurance_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premium_notice: Option<PremiumNotice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
}

/// The premium the guardian pays for the newborn's first year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PremiumNotice {
    pub amount_cny: u32,
    /// Where to pay.
    pub how: String,
    pub pay_by: NaiveDate,
    pub year: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BenefitStatus {
    NotRequested,
    Approved,
    NotEligible,
}

/// The mother's maternity benefit: approved when she is insured as an employee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaternityBenefit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<String>,
    pub status: BenefitStatus,
}

/// The newborn's premium: by the household's city and the birth year.
pub fn premium_for(case: &Case, settings: &Settings) -> Option<u32> {
    let county = super::household::address_code(case)?;
    settings.premium(&county, case.form.newborn.birth_time.year())
}

/// No premium configured for the household's city goes to a medical security officer.
pub fn review(case: &Case, settings: &Settings) -> Verdict {
    if case.form.insurance.enrol_newborn && premium_for(case, settings).is_none() {
        Verdict::Review(vec![
            "参保地未配置缴费标准，需医保经办核定 (no premium configured for the city)".into(),
        ])
    } else {
        Verdict::Pass
    }
}

pub fn issue(case: &Case, settings: &Settings) -> Result<Enrolment, String> {
    let form = &case.form;
    let birth = form.newborn.birth_time.date_naive();
    let medical_insurance = if form.insurance.enrol_newborn {
        let id = case
            .results
            .newborn_id_number()
            .ok_or("no newborn ID number yet")?;
        let amount = premium_for(case, settings).ok_or("no premium configured")?;
        MedicalInsurance {
            enrolled: true,
            insurance_number: Some(id.to_string()),
            premium_notice: Some(PremiumNotice {
                amount_cny: amount,
                how: "浙里办 APP 或 浙江政务服务网 缴费".into(),
                pay_by: birth + Duration::days(settings.insurance_payment_days),
                year: birth.year(),
            }),
            reason: None,
            scheme: Some("城乡居民基本医疗保险".into()),
        }
    } else {
        MedicalInsurance {
            enrolled: false,
            insurance_number: None,
            premium_notice: None,
            reason: Some("not requested".into()),
            scheme: None,
        }
    };
    let maternity_benefit = if !form.insurance.maternity_benefit {
        MaternityBenefit {
            reason: None,
            settlement: None,
            status: BenefitStatus::NotRequested,
        }
    } else if case
        .shared
        .mother
        .as_ref()
        .is_some_and(|m| m.employee_insured)
    {
        MaternityBenefit {
            reason: None,
            settlement: Some("生育医疗费用实时结算，生育津贴按规定发放".into()),
            status: BenefitStatus::Approved,
        }
    } else {
        MaternityBenefit {
            reason: Some(
                "母亲未参加职工生育保险 (the mother is not insured as an employee)".into(),
            ),
            settlement: None,
            status: BenefitStatus::NotEligible,
        }
    };
    Ok(Enrolment {
        medical_insurance,
        maternity_benefit,
    })
}
