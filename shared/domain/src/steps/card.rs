//! HR & social security (人力社保): the newborn's social security card (社保卡).

use super::{AllocationRequest, NumberKind, Numbers};
use crate::case::SupersededKind;
use crate::case::{Case, Time};
use crate::idnum::mask_id;
use serde::{Deserialize, Serialize};

/// What HR & social security issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardResult {
    pub social_security_card: SocialSecurityCard,
}

/// The card (its number is the newborn's ID number), or `applied: false`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialSecurityCard {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<bool>,
    /// `ZJ` + 9 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl CardResult {
    pub fn masked(&self) -> CardResult {
        CardResult {
            social_security_card: SocialSecurityCard {
                number: self.social_security_card.number.as_deref().map(mask_id),
                ..self.social_security_card.clone()
            },
        }
    }
}

pub fn issue(case: &Case, numbers: &Numbers, now: Time) -> Result<CardResult, String> {
    let social_security_card = if case.form.social_security_card.apply {
        let id = case
            .results
            .newborn_id_number()
            .ok_or("no newborn ID number yet")?;
        SocialSecurityCard {
            applied: None,
            card_serial: Some(format!("ZJ{:09}", numbers.get(NumberKind::CardSerial)?)),
            issued_at: Some(now),
            number: Some(id.to_string()),
        }
    } else {
        SocialSecurityCard {
            applied: Some(false),
            card_serial: None,
            issued_at: None,
            number: None,
        }
    };
    Ok(CardResult {
        social_security_card,
    })
}

/// HR & social security's step.
pub struct Hrss;

/// The card needs nothing beyond the newborn's ID number: the default review passes.
impl super::DeptStep for Hrss {
    fn document_facts(
        &self,
        case: &Case,
        _: crate::certificate::CertKind,
    ) -> Vec<super::paper::Fact> {
        use super::paper;
        let Some(c) = &case.results().card else {
            return vec![];
        };
        let card = &c.social_security_card;
        let id = case
            .results()
            .newborn_id_number()
            .unwrap_or_default()
            .to_string();
        let mut out = vec![
            ("姓名", case.form().newborn.name.clone()),
            ("公民身份号码（社会保障号码）", id),
        ];
        if let Some(serial) = &card.card_serial {
            out.push(("卡号", serial.clone()));
        }
        if let Some(t) = card.issued_at {
            out.push(("申领日期", paper::date(t)));
        }
        let how = case
            .form()
            .delivery
            .as_ref()
            .map(|d| d.method.name_zh())
            .unwrap_or("窗口领取");
        out.push(("领取方式", how.to_string()));
        out
    }
    fn checklist(&self) -> &'static [super::checks::CheckItem] {
        use super::checks::CheckItem as C;
        &[
            C {
                item_id: "card_data",
                text: "申领信息：姓名、公民身份号码、性别、国籍、户籍",
            },
            C {
                item_id: "card_delivery",
                text: "社会保障卡的领取或寄送方式",
            },
        ]
    }
    fn facts(&self) -> &'static [&'static str] {
        &[
            "newborn.name",
            "newborn.sex",
            "newborn.birth_time",
            "household",
            "social_security_card",
            "delivery",
        ]
    }
    fn records(&self, case: &Case) -> super::checks::TaskRecords {
        let mut out = super::checks::TaskRecords {
            household: case.shared().household.clone(),
            ..Default::default()
        };
        out.issued.household = case.results().household.clone();
        out
    }
    /// The household the card's data comes from.
    fn materials_checked(&self) -> Option<&'static [crate::flow::MaterialKind]> {
        use crate::flow::MaterialKind as K;
        Some(&[K::HouseholdRegister, K::Other])
    }
    /// The card's serial (its number is the newborn's ID number).
    fn issued_numbers(&self, case: &Case) -> Vec<(SupersededKind, String)> {
        case.results()
            .card
            .iter()
            .filter_map(|c| c.social_security_card.card_serial.clone())
            .map(|serial| (SupersededKind::SocialSecurityCardSerial, serial))
            .collect()
    }
    fn handover_items(&self, case: &Case) -> Vec<&'static str> {
        if case.form.social_security_card.apply {
            vec!["社保卡"]
        } else {
            vec![]
        }
    }
    /// The card's serial, when the card is applied for.
    fn allocations(&self, case: &Case, _: &crate::settings::Settings) -> Vec<AllocationRequest> {
        if case.form.social_security_card.apply {
            vec![AllocationRequest::new(
                NumberKind::CardSerial,
                "social_security_card",
                999_999_999,
            )]
        } else {
            vec![]
        }
    }
    fn issue(
        &self,
        case: &Case,
        numbers: &Numbers,
        _: &crate::settings::Settings,
        now: Time,
    ) -> Result<super::StepResults, String> {
        Ok(super::StepResults {
            card: Some(issue(case, numbers, now)?),
            ..Default::default()
        })
    }
    /// The card, by the county's HR & social security.
    fn certificates(&self, case: &Case) -> Vec<(crate::certificate::CertKind, String, String)> {
        let number = case
            .results()
            .card
            .as_ref()
            .and_then(|c| c.social_security_card.number.clone());
        let Some(n) = number else {
            return vec![];
        };
        let issuer = crate::certificate::unit_name(crate::flow::Dept::Hrss, &n);
        vec![(crate::certificate::CertKind::SocialSecurityCard, n, issuer)]
    }
    fn numbers_replaced(
        &self,
        old: &super::StepResults,
        new: &super::StepResults,
    ) -> Vec<(SupersededKind, String, String)> {
        let (Some(o), Some(n)) = (&old.card, &new.card) else {
            return vec![];
        };
        super::replaced(
            SupersededKind::SocialSecurityCardSerial,
            o.social_security_card.card_serial.as_ref(),
            n.social_security_card.card_serial.as_ref(),
        )
        .into_iter()
        .collect()
    }
}
