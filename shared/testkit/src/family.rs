//! The synthetic families of the built-in sample registry (`docs/sample-registry.md`),
//! as application forms. Family A: married, Hangzhou Xihu, registering with the father.

use serde_json::{json, Value};

pub const FATHER_A: &str = "330106199001010130";
pub const MOTHER_A: &str = "330106199203040223";
/// Family B: a single mother, Ningbo.
pub const MOTHER_B: &str = "330203199506070426";
/// Family C: married, Wenzhou.
pub const FATHER_C: &str = "330302198808080157";
pub const MOTHER_C: &str = "330302198910100265";
/// Family D: the father's household is in Shanghai.
pub const FATHER_D: &str = "31010119870303011X";
pub const MOTHER_D: &str = "330106199009090286";
/// Family E: married, Hangzhou Shangcheng.
pub const FATHER_E: &str = "330102199102020172";
pub const MOTHER_E: &str = "330102199303030246";

/// Family G: married; their household record carries the retired county code 330104.
pub const FATHER_G: &str = "330104198707070138";
pub const MOTHER_G: &str = "330104198909090241";

/// A birth time `days` days ago, 08:30 in Asia/Shanghai.
pub fn born_days_ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .format("%Y-%m-%dT08:30:00+08:00")
        .to_string()
}

/// Family A's online form, the baby born `birth_time`: a girl, mailed results.
pub fn form_a_born(birth_time: &str) -> Value {
    json!({
        "channel": "zlb_app",
        "newborn": {
            "name": "王小溪",
            "sex": "female",
            "birth_time": birth_time,
            "hospital_code": "H330106001",
            "weight_g": 3250,
            "length_cm": 50,
            "gestational_weeks": 39,
            "ethnicity": "汉族",
        },
        "mother": {"name": "李梅", "id_number": MOTHER_A},
        "father": {"name": "王海", "id_number": FATHER_A},
        "household": {"register_with": "father"},
        "insurance": {"enrol_newborn": true, "maternity_benefit": true},
        "social_security_card": {"apply": true},
        "delivery": {"method": "mail", "address": "杭州市西湖区文三路 1 号", "pickup_site": null},
        "applicant": {
            "name": "王海",
            "id_number": FATHER_A,
            "relation": "father",
            "phone": "13800000000",
        },
    })
}

/// Family A's online form, the baby born two days ago.
pub fn form_a() -> Value {
    form_a_born(&born_days_ago(2))
}

/// The `i`-th of many applications for family A (load tests): each for a newborn of its
/// own (birth dates spread over `days` days, birth orders 1–9 of a ninefold birth), boys
/// and girls alternating, so numbers come from several sequences. Distinct for
/// `i < 9 * days`.
pub fn form_a_nth(i: usize, days: usize) -> Value {
    let mut f = form_a_born(&born_days_ago(1 + (i % days) as i64));
    f["newborn"]["sex"] = json!(if i.is_multiple_of(2) {
        "female"
    } else {
        "male"
    });
    f["newborn"]["birth_order"] = json!(1 + (i / days) % 9);
    f["newborn"]["multiple_birth"] = json!(9);
    f
}

/// The hospital's delivery record of the birth a form names (what `POST /v1/births`
/// takes), as the hospital's system would push it before the family applies.
pub fn birth_record(form: &Value) -> Value {
    let nb = &form["newborn"];
    json!({
        "institution_code": nb["hospital_code"],
        "mother_id_number": form["mother"]["id_number"],
        "birth_time": nb["birth_time"],
        "sex": nb["sex"],
        "birth_order": nb.get("birth_order").cloned().unwrap_or(json!(1)),
        "multiple_birth": nb.get("multiple_birth").cloned().unwrap_or(json!(1)),
        "weight_g": nb["weight_g"],
        "length_cm": nb["length_cm"],
        "gestational_weeks": nb["gestational_weeks"],
    })
}

/// Operator settings for load tests: one guardian submits many applications.
pub const LOAD_SETTINGS: &str =
    r#"{"max_applications_per_day": 1000000, "max_unfinished_cases": 1000000}"#;

/// The form with other parents: `father` (name, ID) applies, or without a father the
/// mother applies and the baby registers with her.
pub fn with_parents(mut f: Value, father: Option<(&str, &str)>, mother: (&str, &str)) -> Value {
    f["mother"] = json!({"name": mother.0, "id_number": mother.1});
    let applicant = |name: &str, id: &str, relation: &str| {
        json!({
            "name": name,
            "id_number": id,
            "relation": relation,
            "phone": "13900000000",
        })
    };
    match father {
        Some((n, id)) => {
            f["father"] = json!({"name": n, "id_number": id});
            f["applicant"] = applicant(n, id, "father");
        }
        None => {
            f["father"] = Value::Null;
            f["household"] = json!({"register_with": "mother"});
            f["applicant"] = applicant(mother.0, mother.1, "mother");
        }
    }
    f
}

/// The bytes of a small scanned PDF.
pub fn pdf_bytes() -> Vec<u8> {
    let mut b = b"%PDF-1.4\n% scanned material for tests\n".to_vec();
    b.extend(std::iter::repeat_n(b'x', 200));
    b.extend(b"\n%%EOF\n");
    b
}
