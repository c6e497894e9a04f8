//! Property tests: the ID validator and the form parser never panic, accept what they
//! should, and masks never reveal a whole number.

use chrono::{DateTime, NaiveDate};
use onething_domain::idnum::{mask_id, mask_phone, IdNumber, Sex};
use onething_domain::Form;
use proptest::prelude::*;
use serde_json::{json, Value};

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,24}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn valid_form() -> Value {
    json!({
        "channel": "zlb_app",
        "newborn": {"name": "王小溪", "sex": "female", "birth_time": "2026-11-28T08:30:00+08:00", "hospital_code": "H330106001",
                    "weight_g": 3250, "length_cm": 50, "gestational_weeks": 39, "ethnicity": "汉族"},
        "mother": {"name": "李梅", "id_number": "330106199203040223"},
        "father": {"name": "王海", "id_number": "330106199001010130"},
        "household": {"register_with": "father"},
        "insurance": {"enrol_newborn": true, "maternity_benefit": true},
        "social_security_card": {"apply": true},
        "delivery": {"method": "mail", "address": "杭州市西湖区文三路 1 号", "pickup_site": null},
        "applicant": {"name": "王海", "id_number": "330106199001010130", "relation": "father", "phone": "13800000000"}
    })
}

fn now() -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-30T10:00:00+08:00").unwrap()
}

const PATHS: [&str; 14] = [
    "channel",
    "newborn.name",
    "newborn.sex",
    "newborn.birth_time",
    "newborn.weight_g",
    "mother.id_number",
    "mother",
    "father",
    "household.register_with",
    "insurance.enrol_newborn",
    "delivery",
    "applicant.phone",
    "applicant.relation",
    "window",
];

proptest! {
    #[test]
    fn id_parse_never_panics(s in "\\PC{0,30}") {
        let _ = IdNumber::parse(&s, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
    }

    #[test]
    fn assembled_numbers_are_valid(
        county in prop::sample::select(vec!["330106", "330203", "331002", "330102"]),
        days in 0i64..20000,
        male in any::<bool>(),
        ordinal in 1u32..=499,
    ) {
        let birth = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(days);
        let sex = if male { Sex::Male } else { Sex::Female };
        let id = IdNumber::assemble(county, birth, sex, ordinal).unwrap();
        let today = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
        let parsed = IdNumber::parse(id.as_str(), today).unwrap();
        prop_assert_eq!(parsed.sex(), sex);
        prop_assert_eq!(parsed.birth_date(), birth);
        prop_assert_eq!(parsed.address_code(), county);
        // Distinct ordinals give distinct numbers.
        if ordinal > 1 {
            prop_assert_ne!(IdNumber::assemble(county, birth, sex, ordinal - 1).unwrap(), id);
        }
    }

    #[test]
    fn masks_hide_the_middle(digits in "[0-9]{17}[0-9X]", phone in "1[3-9][0-9]{9}") {
        // Only the first three and the last two characters of an ID number survive.
        prop_assert_eq!(mask_id(&digits), format!(
            "{}{}{}",
            &digits[..3],
            "*".repeat(13),
            &digits[16..],
        ));
        // Only the first three and the last four digits of a phone number survive.
        prop_assert_eq!(mask_phone(&phone), format!("{}****{}", &phone[..3], &phone[7..]));
    }

    #[test]
    fn form_parse_never_panics_on_any_json(v in any_json()) {
        let _ = Form::parse(&v, now());
    }

    #[test]
    fn a_broken_field_is_reported_by_path(i in 0..PATHS.len(), junk in any_json()) {
        let mut v = valid_form();
        let path = PATHS[i];
        let mut parts: Vec<&str> = path.split('.').collect();
        let last = parts.pop().unwrap();
        let mut cur = &mut v;
        for p in parts {
            cur = cur.get_mut(p).unwrap();
        }
        cur[last] = junk;
        match Form::parse(&v, now()) {
            Ok(_) => {}
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                // Every problem names a field; none echoes an ID number.
                for p in &problems {
                    prop_assert!(!p.message.contains("330106199203040223"));
                }
            }
        }
    }
}
