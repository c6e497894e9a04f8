//! The hospital (助产机构): the birth medical certificate (出生医学证明) and the
//! vaccination certificate (预防接种证).

use super::{AllocationRequest, NumberKind, Numbers, Verdict};
use crate::case::Case;
use serde::{Deserialize, Serialize};

/// What the hospital issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificates {
    /// `Q` + 9 digits.
    pub birth_certificate_number: String,
    /// `V` + the institution's county code + 9 digits.
    pub vaccination_certificate_number: String,
}

/// Gestational age or weight out of the usual range goes to the hospital's officer; an
/// ethnicity that is neither parent's goes back to the guardian.
pub fn review(case: &Case) -> Verdict {
    let form = &case.form;
    let facts = &case.shared;
    let mut review = vec![];
    if form.newborn.gestational_weeks < 28 || form.newborn.weight_g < 1000 {
        review.push(
            "出生孕周或体重异常，需助产机构核对 \
             (gestational age or weight needs the hospital's check)"
                .to_string(),
        );
    }
    let parents: Vec<&str> = [facts.mother.as_ref(), facts.father.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|p| p.ethnicity.as_deref())
        .collect();
    if !parents.is_empty() && !parents.contains(&form.newborn.ethnicity.as_str()) {
        return Verdict::Return(vec![
            "新生儿民族应随父或随母，请更正 newborn.ethnicity (the newborn's ethnicity must be the father's or the mother's)".into(),
        ]);
    }
    if review.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Review(review)
    }
}

pub fn allocations(_case: &Case) -> Vec<AllocationRequest> {
    vec![
        AllocationRequest::new(
            NumberKind::BirthCertificate,
            "birth_certificate",
            999_999_999,
        ),
        AllocationRequest::new(
            NumberKind::VaccinationCertificate,
            "vaccination_certificate",
            999_999_999,
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
