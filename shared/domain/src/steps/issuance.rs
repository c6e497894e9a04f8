//! Unified issuance (统一出件), by the service centre: every result handed over together,
//! by mail, for pick-up, or at the window that took an offline application.

use super::{AllocationRequest, NumberKind, Numbers, Verdict};
use crate::case::{Case, Time};
use crate::flow::Channel;
use crate::form::DeliveryMethod;
use crate::idnum::mask_address;
use serde::{Deserialize, Serialize};

/// What the service centre issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issuance {
    pub issuance: Handover,
}

/// How the results were handed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "HandoverWire", try_from = "HandoverWire")]
pub enum Handover {
    /// At the window of an offline application.
    Window {
        site: Option<String>,
        window: Option<String>,
        issued_by: Channel,
        issued_at: Time,
        items: Vec<String>,
    },
    /// By mail (EMS), with an S10 tracking number; the address is stored masked.
    Mail {
        tracking_number: String,
        address: Option<String>,
        issued_at: Time,
        items: Vec<String>,
    },
    /// For pick-up with a code.
    Pickup {
        pickup_code: String,
        pickup_site: Option<String>,
        issued_at: Time,
        items: Vec<String>,
    },
}

impl Issuance {
    pub fn masked(&self) -> Issuance {
        let issuance = match &self.issuance {
            Handover::Mail {
                tracking_number,
                address,
                issued_at,
                items,
            } => Handover::Mail {
                tracking_number: tracking_number.clone(),
                address: address.as_deref().map(mask_address),
                issued_at: *issued_at,
                items: items.clone(),
            },
            other => other.clone(),
        };
        Issuance { issuance }
    }
}

/// The stored shape: a flat object with `method` and the fields of that method (a
/// missing site or address is `null`, as earlier versions stored it).
#[derive(Serialize, Deserialize)]
struct HandoverWire {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::wire::present"
    )]
    address: Option<Option<String>>,
    issued_at: Time,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issued_by: Option<Channel>,
    items: Vec<String>,
    method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pickup_code: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::wire::present"
    )]
    pickup_site: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::wire::present"
    )]
    site: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tracking_number: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::wire::present"
    )]
    window: Option<Option<String>>,
}

impl From<Handover> for HandoverWire {
    fn from(h: Handover) -> Self {
        let blank = |method: &str, issued_at: Time, items: Vec<String>| HandoverWire {
            address: None,
            issued_at,
            issued_by: None,
            items,
            method: method.into(),
            pickup_code: None,
            pickup_site: None,
            site: None,
            tracking_number: None,
            window: None,
        };
        match h {
            Handover::Window {
                site,
                window,
                issued_by,
                issued_at,
                items,
            } => HandoverWire {
                site: Some(site),
                window: Some(window),
                issued_by: Some(issued_by),
                ..blank("window", issued_at, items)
            },
            Handover::Mail {
                tracking_number,
                address,
                issued_at,
                items,
            } => HandoverWire {
                tracking_number: Some(tracking_number),
                address: Some(address),
                ..blank("mail", issued_at, items)
            },
            Handover::Pickup {
                pickup_code,
                pickup_site,
                issued_at,
                items,
            } => HandoverWire {
                pickup_code: Some(pickup_code),
                pickup_site: Some(pickup_site),
                ..blank("pickup", issued_at, items)
            },
        }
    }
}

impl TryFrom<HandoverWire> for Handover {
    type Error = String;
    fn try_from(w: HandoverWire) -> Result<Self, String> {
        let need = |v: Option<String>, f: &str| v.ok_or_else(|| format!("issuance without {f}"));
        Ok(match w.method.as_str() {
            "window" => Handover::Window {
                site: w.site.flatten(),
                window: w.window.flatten(),
                issued_by: w.issued_by.ok_or("issuance without issued_by")?,
                issued_at: w.issued_at,
                items: w.items,
            },
            "mail" => Handover::Mail {
                tracking_number: need(w.tracking_number, "tracking_number")?,
                address: w.address.flatten(),
                issued_at: w.issued_at,
                items: w.items,
            },
            "pickup" => Handover::Pickup {
                pickup_code: need(w.pickup_code, "pickup_code")?,
                pickup_site: w.pickup_site.flatten(),
                issued_at: w.issued_at,
                items: w.items,
            },
            m => return Err(format!("unknown issuance method {m}")),
        })
    }
}

/// Issuance hands over what the departments issued; it has nothing to review.
pub fn review(_case: &Case) -> Verdict {
    Verdict::Pass
}

pub fn allocations(case: &Case) -> Vec<AllocationRequest> {
    if case.channel.is_offline() {
        return vec![];
    }
    match case.form.delivery.as_ref().map(|d| d.method) {
        Some(DeliveryMethod::Mail) => {
            vec![AllocationRequest::new(
                NumberKind::MailSerial,
                "mail",
                99_999_999,
            )]
        }
        _ => vec![AllocationRequest::new(
            NumberKind::PickupCode,
            "pickup",
            99_999_999,
        )],
    }
}

/// S10 (UPU) check digit for an 8-digit mail item serial.
pub fn s10_check(serial: u64) -> u64 {
    let digits = format!("{serial:08}");
    let weights = [8, 6, 4, 2, 3, 5, 9, 7];
    let sum: u64 = digits
        .bytes()
        .zip(weights)
        .map(|(d, w)| (d - b'0') as u64 * w)
        .sum();
    match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    }
}

/// What is handed over: the items the family applied for.
fn items(case: &Case) -> Vec<String> {
    let form = &case.form;
    let mut v = vec!["出生医学证明", "预防接种证", "户口簿"];
    if form.insurance.enrol_newborn {
        v.push("医保参保登记");
    }
    if form.social_security_card.apply {
        v.push("社保卡");
    }
    if form.insurance.maternity_benefit {
        v.push("生育保险待遇审核结果");
    }
    v.into_iter().map(String::from).collect()
}

pub fn issue(case: &Case, numbers: &Numbers, now: Time) -> Result<Issuance, String> {
    let items = items(case);
    let form = &case.form;
    let issuance = match (case.channel, form.delivery.as_ref()) {
        (Channel::Hospital | Channel::ServiceCenter, _) => {
            let w = form.window.as_ref();
            Handover::Window {
                site: w.map(|w| w.site.clone()),
                window: w.map(|w| w.number.clone()),
                issued_by: case.channel,
                issued_at: now,
                items,
            }
        }
        (_, Some(d)) if d.method == DeliveryMethod::Mail => {
            let serial = numbers.get(NumberKind::MailSerial)?;
            Handover::Mail {
                tracking_number: format!("EA{serial:08}{}CN", s10_check(serial)),
                address: d.address.as_deref().map(mask_address),
                issued_at: now,
                items,
            }
        }
        (_, d) => Handover::Pickup {
            pickup_code: format!("P{:08}", numbers.get(NumberKind::PickupCode)?),
            pickup_site: d.and_then(|d| d.pickup_site.clone()),
            issued_at: now,
            items,
        },
    };
    Ok(Issuance { issuance })
}
