//! Operator settings: everything the standard leaves to configuration.

use crate::calendar::UnknownYearPolicy;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Premium {
    /// City prefix (4 digits of the division code), e.g. "3301" for Hangzhou.
    pub city: String,
    pub year: i32,
    pub amount_cny: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// What to do for a year whose holiday notice is not in the calendar.
    pub unknown_year_policy: UnknownYearPolicy,
    /// Household registration after this many months from birth needs a police officer's review.
    pub late_registration_months: u32,
    /// The guardian pays the newborn's premium within this many days of birth.
    pub insurance_payment_days: i64,
    /// Newborn premium per city and year (residents' medical insurance).
    pub premiums: Vec<Premium>,
    /// Premium used when no row matches; None makes a missing row a manual review.
    pub default_premium_cny: Option<u32>,
    /// Bad rating: return visit within N working days.
    pub bad_rating_return_visit_days: u32,
    /// Bad rating: rectification with feedback within N working days.
    pub bad_rating_rectify_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        let p = |city: &str, amount| Premium {
            city: city.into(),
            year: 2026,
            amount_cny: amount,
        };
        Settings {
            unknown_year_policy: UnknownYearPolicy::AssumeWeekdays,
            late_registration_months: 1,
            insurance_payment_days: 90,
            premiums: vec![
                p("3301", 440),
                p("3302", 430),
                p("3303", 400),
                p("3304", 420),
                p("3305", 420),
                p("3306", 420),
                p("3307", 410),
                p("3308", 390),
                p("3309", 430),
                p("3310", 400),
                p("3311", 390),
            ],
            default_premium_cny: Some(400),
            bad_rating_return_visit_days: 1,
            bad_rating_rectify_days: 15,
        }
    }
}

impl Settings {
    pub fn premium(&self, county_code: &str, year: i32) -> Option<u32> {
        let city = county_code.get(..4)?;
        self.premiums
            .iter()
            .find(|p| p.city == city && p.year == year)
            .map(|p| p.amount_cny)
            .or(self.default_premium_cny)
    }
}
