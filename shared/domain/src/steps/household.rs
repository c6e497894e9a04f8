//! The police (公安): household registration (户口登记) and the newborn's citizen ID
//! number (GB 11643).

use super::{AllocationRequest, NumberKind, Numbers, Verdict};
use crate::case::Case;
use crate::flow::Step;
use crate::form::ParentRole;
use crate::idnum::{mask_id, IdNumber};
use crate::settings::Settings;
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// What the police issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The household the newborn is registered in.
    pub household_number: String,
    /// The newborn's citizen ID number: county code + birth date + sequence (odd for a
    /// boy, even for a girl) + check character.
    pub newborn_id_number: String,
}

impl Registration {
    pub fn masked(&self) -> Registration {
        Registration {
            household_number: mask_id(&self.household_number),
            newborn_id_number: mask_id(&self.newborn_id_number),
        }
    }
}

/// What a police officer may supply with an approval: the household's address code when
/// the household register was uploaded rather than shared, and its household number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_number: Option<String>,
}

impl ApprovalData {
    pub fn is_empty(&self) -> bool {
        *self == ApprovalData::default()
    }
}

/// Late registration, an uploaded household register or an uploaded marriage certificate
/// (registering with the father) go to a police officer.
pub fn review(case: &Case, settings: &Settings, today: NaiveDate) -> Verdict {
    let form = &case.form;
    let facts = &case.shared;
    let mut review = vec![];
    let birth = form.newborn.birth_time.date_naive();
    let limit = birth
        .checked_add_months(Months::new(settings.late_registration_months))
        .unwrap_or(birth);
    if today > limit {
        review.push(
            "出生超过一个月申报户口，需民警人工审核 (late registration needs an officer's review)"
                .to_string(),
        );
    }
    if facts.household.is_none() {
        review.push(
            "户口簿为上传材料，需民警核验 (the household register was uploaded, not shared)"
                .to_string(),
        );
    }
    if form.household.register_with == ParentRole::Father && facts.marriage.is_none() {
        review.push(
            "随父落户的婚姻证明为上传材料，需民警核验 (the marriage certificate was uploaded)"
                .to_string(),
        );
    }
    if review.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Review(review)
    }
}

fn approval(case: &Case) -> &ApprovalData {
    &case.step(Step::HouseholdRegistration).approval_data
}

/// The household address code the newborn's number uses: what the approving officer
/// supplied, or the shared household record, or the birth institution's county.
pub fn address_code(case: &Case) -> Option<String> {
    approval(case)
        .address_code
        .clone()
        .or_else(|| {
            case.shared
                .household
                .as_ref()
                .map(|h| h.address_code.clone())
        })
        .or_else(|| {
            case.shared
                .institution
                .as_ref()
                .map(|i| i.county_code.clone())
        })
}

/// The household number: what the approving officer supplied, or the shared record's.
fn known_household_number(case: &Case) -> Option<String> {
    approval(case).household_number.clone().or_else(|| {
        case.shared
            .household
            .as_ref()
            .map(|h| h.household_number.clone())
    })
}

pub fn allocations(case: &Case) -> Vec<AllocationRequest> {
    let county = address_code(case).unwrap_or_default();
    let newborn = &case.form.newborn;
    let mut v = vec![AllocationRequest::new(
        NumberKind::CitizenId,
        format!(
            "citizen_id:{county}:{}:{}",
            newborn.birth_time.date_naive().format("%Y%m%d"),
            newborn.sex.as_str()
        ),
        IdNumber::max_ordinal(newborn.sex) as u64,
    )];
    if known_household_number(case).is_none() {
        v.push(AllocationRequest::new(
            NumberKind::Household,
            format!("household:{county}"),
            999_999_999,
        ));
    }
    v
}

pub fn issue(case: &Case, numbers: &Numbers) -> Result<Registration, String> {
    let county = address_code(case).ok_or("no household address code")?;
    let newborn = &case.form.newborn;
    let birth = newborn.birth_time.date_naive();
    let id = IdNumber::assemble(
        &county,
        birth,
        newborn.sex,
        numbers.get(NumberKind::CitizenId)? as u32,
    )
    .ok_or_else(|| format!("no citizen ID sequence left for {county} on {birth}"))?;
    let household_number = match known_household_number(case) {
        Some(h) => h,
        None => format!("{county}{:09}", numbers.get(NumberKind::Household)?),
    };
    Ok(Registration {
        household_number,
        newborn_id_number: id.as_str().to_string(),
    })
}
