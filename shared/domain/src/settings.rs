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
    /// The premium notice gives the guardian at least this many days to pay.
    pub min_days_to_pay: i64,
    /// Reminder this many days before `pay_by` when the premium is unpaid.
    pub premium_reminder_days: i64,
    /// Materials a written commitment (书面告知承诺书) may stand in for.
    pub substitutable: Vec<crate::flow::MaterialKind>,
    /// A case left incomplete or returned this many days is withdrawn by the system.
    pub auto_withdraw_days: i64,
    /// A case awaiting the mother's confirmation this many days is withdrawn by the
    /// system.
    pub confirmation_days: i64,
    /// A guardian may submit at most this many applications a day...
    pub max_applications_per_day: usize,
    /// ...and hold at most this many unfinished cases.
    pub max_unfinished_cases: usize,
    /// A case is resubmitted at most this many times in all...
    pub max_resubmissions: usize,
    /// ...and this many times a (Beijing) day.
    pub max_resubmissions_per_day: usize,
    /// County codes in force (the newborn's ID number takes one of these); empty: the
    /// built-in list (`data/zj-division-codes-2024.txt`).
    pub counties_in_force: Vec<String>,
    /// Bad rating: return visit within N working days.
    pub bad_rating_return_visit_days: u32,
    /// Bad rating: rectification with feedback within N working days.
    pub bad_rating_rectify_days: u32,
    /// The reason codes a supervisor may give for a break-glass read.
    pub break_glass_reasons: Vec<String>,
    /// At most this many break-glass reads per supervisor per (Beijing) day.
    pub break_glass_per_day: u32,
    /// At most this many messages about one case a (Beijing) day...
    pub notices_per_case_per_day: u32,
    /// ...and to one phone; beyond either, a message is recorded and held for one summary
    /// the next day.
    pub notices_per_phone_per_day: u32,
    /// Appointments are booked at most this many days ahead...
    pub booking_horizon_days: i64,
    /// ...and at most this many a guardian a (Beijing) day, cancelled ones included, so
    /// that nobody holds slots by booking and cancelling.
    pub bookings_per_day: usize,
    /// Who is told of every break-glass read: the supervision lead of each region (the
    /// longest matching division prefix). Without one, the alert goes to the log only.
    pub supervision_leads: Vec<SupervisionLead>,
}

/// The break-glass reason codes of the default settings.
pub const BREAK_GLASS_REASONS: [&str; 3] = [
    "complaint_investigation",
    "fraud_investigation",
    "legal_request",
];

/// A region's supervision lead (who is told of break-glass reads in it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupervisionLead {
    /// A division code prefix (`33`, `3301`, `330106`).
    pub region: String,
    /// The lead's phone for alerts.
    pub phone: String,
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
            min_days_to_pay: 30,
            premium_reminder_days: 7,
            substitutable: vec![crate::flow::MaterialKind::MarriageCertificate],
            auto_withdraw_days: 90,
            confirmation_days: 30,
            max_applications_per_day: 5,
            max_unfinished_cases: 10,
            max_resubmissions: 30,
            max_resubmissions_per_day: 5,
            counties_in_force: vec![],
            bad_rating_return_visit_days: 1,
            bad_rating_rectify_days: 15,
            break_glass_reasons: BREAK_GLASS_REASONS.iter().map(|r| r.to_string()).collect(),
            break_glass_per_day: 5,
            notices_per_case_per_day: 5,
            notices_per_phone_per_day: 5,
            booking_horizon_days: 14,
            bookings_per_day: 3,
            supervision_leads: vec![],
        }
    }
}

impl Settings {
    /// The supervision lead of `region` (a county code): the longest prefix configured.
    pub fn supervision_lead(&self, region: &str) -> Option<&SupervisionLead> {
        self.supervision_leads
            .iter()
            .filter(|l| region.starts_with(l.region.as_str()))
            .max_by_key(|l| l.region.len())
    }

    /// The configured premium for the household's city and the birth year; never a default.
    pub fn premium(&self, county_code: &str, year: i32) -> Option<u32> {
        let city = county_code.get(..4)?;
        self.premiums
            .iter()
            .find(|p| p.city == city && p.year == year)
            .map(|p| p.amount_cny)
    }

    /// A Zhejiang county-level code in force (never a retired or aggregate code).
    pub fn county_in_force(&self, code: &str) -> bool {
        if !code.starts_with("33") || code.len() != 6 || code.ends_with("00") {
            return false;
        }
        if self.counties_in_force.is_empty() {
            crate::idnum::Divisions::current().is_current_county(code)
        } else {
            self.counties_in_force.iter().any(|c| c == code)
        }
    }
}
