//! The shared vectors (copied into the project): working days and citizen ID numbers.

use chrono::NaiveDate;
use onething_domain::calendar::{Calendar, UnknownYearPolicy};
use onething_domain::idnum::{IdNumber, Sex};
use serde_json::Value;

#[test]
fn workday_vectors() {
    let v: Value = serde_json::from_str(include_str!("vectors/cn-workday-vectors.json")).unwrap();
    let cal = Calendar::builtin(UnknownYearPolicy::Refuse);
    let vectors = v["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 10);
    for t in vectors {
        let start: NaiveDate = t["start"].as_str().unwrap().parse().unwrap();
        let one: NaiveDate = t["plus_1_workday"].as_str().unwrap().parse().unwrap();
        let four: NaiveDate = t["plus_4_workdays"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            cal.is_workday(start).unwrap().0,
            t["start_is_workday"].as_bool().unwrap(),
            "{start}"
        );
        assert_eq!(cal.add_workdays(start, 1).unwrap().date, one, "{start} + 1");
        assert_eq!(
            cal.add_workdays(start, 4).unwrap().date,
            four,
            "{start} + 4"
        );
    }
}

#[test]
fn id_vectors() {
    let v: Value = serde_json::from_str(include_str!("vectors/id-number-vectors.json")).unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    for t in v["valid"].as_array().unwrap() {
        let n = t["number"].as_str().unwrap();
        let id = IdNumber::parse(n, today).unwrap_or_else(|e| panic!("{n}: {e}"));
        let sex = if t["sex"] == "male" {
            Sex::Male
        } else {
            Sex::Female
        };
        assert_eq!(id.sex(), sex, "{n}");
        assert_eq!(
            id.birth_date().to_string(),
            t["birth_date"].as_str().unwrap()
        );
        // Lower-case x and full-width digits normalise to the same number.
        let lower = n.replace('X', "x");
        assert_eq!(IdNumber::parse(&lower, today).unwrap(), id);
        let wide: String = n
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    char::from_u32(c as u32 + 0xFEE0).unwrap()
                } else {
                    c
                }
            })
            .collect();
        assert_eq!(IdNumber::parse(&format!(" {wide} "), today).unwrap(), id);
    }
    for t in v["invalid"].as_array().unwrap() {
        let n = t["number"].as_str().unwrap();
        assert!(
            IdNumber::parse(n, today).is_err(),
            "{n} should be invalid: {}",
            t["why"]
        );
    }
    // Not in the future.
    assert!(IdNumber::parse(
        "331002202602140031",
        NaiveDate::from_ymd_opt(2026, 2, 13).unwrap()
    )
    .is_err());
}
