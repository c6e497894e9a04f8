//! What the documents of a step say: the facts their paper forms carry (DOMAIN.md
//! "Certificates' content"). Each department's file lists its documents' facts; this file
//! holds the lines several documents share (a parent, the place of birth, dates).

use crate::case::{Case, Time};
use crate::form::ParentRole;

/// One line of a document: its label and the value certified.
pub type Fact = (&'static str, String);

/// `2026年12月06日`.
pub fn date(t: Time) -> String {
    t.with_timezone(&crate::calendar::shanghai())
        .format("%Y年%m月%d日")
        .to_string()
}

/// `2026年12月06日08时30分`.
pub fn time(t: Time) -> String {
    t.with_timezone(&crate::calendar::shanghai())
        .format("%Y年%m月%d日%H时%M分")
        .to_string()
}

pub use crate::idnum::place_name as place;

/// The newborn's sex in Chinese.
pub fn sex(case: &Case) -> String {
    case.form().newborn.sex.name_zh().to_string()
}

/// A parent's lines (`母亲姓名`, `母亲年龄`, ...): name, age at the birth, nationality,
/// ethnicity (as data sharing holds it), ID document type and number. None when the form
/// names no such parent.
pub fn parent(case: &Case, role: ParentRole) -> Vec<Fact> {
    let form = case.form();
    let shared = case.shared();
    let (p, held, who) = match role {
        ParentRole::Mother => (Some(&form.mother), shared.mother.as_ref(), "母亲"),
        ParentRole::Father => (form.father.as_ref(), shared.father.as_ref(), "父亲"),
    };
    let Some(p) = p else {
        return vec![];
    };
    let born = form.newborn.birth_date();
    let age = born.years_since(p.id_number.birth_date()).unwrap_or(0);
    let label = |what: &'static str| -> &'static str {
        match (who, what) {
            ("母亲", "姓名") => "母亲姓名",
            ("母亲", "年龄") => "母亲年龄",
            ("母亲", "国籍") => "母亲国籍",
            ("母亲", "民族") => "母亲民族",
            ("母亲", "证件") => "母亲有效身份证件",
            ("父亲", "姓名") => "父亲姓名",
            ("父亲", "年龄") => "父亲年龄",
            ("父亲", "国籍") => "父亲国籍",
            ("父亲", "民族") => "父亲民族",
            _ => "父亲有效身份证件",
        }
    };
    let mut out = vec![
        (label("姓名"), p.name.clone()),
        (label("年龄"), format!("{age}岁")),
        (label("国籍"), "中国".to_string()),
    ];
    if let Some(e) = held.and_then(|h| h.ethnicity.clone()) {
        out.push((label("民族"), e));
    }
    out.push((
        label("证件"),
        format!("居民身份证 {}", p.id_number.as_str()),
    ));
    out
}

/// Where the baby was born: the institution's county, and the class of the place.
pub fn place_of_birth(case: &Case) -> Vec<Fact> {
    let Some(i) = &case.shared().institution else {
        return vec![];
    };
    vec![
        ("出生地点", place(&i.county_code)),
        ("出生地点分类", "医院".to_string()),
        ("助产机构", i.name.clone()),
    ]
}
