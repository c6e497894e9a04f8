//! The police (公安): household registration (户口登记) and the newborn's citizen ID
//! number (GB 11643).
//!
//! The number takes the county code of the registering household only when that code is
//! in force; a retired code, or a household register that was uploaded rather than
//! shared, gives the system nothing it may use: a police officer supplies the current
//! code (and the household number) with the approval. Nothing is guessed from the birth
//! hospital's county and no household number is invented.

use super::{AllocationRequest, ApprovalData, NumberKind, Numbers, Verdict};
use crate::case::Case;
use crate::case::SupersededKind;
use crate::flow::{MaterialKind, Step};
use crate::form::ParentRole;
use crate::idnum::{mask_id, IdNumber};
use crate::problem::Problem;
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

/// Late registration, an uploaded household register, a household code not in force, a
/// marriage proven by upload or by a written commitment, or a guardian who is not a
/// parent: a police officer decides.
pub fn review(case: &Case, settings: &Settings, today: NaiveDate) -> Verdict {
    let form = &case.form;
    let facts = &case.shared;
    let mut review = vec![];
    let birth = form.newborn.birth_date();
    let limit = birth
        .checked_add_months(Months::new(settings.late_registration_months))
        .unwrap_or(birth);
    if today > limit {
        review.push("出生超过一个月申报户口，需民警人工审核".to_string());
    }
    match &facts.household {
        None => review.push("户口簿为上传材料，需民警核验并确定户籍地址代码和户号".to_string()),
        Some(h) if !settings.county_in_force(&h.address_code) => review.push(format!(
            "拟落户户籍地址的行政区划代码 {} 不是现行县级代码，需民警确定现行代码",
            h.address_code
        )),
        _ => {}
    }
    if form.household.register_with == ParentRole::Father && facts.marriage.is_none() {
        if case.has_upload(MaterialKind::Commitment) {
            review.push("随父落户以书面告知承诺书代替婚姻证明，需民警核查".to_string());
        } else {
            review.push("随父落户的结婚证为上传材料，需民警核验".to_string());
        }
    }
    for o in case.objections() {
        review.push(format!(
            "{}对申请提出异议：{}，需民警核查亲子关系和申请的真实性",
            crate::case::parent_name_zh(o.by),
            o.reason
        ));
    }
    if form.applicant.relation == crate::form::Relation::Guardian {
        review.push("申请人为其他监护人，需民警核验监护关系证明".to_string());
    }
    // The newborn's ethnicity follows a parent whose ethnicity data sharing does not hold:
    // the police confirm it (acceptance could not).
    let on_record: Vec<&str> = [facts.mother.as_ref(), facts.father.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|p| p.ethnicity.as_deref())
        .collect();
    if !on_record.contains(&form.newborn.ethnicity.as_str()) {
        review.push(format!(
            "新生儿民族申报为{}，与数据共享中的父母民族不一致或无法核实，需民警核验",
            form.newborn.ethnicity
        ));
    }
    // A parent's ID card that data sharing could not provide was uploaded: the police
    // check it against the person (nobody else reviews an uploaded ID card).
    for (kind, who) in [
        (MaterialKind::MotherIdCard, "母亲"),
        (MaterialKind::FatherIdCard, "父亲"),
    ] {
        if case.has_upload(kind) {
            review.push(format!("{who}身份证为上传材料，需民警核验"));
        }
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

/// The county code the newborn's number uses: what the approving officer supplied, or
/// the shared household record's when it is in force. Never the hospital's county.
pub fn address_code(case: &Case, settings: &Settings) -> Option<String> {
    approval(case)
        .address_code
        .clone()
        .filter(|c| settings.county_in_force(c))
        .or_else(|| {
            case.shared
                .household
                .as_ref()
                .map(|h| h.address_code.clone())
                .filter(|c| settings.county_in_force(c))
        })
}

/// The household number: what the approving officer supplied, or the shared record's.
fn household_number(case: &Case) -> Option<String> {
    approval(case).household_number.clone().or_else(|| {
        case.shared
            .household
            .as_ref()
            .map(|h| h.household_number.clone())
    })
}

/// What an approval must carry: a county code in force when the case has none, and the
/// household number when the household register was uploaded.
pub fn approval_problems(case: &Case, data: &ApprovalData, settings: &Settings) -> Vec<Problem> {
    let mut p = vec![];
    // The household record's county, when it is in force: another code is a move.
    let recorded = case
        .shared
        .household
        .as_ref()
        .map(|h| h.address_code.as_str())
        .filter(|c| settings.county_in_force(c));
    let reason = data.move_reason.as_deref().map(str::trim).unwrap_or("");
    if let Some(code) = &data.address_code {
        if !settings.county_in_force(code) {
            p.push(Problem::new(
                "data.address_code",
                "not_in_force",
                "应为浙江省现行的县级行政区划代码",
            ));
        } else if recorded.is_some_and(|r| r != code) && reason.is_empty() {
            p.push(Problem::new(
                "data.move_reason",
                "required",
                format!(
                    "所填区划代码与拟落户户籍所在县（{}）不同：跨县落户须填写迁移说明，说明将记入办件",
                    recorded.unwrap_or_default()
                ),
            ));
        }
    } else if address_code(case, settings).is_none() {
        p.push(Problem::new(
            "data.address_code",
            "required",
            "拟落户户籍没有可用的现行行政区划代码，批准时须填写现行县级代码",
        ));
    }
    if let Some((code, message)) =
        crate::text::free_text_problem(reason, 200).filter(|_| !reason.is_empty())
    {
        p.push(Problem::new("data.move_reason", code, message));
    }
    match &data.household_number {
        Some(h) if h.is_empty() || h.len() > 20 || !h.bytes().all(|b| b.is_ascii_digit()) => p
            .push(Problem::new(
                "data.household_number",
                "format",
                "户号应为 1 到 20 位数字",
            )),
        None if case.shared.household.is_none() => p.push(Problem::new(
            "data.household_number",
            "required",
            "户口簿为上传材料，批准时须填写核验后的户号",
        )),
        _ => {}
    }
    p
}

/// The newborn's number belongs to the newborn: the same newborn gets the same number in
/// any case, until a correction supersedes it (then a new one, never the old one again).
pub fn allocations(case: &Case, settings: &Settings) -> Vec<AllocationRequest> {
    let Some(county) = address_code(case, settings) else {
        return vec![];
    };
    let newborn = &case.form.newborn;
    let generation = case.number_generation(SupersededKind::NewbornIdNumber);
    vec![AllocationRequest::newborn(
        NumberKind::CitizenId,
        format!(
            "citizen_id:{county}:{}:{}",
            newborn.birth_date().format("%Y%m%d"),
            newborn.sex.as_str()
        ),
        IdNumber::max_ordinal(newborn.sex) as u64,
        format!("newborn:{}#{generation}", case.newborn_key()),
    )]
}

pub fn issue(case: &Case, numbers: &Numbers, settings: &Settings) -> Result<Registration, String> {
    let county = address_code(case, settings).ok_or("no county code in force")?;
    let household_number = household_number(case).ok_or("no household number")?;
    let newborn = &case.form.newborn;
    let birth = newborn.birth_date();
    let id = IdNumber::assemble(
        &county,
        birth,
        newborn.sex,
        numbers.get(NumberKind::CitizenId)? as u32,
    )
    .ok_or_else(|| format!("no citizen ID sequence left for {county} on {birth}"))?;
    Ok(Registration {
        household_number,
        newborn_id_number: id.as_str().to_string(),
    })
}

/// The police's step.
pub struct Police;

impl super::DeptStep for Police {
    fn document_facts(
        &self,
        case: &Case,
        _: crate::certificate::CertKind,
    ) -> Vec<super::paper::Fact> {
        use super::paper;
        let Some(r) = &case.results().household else {
            return vec![];
        };
        let form = case.form();
        let n = &form.newborn;
        let parent_id = match form.household.register_with {
            ParentRole::Father => form.father.as_ref().map(|f| f.id_number.as_str()),
            ParentRole::Mother => Some(form.mother.id_number.as_str()),
        };
        let household = case.shared().household.as_ref();
        let mut out = vec![("姓名", n.name.clone())];
        if household.and_then(|h| h.head_id_number.as_deref()) == parent_id {
            let relation = if n.sex == crate::idnum::Sex::Male {
                "子"
            } else {
                "女"
            };
            out.push(("与户主关系", relation.to_string()));
        }
        let birthplace = case
            .shared()
            .institution
            .as_ref()
            .map(|i| paper::place(&i.county_code))
            .unwrap_or_default();
        out.extend([
            ("性别", paper::sex(case)),
            ("出生日期", paper::date(n.birth_time)),
            ("出生地", birthplace),
            ("民族", n.ethnicity.clone()),
            ("公民身份号码", r.newborn_id_number.clone()),
            ("户号", r.household_number.clone()),
        ]);
        if let Some(h) = household {
            out.push(("住址", h.address.clone()));
        }
        if let Some(t) = case.step(Step::HouseholdRegistration).finished_at {
            out.push(("登记日期", paper::date(t)));
        }
        out
    }
    fn checklist(&self) -> &'static [super::checks::CheckItem] {
        use super::checks::CheckItem as C;
        &[
            C {
                item_id: "household",
                text: "拟落户的父亲或母亲户籍在浙江，户籍地行政区划代码为现行代码",
            },
            C {
                item_id: "relation_to_head",
                text: "新生儿与户主的关系",
            },
            C {
                item_id: "parentage_proof",
                text: "婚姻登记记录、书面告知承诺书或亲子鉴定证明",
            },
            C {
                item_id: "name",
                text: "新生儿姓名",
            },
            C {
                item_id: "ethnicity",
                text: "新生儿民族随父或随母",
            },
            C {
                item_id: "uploads",
                text: "上传的户口簿、身份证等材料与申请一致",
            },
        ]
    }
    fn facts(&self) -> &'static [&'static str] {
        &[
            "newborn.name",
            "newborn.sex",
            "newborn.birth_time",
            "newborn.ethnicity",
            "mother",
            "father",
            "household",
            "applicant.relation",
        ]
    }
    fn records(&self, case: &Case) -> super::checks::TaskRecords {
        let mut out = super::checks::TaskRecords::default();
        super::checks::parents(case, &mut out);
        out.household = case.shared().household.clone();
        out.marriage = case.shared().marriage.clone();
        out.issued.birth = case.results().birth.clone();
        out
    }
    /// The newborn's citizen ID number (the household number is the family's own).
    fn issued_numbers(&self, case: &Case) -> Vec<(SupersededKind, String)> {
        case.results()
            .household
            .iter()
            .map(|h| (SupersededKind::NewbornIdNumber, h.newborn_id_number.clone()))
            .collect()
    }
    fn handover_items(&self, _: &Case) -> Vec<&'static str> {
        vec!["户口簿（新生儿登记页）"]
    }
    fn review(&self, case: &Case, settings: &Settings, today: NaiveDate) -> Verdict {
        review(case, settings, today)
    }
    fn allocations(&self, case: &Case, settings: &Settings) -> Vec<AllocationRequest> {
        allocations(case, settings)
    }
    fn issue(
        &self,
        case: &Case,
        numbers: &Numbers,
        settings: &Settings,
        _: crate::case::Time,
    ) -> Result<super::StepResults, String> {
        Ok(super::StepResults {
            household: Some(issue(case, numbers, settings)?),
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
    /// The household registration, by the police of the newborn's county.
    fn certificates(&self, case: &Case) -> Vec<(crate::certificate::CertKind, String, String)> {
        let Some(h) = &case.results().household else {
            return vec![];
        };
        // The police of the county the newborn is registered in (its ID number's code).
        let issuer = crate::certificate::unit_name(crate::flow::Dept::Police, &h.newborn_id_number);
        vec![(
            crate::certificate::CertKind::HouseholdRegistration,
            h.newborn_id_number.clone(),
            issuer,
        )]
    }
    fn numbers_replaced(
        &self,
        old: &super::StepResults,
        new: &super::StepResults,
    ) -> Vec<(SupersededKind, String, String)> {
        let (Some(o), Some(n)) = (&old.household, &new.household) else {
            return vec![];
        };
        [
            super::replaced(
                SupersededKind::NewbornIdNumber,
                Some(&o.newborn_id_number),
                Some(&n.newborn_id_number),
            ),
            super::replaced(
                SupersededKind::HouseholdNumber,
                Some(&o.household_number),
                Some(&n.household_number),
            ),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}
