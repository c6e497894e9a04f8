//! Unified issuance (统一出件), by the service centre: every result handed over together,
//! by mail, for pick-up, or at the window that took an offline application.

use super::{AllocationRequest, NumberKind, Numbers};
use crate::case::{Case, Time};
use crate::flow::{Channel, Dept, Step};
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

/// One hand-over of result documents (A.5.3): who handed what over, how, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub items: Vec<String>,
    pub by: Dept,
    /// The step whose completion (or the case's end) caused the hand-over.
    pub step: Step,
    pub method: DeliveryMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_site: Option<String>,
    /// Stored masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    pub issued_at: Time,
}

/// The unit that took the application: it accepts, and on offline channels hands over.
pub fn accepting_unit(channel: Channel) -> Dept {
    match channel {
        Channel::Hospital => Dept::Hospital,
        _ => Dept::ServiceCenter,
    }
}

/// How the applicant asked to receive results: mail and pick-up on every channel, the
/// window of an offline application by default there.
pub fn method(case: &Case) -> DeliveryMethod {
    match case.form.delivery.as_ref() {
        Some(d) => d.method,
        None if case.channel.is_offline() => DeliveryMethod::Window,
        None => DeliveryMethod::Pickup,
    }
}

/// The documents a step's results are handed over as ([`super::DeptStep::handover_items`]).
pub fn step_items(step: Step, case: &Case) -> Vec<String> {
    super::of(step)
        .handover_items(case)
        .into_iter()
        .map(String::from)
        .collect()
}

/// Online, each unit that hands over its own documents (the catalogue item's `hand_over`,
/// as the case's plan keeps it) does so when its step is done (各自出件, A.5.3.3); the
/// others' (in the shipped catalogue, medical security's decisions) and the completion
/// notice go out with unified issuance. Offline, the accepting unit hands everything over
/// at the end (A.5.3.1–2).
pub fn hands_over_at(step: Step, case: &Case) -> Vec<String> {
    let online = !case.channel.is_offline();
    match step {
        Step::Acceptance => vec![],
        Step::UnifiedIssuance => {
            let mut v = vec![format!("{}办结告知书", case.plan().bundle_name())];
            for s in crate::flow::department_steps().filter(|s| case.plan().includes(*s)) {
                if !(online && case.plan().hands_over_own(s)) {
                    v.extend(step_items(s, case));
                }
            }
            v
        }
        s if online && case.plan().hands_over_own(s) => step_items(s, case),
        _ => vec![],
    }
}

fn delivery_allocation(case: &Case, tag: &str) -> Vec<AllocationRequest> {
    let owner = format!("{}:{tag}", case.case_id);
    match method(case) {
        DeliveryMethod::Mail => vec![AllocationRequest::owned(
            NumberKind::MailSerial,
            "mail",
            99_999_999,
            owner,
        )],
        DeliveryMethod::Pickup => vec![AllocationRequest::owned(
            NumberKind::PickupCode,
            "pickup",
            99_999_999,
            owner,
        )],
        DeliveryMethod::Window => vec![],
    }
}

/// The numbers a hand-over at `step` needs (a tracking number or a pick-up code).
pub fn allocations_at(step: Step, case: &Case) -> Vec<AllocationRequest> {
    if hands_over_at(step, case).is_empty() {
        return vec![];
    }
    delivery_allocation(
        case,
        &format!("{}:{}", step.as_str(), case.step(step).round),
    )
}

/// What was issued but not yet handed over when the case ends early (a rejection): the
/// unit that took the application hands it over (results issued stay valid).
pub fn undelivered_items(case: &Case) -> Vec<String> {
    let delivered: Vec<&String> = case.deliveries.iter().flat_map(|d| &d.items).collect();
    crate::flow::department_steps()
        .filter(|s| case.step(*s).status == crate::case::StepStatus::Done)
        .flat_map(|s| step_items(s, case))
        .filter(|i| !delivered.contains(&i))
        .collect()
}

/// The numbers the hand-over on a rejection needs.
pub fn rejection_allocations(case: &Case) -> Vec<AllocationRequest> {
    if undelivered_items(case).is_empty() {
        return vec![];
    }
    delivery_allocation(case, "rejection")
}

/// The record of a hand-over of `items` by `by`, as the applicant chose.
pub fn delivery_record(
    case: &Case,
    step: Step,
    by: Dept,
    items: Vec<String>,
    numbers: &Numbers,
    now: Time,
) -> Result<DeliveryRecord, String> {
    let form = &case.form;
    let d = form.delivery.as_ref();
    let mut r = DeliveryRecord {
        items,
        by,
        step,
        method: method(case),
        tracking_number: None,
        pickup_code: None,
        pickup_site: None,
        address: None,
        site: None,
        window: None,
        issued_at: now,
    };
    match r.method {
        DeliveryMethod::Mail => {
            let serial = numbers.get(NumberKind::MailSerial)?;
            r.tracking_number = Some(format!("EA{serial:08}{}CN", s10_check(serial)));
            r.address = d.and_then(|d| d.address.as_deref()).map(mask_address);
        }
        DeliveryMethod::Pickup => {
            r.pickup_code = Some(format!("P{:08}", numbers.get(NumberKind::PickupCode)?));
            // The site by its name where it is known (the family reads it).
            r.pickup_site = d.and_then(|d| d.pickup_site_name.clone().or(d.pickup_site.clone()));
        }
        DeliveryMethod::Window => {
            r.site = form
                .window
                .as_ref()
                .map(|w| w.site_name.clone().unwrap_or_else(|| w.site.clone()));
            r.window = form.window.as_ref().map(|w| w.number.clone());
        }
    }
    Ok(r)
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

/// Unified issuance's own hand-over, as the `issuance` result shows it.
pub fn issue(case: &Case, numbers: &Numbers, now: Time) -> Result<Issuance, String> {
    let items = hands_over_at(Step::UnifiedIssuance, case);
    let r = delivery_record(
        case,
        Step::UnifiedIssuance,
        accepting_unit(case.channel),
        items,
        numbers,
        now,
    )?;
    let issuance = match r.method {
        DeliveryMethod::Window => Handover::Window {
            site: r.site,
            window: r.window,
            issued_by: case.channel,
            issued_at: now,
            items: r.items,
        },
        DeliveryMethod::Mail => Handover::Mail {
            tracking_number: r.tracking_number.unwrap_or_default(),
            address: r.address,
            issued_at: now,
            items: r.items,
        },
        DeliveryMethod::Pickup => Handover::Pickup {
            pickup_code: r.pickup_code.unwrap_or_default(),
            pickup_site: r.pickup_site,
            issued_at: now,
            items: r.items,
        },
    };
    Ok(Issuance { issuance })
}

/// The unified issuance step (统一出件).
pub struct UnifiedIssuance;

/// Issuance hands over what the departments issued: the default review passes.
impl super::DeptStep for UnifiedIssuance {
    fn checklist(&self) -> &'static [super::checks::CheckItem] {
        use super::checks::CheckItem as C;
        &[
            C {
                item_id: "issued",
                text: "各部门已出具的结果齐全",
            },
            C {
                item_id: "handover",
                text: "交付方式（窗口领取或邮寄）与申请一致",
            },
            C {
                item_id: "recipient",
                text: "领取时核验领取人身份",
            },
        ]
    }
    fn facts(&self) -> &'static [&'static str] {
        &["newborn.name", "applicant", "delivery"]
    }
    fn records(&self, case: &Case) -> super::checks::TaskRecords {
        super::checks::TaskRecords {
            issued: case.results().clone(),
            deliveries: case.deliveries().to_vec(),
            ..Default::default()
        }
    }
    /// The hand-over's tracking number or pick-up code.
    fn allocations(&self, case: &Case, _: &crate::settings::Settings) -> Vec<AllocationRequest> {
        allocations_at(Step::UnifiedIssuance, case)
    }
    fn issue(
        &self,
        case: &Case,
        numbers: &Numbers,
        _: &crate::settings::Settings,
        now: Time,
    ) -> Result<super::StepResults, String> {
        Ok(super::StepResults {
            issuance: Some(issue(case, numbers, now)?),
            ..Default::default()
        })
    }
}
