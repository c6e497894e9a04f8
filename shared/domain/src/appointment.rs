//! Appointments at a site's windows (6.1.2 预约): a guardian books a slot to apply or to
//! pick up results. A slot is never overbooked (the stores check capacity in the same
//! write that books), and a guardian holds at most one active appointment per purpose.

use crate::case::Time;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Apply,
    Pickup,
}

impl Purpose {
    pub fn parse(s: &str) -> Option<Purpose> {
        match s {
            "apply" => Some(Purpose::Apply),
            "pickup" => Some(Purpose::Pickup),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Apply => "apply",
            Purpose::Pickup => "pickup",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            Purpose::Apply => "窗口申请",
            Purpose::Pickup => "领取证件",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Active,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub appointment_id: String,
    /// Shown at the window (6 digits).
    pub code: String,
    /// The guardian's `sub` (their citizen ID number: personal data, never in a key).
    pub guardian: String,
    /// The guardian's phone for the reminder, from the case named (if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub site_id: String,
    pub start: Time,
    pub end: Time,
    pub purpose: Purpose,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    pub status: AppointmentStatus,
    pub created_at: Time,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<Time>,
    /// The reminder of the working day before was sent.
    #[serde(default)]
    pub reminded: bool,
}

impl Appointment {
    pub fn is_active(&self) -> bool {
        self.status == AppointmentStatus::Active
    }

    /// The slot's key: site and start (a store counts active bookings per slot).
    pub fn slot_key(&self) -> String {
        format!("{}#{}", self.site_id, self.start.timestamp())
    }

    /// What the guardian (and the site's window officers) see: the guardian's number
    /// masked.
    pub fn view(&self, with_guardian: bool) -> serde_json::Value {
        let mut v = serde_json::json!({
            "appointment_id": self.appointment_id,
            "code": self.code,
            "site_id": self.site_id,
            "start": self.start,
            "end": self.end,
            "purpose": self.purpose,
            "case_id": self.case_id,
            "status": self.status,
            "created_at": self.created_at,
            "cancelled_at": self.cancelled_at,
        });
        if with_guardian {
            v["guardian"] = crate::idnum::mask_id(&self.guardian).into();
        }
        v
    }

    /// The reminder's text (sent on the working day before).
    pub fn reminder_text(&self, site_name: &str) -> String {
        format!(
            "您已预约 {} {}（{}），预约码 {}。请按时携带身份证件前往。",
            self.start.format("%Y-%m-%d %H:%M"),
            site_name,
            self.purpose.name_zh(),
            self.code
        )
    }
}
