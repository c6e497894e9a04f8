//! Medical security (医保): the newborn's residents' medical insurance enrolment
//! (医保参保登记) with its premium notice, and the mother's maternity benefit review
//! (生育保险待遇审核).

use super::{ApprovalData, Verdict};
use crate::case::{Actor, Case, Effect, NoticeKind, Time};
use crate::flow::Step;
use crate::idnum::mask_id;
use crate::problem::Problem;
use crate::settings::Settings;
use crate::DomainError;
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
    /// Cover is active once the premium is paid (enrolled cases only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PremiumStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PremiumPayment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PremiumStatus {
    PendingPayment,
    Paid,
}

/// The premium payment, as medical security (or the payment platform) recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PremiumPayment {
    pub paid_at: Time,
    pub amount_cny: u32,
    pub receipt: String,
    pub recorded_at: Time,
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

/// The newborn's premium: configured by the household's city and the birth year (never a
/// default), or what the approving officer set when none is configured.
pub fn premium_for(case: &Case, settings: &Settings) -> Option<u32> {
    let configured = super::household::address_code(case, settings)
        .and_then(|county| settings.premium(&county, case.form.newborn.birth_date().year()));
    configured.or(case.step(Step::MedicalInsurance).approval_data.amount_cny)
}

/// No premium configured for the household's city and the birth year: a medical-security
/// officer decides (the approval carries the amount).
pub fn review(case: &Case, settings: &Settings) -> Verdict {
    if case.form.insurance.enrol_newborn && premium_for(case, settings).is_none() {
        Verdict::Review(vec![
            "参保地当年的新生儿缴费标准未配置，需医保经办人员核定缴费金额".into(),
        ])
    } else {
        Verdict::Pass
    }
}

/// An approval must carry the amount when no premium is configured.
pub fn approval_problems(case: &Case, data: &ApprovalData, settings: &Settings) -> Vec<Problem> {
    match data.amount_cny {
        Some(0) => vec![Problem::new(
            "data.amount_cny",
            "range",
            "缴费金额应大于 0 元",
        )],
        Some(a) if a > 100_000 => {
            vec![Problem::new(
                "data.amount_cny",
                "range",
                "缴费金额超出合理范围",
            )]
        }
        None if case.form.insurance.enrol_newborn && premium_for(case, settings).is_none() => {
            vec![Problem::new(
                "data.amount_cny",
                "required",
                "参保地当年缴费标准未配置，批准时须填写核定的缴费金额（元）",
            )]
        }
        _ => vec![],
    }
}

/// The last day to pay: within the national window after birth, but never fewer than
/// `min_days_to_pay` days after the guardian is told.
pub fn pay_by(birth: NaiveDate, told: NaiveDate, settings: &Settings) -> NaiveDate {
    let by_birth = birth + Duration::days(settings.insurance_payment_days);
    let by_notice = told + Duration::days(settings.min_days_to_pay);
    by_birth.max(by_notice)
}

pub fn issue(case: &Case, settings: &Settings, now: Time) -> Result<Enrolment, String> {
    let form = &case.form;
    let birth = form.newborn.birth_date();
    let medical_insurance = if form.insurance.enrol_newborn {
        let id = case
            .results
            .newborn_id_number()
            .ok_or("no newborn ID number yet")?;
        let amount = premium_for(case, settings).ok_or("no premium configured")?;
        // Done again after a correction that left the enrolment as it was (the same
        // premium): the payment already recorded stands, and no new notice is sent.
        if let Some(paid) = paid_enrolment(case).filter(|m| {
            m.payment.as_ref().is_some_and(|p| p.amount_cny == amount)
                && m.insurance_number.as_deref() == Some(id)
        }) {
            return Ok(Enrolment {
                medical_insurance: paid.clone(),
                maternity_benefit: maternity_benefit(case),
            });
        }
        MedicalInsurance {
            enrolled: true,
            insurance_number: Some(id.to_string()),
            premium_notice: Some(PremiumNotice {
                amount_cny: amount,
                how: "浙里办 APP 或 浙江政务服务网 缴费".into(),
                pay_by: pay_by(birth, now.date_naive(), settings),
                year: birth.year(),
            }),
            reason: None,
            scheme: Some("城乡居民基本医疗保险".into()),
            status: Some(PremiumStatus::PendingPayment),
            payment: None,
        }
    } else {
        MedicalInsurance {
            enrolled: false,
            insurance_number: None,
            premium_notice: None,
            reason: Some("申请人未申请新生儿参保登记".into()),
            scheme: None,
            status: None,
            payment: None,
        }
    };
    Ok(Enrolment {
        medical_insurance,
        maternity_benefit: maternity_benefit(case),
    })
}

/// The enrolment as it stood with its premium paid, if it did (before the step is done
/// again).
fn paid_enrolment(case: &Case) -> Option<&MedicalInsurance> {
    case.results
        .insurance
        .as_ref()
        .map(|e| &e.medical_insurance)
        .filter(|m| m.enrolled && m.status == Some(PremiumStatus::Paid))
}

/// The maternity benefit decision: for a mother insured as an employee.
fn maternity_benefit(case: &Case) -> MaternityBenefit {
    if !case.form.insurance.maternity_benefit {
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
            reason: Some("母亲未参加职工生育保险".into()),
            settlement: None,
            status: BenefitStatus::NotEligible,
        }
    }
}

/// Medical security's step.
pub struct MedicalSecurity;

impl super::DeptStep for MedicalSecurity {
    fn document_facts(
        &self,
        case: &Case,
        kind: crate::certificate::CertKind,
    ) -> Vec<super::paper::Fact> {
        use super::paper;
        use crate::certificate::CertKind;
        let Some(e) = &case.results().insurance else {
            return vec![];
        };
        let form = case.form();
        if kind == CertKind::MaternityBenefitDecision {
            let b = &e.maternity_benefit;
            let decision = match b.status {
                BenefitStatus::Approved => "准予享受生育保险待遇",
                BenefitStatus::NotEligible => "不符合享受生育保险待遇条件",
                BenefitStatus::NotRequested => "未申领",
            };
            let mut out = vec![
                ("姓名", form.mother.name.clone()),
                ("公民身份号码", form.mother.id_number.as_str().to_string()),
                ("核定结果", decision.to_string()),
            ];
            if let Some(s) = &b.settlement {
                out.push(("待遇核定", s.clone()));
            }
            if let Some(r) = &b.reason {
                out.push(("说明", r.clone()));
            }
            return out;
        }
        let m = &e.medical_insurance;
        let id = case
            .results()
            .newborn_id_number()
            .unwrap_or_default()
            .to_string();
        let mut out = vec![
            ("姓名", form.newborn.name.clone()),
            ("公民身份号码", id.clone()),
            (
                "险种",
                m.scheme
                    .clone()
                    .unwrap_or_else(|| "城乡居民基本医疗保险".to_string()),
            ),
            (
                "参保地",
                paper::place(&id).trim_start_matches("浙江省").to_string(),
            ),
        ];
        if let Some(t) = case.step(Step::MedicalInsurance).finished_at {
            out.push(("参保日期", paper::date(t)));
        }
        if let Some(p) = &m.premium_notice {
            out.push(("个人缴费", format!("{}元（{}年度）", p.amount_cny, p.year)));
            out.push(("缴费期限", p.pay_by.format("%Y年%m月%d日").to_string()));
            out.push((
                "待遇起始",
                "在缴费期限内缴费的，自出生之日起享受医保待遇；逾期缴费的，自缴费次日起享受"
                    .to_string(),
            ));
        }
        out
    }
    fn checklist(&self) -> &'static [super::checks::CheckItem] {
        use super::checks::CheckItem as C;
        &[
            C {
                item_id: "enrolment_city",
                text: "参保地为新生儿落户户籍所在地市",
            },
            C {
                item_id: "premium",
                text: "该地市当年城乡居民医保保费及缴费期限",
            },
            C {
                item_id: "maternity_benefit",
                text: "母亲孕期以职工身份参保及缴费月数，生育津贴金额或核定单位",
            },
        ]
    }
    fn facts(&self) -> &'static [&'static str] {
        &[
            "newborn.name",
            "newborn.birth_time",
            "mother",
            "household",
            "insurance",
        ]
    }
    fn records(&self, case: &Case) -> super::checks::TaskRecords {
        let mut out = super::checks::TaskRecords::default();
        super::checks::parents(case, &mut out);
        out.household = case.shared().household.clone();
        out.issued.household = case.results().household.clone();
        out
    }
    /// The mother (maternity benefit) and the registering household (the city).
    fn materials_checked(&self) -> Option<&'static [crate::flow::MaterialKind]> {
        use crate::flow::MaterialKind as K;
        Some(&[K::MotherIdCard, K::HouseholdRegister, K::Other])
    }
    fn handover_items(&self, case: &Case) -> Vec<&'static str> {
        let mut v = vec![];
        if case.form.insurance.enrol_newborn {
            v.push("医保参保登记凭证");
        }
        if case.form.insurance.maternity_benefit {
            v.push("生育保险待遇审核结果");
        }
        v
    }
    /// The premium notice, when the enrolment carries one.
    fn notices(&self, results: &super::StepResults) -> Vec<crate::case::NoticeKind> {
        // Not again for a payment already recorded (a step done again after a correction).
        let due = results.insurance.as_ref().is_some_and(|i| {
            i.medical_insurance.premium_notice.is_some()
                && i.medical_insurance.status == Some(PremiumStatus::PendingPayment)
        });
        if due {
            vec![crate::case::NoticeKind::PremiumDue]
        } else {
            vec![]
        }
    }
    fn review(&self, case: &Case, settings: &Settings, _: NaiveDate) -> Verdict {
        review(case, settings)
    }
    fn issue(
        &self,
        case: &Case,
        _: &super::Numbers,
        settings: &Settings,
        now: Time,
    ) -> Result<super::StepResults, String> {
        Ok(super::StepResults {
            insurance: Some(issue(case, settings, now)?),
            ..Default::default()
        })
    }
    fn approval_problems(
        &self,
        case: &Case,
        data: &ApprovalData,
        settings: &Settings,
    ) -> Vec<Problem> {
        approval_problems(case, data, settings)
    }
    /// The enrolment, by the county's medical security; the maternity benefit decision
    /// when approved.
    fn certificates(&self, case: &Case) -> Vec<(crate::certificate::CertKind, String, String)> {
        use crate::certificate::{unit_name, CertKind};
        use crate::flow::Dept;
        let Some(e) = &case.results().insurance else {
            return vec![];
        };
        // The medical security bureau of the county the newborn is registered in.
        let county = case.results().newborn_id_number().unwrap_or_default();
        let bureau = unit_name(Dept::MedicalInsurance, county);
        let mut out = vec![];
        if let Some(n) = &e.medical_insurance.insurance_number {
            out.push((
                CertKind::MedicalInsuranceEnrolment,
                n.clone(),
                unit_name(Dept::MedicalInsurance, n),
            ));
        }
        if e.maternity_benefit.status == BenefitStatus::Approved {
            out.push((
                CertKind::MaternityBenefitDecision,
                format!("SY{}", case.case_id().trim_start_matches("BC")),
                bureau,
            ));
        }
        out
    }
}

/// The premium after enrolment: recorded when paid, reminded before it is due.
impl Case {
    /// The newborn's premium was paid (recorded by medical security or the payment platform).
    pub fn record_premium_payment(
        &mut self,
        payment: PremiumPayment,
        actor: &Actor,
    ) -> Result<(), DomainError> {
        let now = payment.recorded_at;
        let Some(ins) = self.results.insurance.as_mut() else {
            return Err(DomainError::Rule("新生儿尚未办理医保参保登记".into()));
        };
        let mi = &mut ins.medical_insurance;
        if !mi.enrolled {
            return Err(DomainError::Rule("新生儿未办理医保参保登记".into()));
        }
        if mi.status == Some(PremiumStatus::Paid) {
            return Err(DomainError::InvalidState {
                status: "paid",
                action: "recording the payment again",
            });
        }
        mi.status = Some(PremiumStatus::Paid);
        let amount = payment.amount_cny;
        mi.payment = Some(payment);
        let mi = mi.clone();
        let updated = mi;
        if let Some(si) = self
            .step_mut(Step::MedicalInsurance)
            .results
            .insurance
            .as_mut()
        {
            si.medical_insurance = updated;
        }
        self.log(
            now,
            actor.label(),
            "premium_paid",
            &format!("已缴纳 {amount} 元"),
        );
        Ok(())
    }

    /// A payment recorded by mistake is reversed (by a medical-security supervisor, with a
    /// reason): the premium is due again, the family is told so, and the timeline keeps
    /// what was reversed and why.
    pub fn reverse_premium_payment(
        &mut self,
        reason: &str,
        actor: &Actor,
        now: Time,
    ) -> Result<Vec<Effect>, DomainError> {
        let paid = self
            .results
            .insurance
            .as_ref()
            .map(|i| &i.medical_insurance)
            .filter(|mi| mi.status == Some(PremiumStatus::Paid))
            .and_then(|mi| mi.payment.clone());
        let Some(payment) = paid else {
            return Err(DomainError::Rule("该申请没有可撤销的缴费记录".into()));
        };
        let unpay = |mi: &mut MedicalInsurance| {
            mi.status = Some(PremiumStatus::PendingPayment);
            mi.payment = None;
        };
        if let Some(ins) = self.results.insurance.as_mut() {
            unpay(&mut ins.medical_insurance);
        }
        if let Some(si) = self
            .step_mut(Step::MedicalInsurance)
            .results
            .insurance
            .as_mut()
        {
            unpay(&mut si.medical_insurance);
        }
        self.premium_reminded = false;
        self.log(
            now,
            actor.label(),
            "premium_payment_reversed",
            &format!(
                "撤销缴费记录（{} 元，凭证号 {}）：{reason}",
                payment.amount_cny, payment.receipt
            ),
        );
        Ok(vec![self.notify(NoticeKind::PremiumDue)])
    }

    /// Whether the premium reminder is still owed (enrolled, unpaid, not yet reminded).
    pub fn premium_reminder_owed(&self) -> bool {
        !self.premium_reminded
            && self
                .results
                .insurance
                .as_ref()
                .is_some_and(|i| i.medical_insurance.status == Some(PremiumStatus::PendingPayment))
    }

    /// The day the newborn's premium must be paid by, if a premium notice was issued.
    pub fn premium_pay_by(&self) -> Option<chrono::NaiveDate> {
        Some(
            self.results
                .insurance
                .as_ref()?
                .medical_insurance
                .premium_notice
                .as_ref()?
                .pay_by,
        )
    }

    /// Remind the guardian `days` before `pay_by` when the premium is still unpaid.
    pub fn remind_premium_if_due(&mut self, now: Time, days: i64) -> Option<Vec<Effect>> {
        if !self.premium_reminder_owed() {
            return None;
        }
        let pay_by = self
            .results
            .insurance
            .as_ref()?
            .medical_insurance
            .premium_notice
            .as_ref()?
            .pay_by;
        if now.date_naive() < pay_by - chrono::Duration::days(days) {
            return None;
        }
        self.premium_reminded = true;
        self.log(
            now,
            "system:medical_insurance",
            "premium_reminder",
            &pay_by.to_string(),
        );
        Some(vec![self.notify(NoticeKind::PremiumReminder)])
    }
}
