//! Electronic certificates (出生医学证明电子证照, A.5.2.1.2; downloadable results, 6.1.4): one
//! per result document, issued in the same write as the step that issues the result,
//! signed over its canonical content so that anyone holding the published keys can check
//! it offline. Replaced results (corrections) leave their certificates `superseded`,
//! pointing to the new one.

use crate::case::{Case, Time};
use crate::flow::Step;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertKind {
    BirthMedicalCertificate,
    VaccinationCertificate,
    HouseholdRegistration,
    MedicalInsuranceEnrolment,
    SocialSecurityCard,
    MaternityBenefitDecision,
}

impl CertKind {
    /// The short code in a `cert_id`.
    pub fn code(self) -> &'static str {
        match self {
            CertKind::BirthMedicalCertificate => "BMC",
            CertKind::VaccinationCertificate => "VAC",
            CertKind::HouseholdRegistration => "HHR",
            CertKind::MedicalInsuranceEnrolment => "MIE",
            CertKind::SocialSecurityCard => "SSC",
            CertKind::MaternityBenefitDecision => "MBD",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            CertKind::BirthMedicalCertificate => "出生医学证明",
            CertKind::VaccinationCertificate => "预防接种证",
            CertKind::HouseholdRegistration => "户口登记证明",
            CertKind::MedicalInsuranceEnrolment => "城乡居民医疗保险参保登记证明",
            CertKind::SocialSecurityCard => "社会保障卡",
            CertKind::MaternityBenefitDecision => "生育津贴核定决定",
        }
    }
}

/// What a certificate certifies: its canonical content, signed as it serialises (fields
/// in this order, compact JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub cert_id: String,
    pub kind: CertKind,
    pub number: String,
    pub issued_at: Time,
    pub issuer: String,
    /// The newborn's name, masked (`王*溪`).
    pub holder: String,
}

impl Claims {
    pub fn canonical(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("claims serialise")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertStatus {
    Valid,
    Superseded,
    Revoked,
}

/// An issued certificate as the case keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub claims: Claims,
    /// The signature: a JWS compact token (ES256) over the canonical claims.
    pub token: String,
    pub status: CertStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_at: Option<Time>,
}

/// A name masked for strangers: first and last character kept (`王*溪`, `李*`).
pub fn mask_holder(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => format!("{}*", chars[0]),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// The case id a certificate id names (`{case_id}-{code}{generation}`).
pub fn case_of(cert_id: &str) -> Option<&str> {
    let (case, rest) = cert_id.rsplit_once('-')?;
    (rest.len() > 3 && rest[3..].bytes().all(|b| b.is_ascii_digit()) && !case.is_empty())
        .then_some(case)
}

/// The certificates a step just done issues (their claims, to be signed), for results
/// that have none yet: a retried step issues nothing twice, and a result replaced by a
/// correction gets a new generation.
pub fn due(step: Step, case: &Case) -> Vec<Claims> {
    let state = case.step(step);
    let Some(issued_at) = state.finished_at else {
        return vec![];
    };
    let r = case.results();
    let holder = mask_holder(&case.form().newborn.name);
    let institution = case
        .shared()
        .institution
        .as_ref()
        .map(|i| i.name.clone())
        .unwrap_or_else(|| state.dept.name_zh().to_string());
    let county = |code: &str| {
        crate::idnum::Divisions::current()
            .name(code.get(..6).unwrap_or(""))
            .unwrap_or("")
            .to_string()
    };
    let mut out: Vec<(CertKind, String, String)> = vec![];
    match step {
        Step::BirthCertificate => {
            if let Some(b) = &r.birth {
                out.push((
                    CertKind::BirthMedicalCertificate,
                    b.birth_certificate_number.clone(),
                    institution.clone(),
                ));
                out.push((
                    CertKind::VaccinationCertificate,
                    b.vaccination_certificate_number.clone(),
                    institution,
                ));
            }
        }
        Step::HouseholdRegistration => {
            if let Some(h) = &r.household {
                out.push((
                    CertKind::HouseholdRegistration,
                    h.newborn_id_number.clone(),
                    format!("{}公安机关户籍管理部门", county(&h.newborn_id_number)),
                ));
            }
        }
        Step::MedicalInsurance => {
            if let Some(e) = &r.insurance {
                if let Some(n) = &e.medical_insurance.insurance_number {
                    out.push((
                        CertKind::MedicalInsuranceEnrolment,
                        n.clone(),
                        format!("{}医疗保障部门", county(n)),
                    ));
                }
                if e.maternity_benefit.status == crate::steps::insurance::BenefitStatus::Approved {
                    out.push((
                        CertKind::MaternityBenefitDecision,
                        format!("SY{}", case.case_id().trim_start_matches("BC")),
                        "医疗保障部门（生育保险）".to_string(),
                    ));
                }
            }
        }
        Step::SocialSecurityCard => {
            if let Some(n) = r
                .card
                .as_ref()
                .and_then(|c| c.social_security_card.number.clone())
            {
                out.push((
                    CertKind::SocialSecurityCard,
                    n.clone(),
                    format!("{}人力资源和社会保障部门", county(&n)),
                ));
            }
        }
        Step::Acceptance | Step::UnifiedIssuance => {}
    }
    out.into_iter()
        .filter(|(kind, number, _)| {
            !case
                .certificates()
                .iter()
                .any(|c| c.claims.kind == *kind && c.claims.number == *number)
        })
        .map(|(kind, number, issuer)| {
            let generation = 1 + case
                .certificates()
                .iter()
                .filter(|c| c.claims.kind == kind)
                .count();
            Claims {
                cert_id: format!("{}-{}{generation}", case.case_id(), kind.code()),
                kind,
                number,
                issued_at,
                issuer,
                holder: holder.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_are_masked_and_ids_name_their_case() {
        assert_eq!(mask_holder("王小溪"), "王*溪");
        assert_eq!(mask_holder("李梅"), "李*");
        assert_eq!(mask_holder("欧阳小明"), "欧**明");
        assert_eq!(
            case_of("BC2026120236C532425915-BMC1"),
            Some("BC2026120236C532425915")
        );
        assert_eq!(case_of("BC1-X"), None);
        assert_eq!(case_of("nothing"), None);
    }
}
