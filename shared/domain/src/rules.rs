//! The rules: acceptance (completeness and policy, data sharing first) and each
//! department's automatic review, and the results each step issues.
//!
//! Rules are pure: the caller fetches data sharing records and allocates numbers, the
//! rules decide and compose.

use crate::case::{AcceptanceOutcome, Case, Missing};
use crate::flow::{Channel, MaterialKind, Step};
use crate::form::{DeliveryMethod, ParentRole};
use crate::idnum::IdNumber;
use crate::settings::Settings;
use crate::sharing::SharedFacts;
use chrono::{Datelike, Duration, Months, NaiveDate};
use serde_json::{json, Map, Value};

/// A department's automatic verdict on its step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// An officer must look; the findings say why.
    Review(Vec<String>),
    Return(Vec<String>),
    Reject(Vec<String>),
}

/// Acceptance: policy first (not accepted), then completeness (one notice with everything
/// missing). Data sharing is tried first; a material is asked for only when sharing has no
/// record and the guardian has not uploaded it.
pub fn assess_acceptance(case: &Case, facts: &SharedFacts) -> AcceptanceOutcome {
    let form = &case.form;
    let mut reasons = vec![];
    match &facts.institution {
        None => reasons.push(format!(
            "新生儿出生机构 {} 不是本省助产机构 (the birth institution is not a Zhejiang midwifery institution)",
            form.newborn.hospital_code
        )),
        Some(i) if i.kind != "midwifery" || !i.county_code.starts_with("33") => reasons.push(format!(
            "{} 不是本省助产机构 (not a Zhejiang midwifery institution)",
            i.name
        )),
        _ => {}
    }
    if let Some(h) = &facts.household {
        if !h.address_code.starts_with("33") {
            reasons.push("拟落户方户籍不在浙江省，不符合本省落户政策 (the household to register with is not a Zhejiang household)".into());
        }
    }
    if !reasons.is_empty() {
        return AcceptanceOutcome::NotAccepted { reasons };
    }

    let mut missing = vec![];
    let need = |kind: MaterialKind, reason: String, missing: &mut Vec<Missing>| {
        if !case.has_upload(kind) {
            missing.push(Missing {
                material: kind.as_str().into(),
                reason,
            });
        }
    };
    let mut form_problems = vec![];
    match &facts.mother {
        None => need(
            MaterialKind::MotherIdCard,
            "数据共享未获取到母亲居民身份证信息，请上传 (no resident ID record for the mother)"
                .into(),
            &mut missing,
        ),
        Some(p) if p.name != form.mother.name => form_problems
            .push("mother.name 与居民身份证信息不一致 (does not match the ID record)".to_string()),
        _ => {}
    }
    if let Some(father) = &form.father {
        match &facts.father {
            None => need(
                MaterialKind::FatherIdCard,
                "数据共享未获取到父亲居民身份证信息，请上传 (no resident ID record for the father)"
                    .into(),
                &mut missing,
            ),
            Some(p) if p.name != father.name => form_problems.push(
                "father.name 与居民身份证信息不一致 (does not match the ID record)".to_string(),
            ),
            _ => {}
        }
        if facts.marriage.is_none() {
            need(MaterialKind::MarriageCertificate, "数据共享未获取到父母婚姻登记信息，请上传结婚证 (no marriage record for the parents)".into(), &mut missing);
        }
    }
    if facts.household.is_none() {
        let whose = match form.household.register_with {
            ParentRole::Father => "父亲 (father)",
            ParentRole::Mother => "母亲 (mother)",
        };
        need(
            MaterialKind::HouseholdRegister,
            format!("数据共享未获取到拟落户方{whose}的居民户口簿，请上传 (no household register record)"),
            &mut missing,
        );
    }
    for p in form_problems {
        missing.push(Missing {
            material: "registration_form".into(),
            reason: p,
        });
    }
    if missing.is_empty() {
        let mut probe = case.clone();
        probe.shared = facts.clone();
        AcceptanceOutcome::Accept {
            received: probe.received_materials(),
        }
    } else {
        AcceptanceOutcome::Incomplete { missing }
    }
}

/// A department's automatic review of its step.
pub fn review(step: Step, case: &Case, settings: &Settings, now: NaiveDate) -> Verdict {
    let form = &case.form;
    let facts = &case.shared;
    match step {
        Step::Acceptance => Verdict::Pass,
        Step::BirthCertificate => {
            let mut review = vec![];
            if form.newborn.gestational_weeks < 28 || form.newborn.weight_g < 1000 {
                review.push("出生孕周或体重异常，需助产机构核对 (gestational age or weight needs the hospital's check)".to_string());
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
        Step::HouseholdRegistration => {
            let mut review = vec![];
            let birth = form.newborn.birth_time.date_naive();
            let limit = birth
                .checked_add_months(Months::new(settings.late_registration_months))
                .unwrap_or(birth);
            if now > limit {
                review.push("出生超过一个月申报户口，需民警人工审核 (late registration needs an officer's review)".to_string());
            }
            if facts.household.is_none() {
                review.push("户口簿为上传材料，需民警核验 (the household register was uploaded, not shared)".to_string());
            }
            if form.household.register_with == ParentRole::Father && facts.marriage.is_none() {
                review.push("随父落户的婚姻证明为上传材料，需民警核验 (the marriage certificate was uploaded)".to_string());
            }
            if review.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Review(review)
            }
        }
        Step::MedicalInsurance => {
            if form.insurance.enrol_newborn && premium_for(case, settings).is_none() {
                Verdict::Review(vec![
                    "参保地未配置缴费标准，需医保经办核定 (no premium configured for the city)"
                        .into(),
                ])
            } else {
                Verdict::Pass
            }
        }
        Step::SocialSecurityCard | Step::UnifiedIssuance => Verdict::Pass,
    }
}

/// A number the step needs from the allocator: a namespace, the largest ordinal it may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRequest {
    pub namespace: String,
    pub max: u64,
}

/// The household address code the newborn's number uses: the shared household record,
/// or what the approving officer supplied, or the birth institution's county.
pub fn household_address_code(case: &Case) -> Option<String> {
    let s = case.step(Step::HouseholdRegistration);
    s.approval_data
        .get("address_code")
        .and_then(Value::as_str)
        .map(str::to_string)
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

/// The allocations a step needs before it can compose its results.
pub fn allocations(step: Step, case: &Case) -> Vec<AllocationRequest> {
    let a = |ns: String, max: u64| AllocationRequest { namespace: ns, max };
    match step {
        Step::BirthCertificate => vec![
            a("birth_certificate".into(), 999_999_999),
            a("vaccination_certificate".into(), 999_999_999),
        ],
        Step::HouseholdRegistration => {
            let county = household_address_code(case).unwrap_or_default();
            let birth = case.form.newborn.birth_time.date_naive();
            let mut v = vec![a(
                format!(
                    "citizen_id:{county}:{}:{}",
                    birth.format("%Y%m%d"),
                    case.form.newborn.sex.as_str()
                ),
                IdNumber::max_ordinal(case.form.newborn.sex) as u64,
            )];
            if case.shared.household.is_none()
                && !case
                    .step(step)
                    .approval_data
                    .contains_key("household_number")
            {
                v.push(a(format!("household:{county}"), 999_999_999));
            }
            v
        }
        Step::SocialSecurityCard if case.form.social_security_card.apply => {
            vec![a("social_security_card".into(), 999_999_999)]
        }
        Step::UnifiedIssuance => match case.form.delivery.as_ref().map(|d| d.method) {
            _ if case.channel.is_offline() => vec![],
            Some(DeliveryMethod::Mail) => vec![a("mail".into(), 99_999_999)],
            _ => vec![a("pickup".into(), 99_999_999)],
        },
        _ => vec![],
    }
}

pub fn premium_for(case: &Case, settings: &Settings) -> Option<u32> {
    let county = household_address_code(case)?;
    settings.premium(&county, case.form.newborn.birth_time.year())
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

/// Compose the step's results from the allocated ordinals (in the order of [`allocations`]).
pub fn results(
    step: Step,
    case: &Case,
    numbers: &[u64],
    settings: &Settings,
    now: crate::case::Time,
) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    let form = &case.form;
    let n = |i: usize| {
        numbers
            .get(i)
            .copied()
            .ok_or_else(|| "missing allocation".to_string())
    };
    match step {
        Step::Acceptance => {}
        Step::BirthCertificate => {
            out.insert(
                "birth_certificate_number".into(),
                json!(format!("Q{:09}", n(0)?)),
            );
            let county = case
                .shared
                .institution
                .as_ref()
                .map(|i| i.county_code.clone())
                .unwrap_or_else(|| "330000".into());
            out.insert(
                "vaccination_certificate_number".into(),
                json!(format!("V{county}{:09}", n(1)?)),
            );
        }
        Step::HouseholdRegistration => {
            let county = household_address_code(case).ok_or("no household address code")?;
            let birth = form.newborn.birth_time.date_naive();
            let id = IdNumber::assemble(&county, birth, form.newborn.sex, n(0)? as u32)
                .ok_or_else(|| format!("no citizen ID sequence left for {county} on {birth}"))?;
            let household_number = case
                .step(step)
                .approval_data
                .get("household_number")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| {
                    case.shared
                        .household
                        .as_ref()
                        .map(|h| h.household_number.clone())
                });
            let household_number = match household_number {
                Some(h) => h,
                None => format!("{county}{:09}", n(1)?),
            };
            out.insert("newborn_id_number".into(), json!(id.as_str()));
            out.insert("household_number".into(), json!(household_number));
        }
        Step::MedicalInsurance => {
            let id = case
                .results
                .get("newborn_id_number")
                .and_then(Value::as_str)
                .ok_or("no newborn ID number yet")?;
            let birth = form.newborn.birth_time.date_naive();
            let mi = if form.insurance.enrol_newborn {
                let amount = premium_for(case, settings).ok_or("no premium configured")?;
                let pay_by = birth + Duration::days(settings.insurance_payment_days);
                json!({
                    "enrolled": true,
                    "insurance_number": id,
                    "scheme": "城乡居民基本医疗保险",
                    "premium_notice": {"amount_cny": amount, "pay_by": pay_by.to_string(), "year": birth.year(),
                                       "how": "浙里办 APP 或 浙江政务服务网 缴费"},
                })
            } else {
                json!({"enrolled": false, "reason": "not requested"})
            };
            out.insert("medical_insurance".into(), mi);
            let mb = if !form.insurance.maternity_benefit {
                json!({"status": "not_requested"})
            } else if case
                .shared
                .mother
                .as_ref()
                .is_some_and(|m| m.employee_insured)
            {
                json!({"status": "approved", "settlement": "生育医疗费用实时结算，生育津贴按规定发放"})
            } else {
                json!({"status": "not_eligible", "reason": "母亲未参加职工生育保险 (the mother is not insured as an employee)"})
            };
            out.insert("maternity_benefit".into(), mb);
        }
        Step::SocialSecurityCard => {
            if form.social_security_card.apply {
                let id = case
                    .results
                    .get("newborn_id_number")
                    .and_then(Value::as_str)
                    .ok_or("no newborn ID number yet")?;
                out.insert(
                    "social_security_card".into(),
                    json!({"number": id, "card_serial": format!("ZJ{:09}", n(0)?), "issued_at": now.to_rfc3339()}),
                );
            } else {
                out.insert("social_security_card".into(), json!({"applied": false}));
            }
        }
        Step::UnifiedIssuance => {
            let items: Vec<&str> = {
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
                v
            };
            let issuance = match (case.channel, form.delivery.as_ref()) {
                (Channel::Hospital | Channel::ServiceCenter, _) => {
                    let w = form.window.as_ref();
                    json!({"method": "window", "site": w.map(|w| w.site.clone()), "window": w.map(|w| w.number.clone()),
                           "issued_by": case.channel.as_str(), "issued_at": now.to_rfc3339(), "items": items})
                }
                (_, Some(d)) if d.method == DeliveryMethod::Mail => {
                    let serial = n(0)?;
                    json!({"method": "mail", "tracking_number": format!("EA{serial:08}{}CN", s10_check(serial)),
                           "address": d.address.as_deref().map(crate::idnum::mask_address),
                           "issued_at": now.to_rfc3339(), "items": items})
                }
                (_, d) => json!({"method": "pickup", "pickup_code": format!("P{:08}", n(0)?),
                                 "pickup_site": d.and_then(|d| d.pickup_site.clone()),
                                 "issued_at": now.to_rfc3339(), "items": items}),
            };
            out.insert("issuance".into(), issuance);
        }
    }
    Ok(out)
}
