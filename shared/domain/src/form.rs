//! The registration form (《浙江省出生"一件事"办理登记表》), parsed and validated at the edge.
//!
//! [`Form::parse`] reads the JSON of `POST /v1/applications` and reports **every** problem
//! at once, each with its field path.

use crate::flow::Channel;
use crate::idnum::{IdNumber, Sex};
use crate::problem::{Problem, Problems};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub site: String,
    pub number: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Newborn {
    pub name: String,
    pub sex: Sex,
    pub birth_time: DateTime<FixedOffset>,
    pub hospital_code: String,
    pub weight_g: u32,
    pub length_cm: u32,
    pub gestational_weeks: u32,
    pub ethnicity: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parent {
    pub name: String,
    pub id_number: IdNumber,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParentRole {
    Father,
    Mother,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Household {
    pub register_with: ParentRole,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Insurance {
    pub enrol_newborn: bool,
    pub maternity_benefit: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardRequest {
    pub apply: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMethod {
    Mail,
    Pickup,
}

impl DeliveryMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryMethod::Mail => "mail",
            DeliveryMethod::Pickup => "pickup",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub method: DeliveryMethod,
    pub address: Option<String>,
    pub pickup_site: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applicant {
    pub name: String,
    pub id_number: IdNumber,
    pub relation: String,
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub channel: Channel,
    pub window: Option<Window>,
    pub newborn: Newborn,
    pub mother: Parent,
    pub father: Option<Parent>,
    pub household: Household,
    pub insurance: Insurance,
    pub social_security_card: CardRequest,
    pub delivery: Option<Delivery>,
    pub applicant: Applicant,
}

pub const RELATIONS: [&str; 3] = ["father", "mother", "guardian"];
const MAX_NAME: usize = 50;
const MAX_TEXT: usize = 200;

struct Reader<'a> {
    p: Problems,
    today: NaiveDate,
    _root: &'a Value,
}

impl<'a> Reader<'a> {
    fn obj<'v>(
        &mut self,
        parent: &'v Map<String, Value>,
        path: &str,
        key: &str,
        required: bool,
    ) -> Option<&'v Map<String, Value>> {
        let field = join(path, key);
        match parent.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.p.push(&field, "required", "is required");
                }
                None
            }
            Some(Value::Object(m)) => Some(m),
            Some(_) => {
                self.p.push(&field, "type", "must be an object");
                None
            }
        }
    }

    fn text(
        &mut self,
        parent: &Map<String, Value>,
        path: &str,
        key: &str,
        max: usize,
    ) -> Option<String> {
        let field = join(path, key);
        match parent.get(key) {
            None | Some(Value::Null) => {
                self.p.push(&field, "required", "is required");
                None
            }
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.is_empty() {
                    self.p.push(&field, "required", "must not be empty");
                    None
                } else if t.chars().count() > max {
                    self.p
                        .push(&field, "too_long", format!("at most {max} characters"));
                    None
                } else if t.chars().any(char::is_control) {
                    self.p.push(
                        &field,
                        "control_character",
                        "must not contain control characters",
                    );
                    None
                } else {
                    Some(t.to_string())
                }
            }
            Some(_) => {
                self.p.push(&field, "type", "must be a string");
                None
            }
        }
    }

    fn opt_text(
        &mut self,
        parent: &Map<String, Value>,
        path: &str,
        key: &str,
        max: usize,
    ) -> Option<String> {
        match parent.get(key) {
            None | Some(Value::Null) => None,
            _ => self.text(parent, path, key, max),
        }
    }

    fn boolean(&mut self, parent: &Map<String, Value>, path: &str, key: &str) -> Option<bool> {
        let field = join(path, key);
        match parent.get(key) {
            None | Some(Value::Null) => {
                self.p.push(&field, "required", "is required");
                None
            }
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.p.push(&field, "type", "must be true or false");
                None
            }
        }
    }

    fn int(
        &mut self,
        parent: &Map<String, Value>,
        path: &str,
        key: &str,
        lo: u64,
        hi: u64,
    ) -> Option<u32> {
        let field = join(path, key);
        match parent.get(key) {
            None | Some(Value::Null) => {
                self.p.push(&field, "required", "is required");
                None
            }
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if (lo..=hi).contains(&v) => Some(v as u32),
                _ => {
                    self.p.push(
                        &field,
                        "range",
                        format!("must be a whole number from {lo} to {hi}"),
                    );
                    None
                }
            },
            Some(_) => {
                self.p.push(&field, "type", "must be a number");
                None
            }
        }
    }

    fn id(&mut self, parent: &Map<String, Value>, path: &str, key: &str) -> Option<IdNumber> {
        let field = join(path, key);
        let raw = self.text(parent, path, key, 40)?;
        match IdNumber::parse(&raw, self.today) {
            Ok(id) => Some(id),
            Err(e) => {
                self.p.push(
                    &field,
                    e.code(),
                    format!("not a valid citizen ID number: {e}"),
                );
                None
            }
        }
    }

    fn one_of(
        &mut self,
        parent: &Map<String, Value>,
        path: &str,
        key: &str,
        allowed: &[&str],
    ) -> Option<String> {
        let field = join(path, key);
        let v = self.text(parent, path, key, 40)?;
        if allowed.contains(&v.as_str()) {
            Some(v)
        } else {
            self.p.push(
                &field,
                "enum",
                format!("must be one of: {}", allowed.join(", ")),
            );
            None
        }
    }

    fn parent(&mut self, m: &Map<String, Value>, path: &str, expect: Sex) -> Option<Parent> {
        let name = self.text(m, path, "name", MAX_NAME);
        let id = self.id(m, path, "id_number");
        if let Some(id) = &id {
            if id.sex() != expect {
                self.p.push(
                    &join(path, "id_number"),
                    "sex",
                    format!(
                        "the number is a {}'s, but this is the {path}",
                        id.sex().as_str()
                    ),
                );
            }
        }
        Some(Parent {
            name: name?,
            id_number: id?,
        })
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn valid_phone(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
}

impl Form {
    /// Parse and validate the form. `now` is the submission instant (for "not in the future").
    pub fn parse(v: &Value, now: DateTime<FixedOffset>) -> Result<Form, Vec<Problem>> {
        let Some(root) = v.as_object() else {
            return Err(vec![Problem::new(
                "",
                "type",
                "the form must be a JSON object",
            )]);
        };
        let mut r = Reader {
            p: Problems::default(),
            today: now.date_naive(),
            _root: v,
        };

        let channel = r
            .one_of(
                root,
                "",
                "channel",
                &["zlb_app", "zj_web", "service_center", "hospital"],
            )
            .and_then(|c| Channel::parse(&c));

        let window = match r.obj(root, "", "window", false) {
            Some(m) => {
                let site = r.text(m, "window", "site", MAX_TEXT);
                let number = r.text(m, "window", "number", 20);
                match (site, number) {
                    (Some(site), Some(number)) => Some(Window { site, number }),
                    _ => None,
                }
            }
            None => None,
        };
        if let Some(c) = channel {
            let has_window = !matches!(root.get("window"), None | Some(Value::Null));
            if c.is_offline() && !has_window {
                r.p.push(
                    "window",
                    "required",
                    "is required for the service_center and hospital channels",
                );
            }
            if !c.is_offline() && has_window {
                r.p.push(
                    "window",
                    "not_allowed",
                    "must be absent for online channels",
                );
            }
        }

        let newborn = r.obj(root, "", "newborn", true).and_then(|m| {
            let name = r.text(m, "newborn", "name", MAX_NAME);
            let sex = r.one_of(m, "newborn", "sex", &["male", "female"]).map(|s| {
                if s == "male" {
                    Sex::Male
                } else {
                    Sex::Female
                }
            });
            let birth_time = r.text(m, "newborn", "birth_time", 40).and_then(|s| {
                match DateTime::parse_from_rfc3339(&s) {
                    Ok(t) if t > now => {
                        r.p.push("newborn.birth_time", "future", "must not be in the future");
                        None
                    }
                    Ok(t) => Some(t),
                    Err(_) => {
                        r.p.push(
                            "newborn.birth_time",
                            "format",
                            "must be an RFC 3339 time with offset",
                        );
                        None
                    }
                }
            });
            let hospital_code = r.text(m, "newborn", "hospital_code", 40);
            let weight_g = r.int(m, "newborn", "weight_g", 300, 8000);
            let length_cm = r.int(m, "newborn", "length_cm", 20, 75);
            let gestational_weeks = r.int(m, "newborn", "gestational_weeks", 20, 45);
            let ethnicity = r.text(m, "newborn", "ethnicity", 20);
            Some(Newborn {
                name: name?,
                sex: sex?,
                birth_time: birth_time?,
                hospital_code: hospital_code?,
                weight_g: weight_g?,
                length_cm: length_cm?,
                gestational_weeks: gestational_weeks?,
                ethnicity: ethnicity?,
            })
        });

        let mother = r
            .obj(root, "", "mother", true)
            .and_then(|m| r.parent(m, "mother", Sex::Female));
        let father_present = !matches!(root.get("father"), None | Some(Value::Null));
        let father = r
            .obj(root, "", "father", false)
            .and_then(|m| r.parent(m, "father", Sex::Male));

        let household = r.obj(root, "", "household", true).and_then(|m| {
            let w = r.one_of(m, "household", "register_with", &["father", "mother"])?;
            Some(Household {
                register_with: if w == "father" {
                    ParentRole::Father
                } else {
                    ParentRole::Mother
                },
            })
        });
        if let Some(h) = &household {
            if h.register_with == ParentRole::Father && !father_present {
                r.p.push(
                    "household.register_with",
                    "no_father",
                    "must be mother when no father is named",
                );
            }
        }

        let insurance = r.obj(root, "", "insurance", true).and_then(|m| {
            let enrol_newborn = r.boolean(m, "insurance", "enrol_newborn");
            let maternity_benefit = r.boolean(m, "insurance", "maternity_benefit");
            Some(Insurance {
                enrol_newborn: enrol_newborn?,
                maternity_benefit: maternity_benefit?,
            })
        });
        let social_security_card = r.obj(root, "", "social_security_card", true).and_then(|m| {
            r.boolean(m, "social_security_card", "apply")
                .map(|apply| CardRequest { apply })
        });

        let delivery_required = channel.map(|c| !c.is_offline()).unwrap_or(false);
        let delivery = r
            .obj(root, "", "delivery", delivery_required)
            .and_then(|m| {
                let method = r.one_of(m, "delivery", "method", &["mail", "pickup"]);
                let address = r.opt_text(m, "delivery", "address", MAX_TEXT);
                let pickup_site = r.opt_text(m, "delivery", "pickup_site", MAX_TEXT);
                let method = match method?.as_str() {
                    "mail" => {
                        if address.is_none() && !r.p.0.iter().any(|p| p.field == "delivery.address")
                        {
                            r.p.push(
                                "delivery.address",
                                "required",
                                "is required for mail delivery",
                            );
                        }
                        DeliveryMethod::Mail
                    }
                    _ => {
                        if pickup_site.is_none()
                            && !r.p.0.iter().any(|p| p.field == "delivery.pickup_site")
                        {
                            r.p.push(
                                "delivery.pickup_site",
                                "required",
                                "is required for pick-up",
                            );
                        }
                        DeliveryMethod::Pickup
                    }
                };
                Some(Delivery {
                    method,
                    address,
                    pickup_site,
                })
            });

        let applicant = r.obj(root, "", "applicant", true).and_then(|m| {
            let name = r.text(m, "applicant", "name", MAX_NAME);
            let id_number = r.id(m, "applicant", "id_number");
            let relation = r.one_of(m, "applicant", "relation", &RELATIONS);
            let phone = r.text(m, "applicant", "phone", 20).and_then(|p| {
                if valid_phone(&p) {
                    Some(p)
                } else {
                    r.p.push(
                        "applicant.phone",
                        "format",
                        "must be an 11-digit mainland mobile number",
                    );
                    None
                }
            });
            Some(Applicant {
                name: name?,
                id_number: id_number?,
                relation: relation?,
                phone: phone?,
            })
        });

        // Cross-field rules that need the parsed parts.
        if let (Some(a), Some(m)) = (&applicant, &mother) {
            let f = father.as_ref();
            match a.relation.as_str() {
                "mother" if a.id_number != m.id_number => r.p.push(
                    "applicant.id_number",
                    "relation_mismatch",
                    "the applicant says they are the mother but the number is not the mother's",
                ),
                "father" if f.map(|f| &f.id_number) != Some(&a.id_number) => r.p.push(
                    "applicant.id_number",
                    "relation_mismatch",
                    "the applicant says they are the father but the number is not the father's",
                ),
                _ => {}
            }
        }
        if let (Some(nb), Some(m)) = (&newborn, &mother) {
            if m.id_number.birth_date() >= nb.birth_time.date_naive() {
                r.p.push(
                    "mother.id_number",
                    "birth_order",
                    "the mother must be born before the newborn",
                );
            }
        }

        if !r.p.is_empty() {
            return Err(r.p.0);
        }
        Ok(Form {
            channel: channel.expect("no problems"),
            window,
            newborn: newborn.expect("no problems"),
            mother: mother.expect("no problems"),
            father,
            household: household.expect("no problems"),
            insurance: insurance.expect("no problems"),
            social_security_card: social_security_card.expect("no problems"),
            delivery,
            applicant: applicant.expect("no problems"),
        })
    }

    /// The form as the API shows it.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("form serialises")
    }

    /// Apply corrections (a JSON merge patch, RFC 7386) and validate the result again.
    /// The channel and the window cannot be changed by a correction.
    pub fn corrected(
        &self,
        corrections: &Value,
        now: DateTime<FixedOffset>,
    ) -> Result<Form, Vec<Problem>> {
        let Some(c) = corrections.as_object() else {
            return Err(vec![Problem::new(
                "corrections",
                "type",
                "must be an object",
            )]);
        };
        let mut problems = Vec::new();
        for key in ["channel", "window"] {
            if c.contains_key(key) {
                problems.push(Problem::new(
                    format!("corrections.{key}"),
                    "immutable",
                    "cannot be corrected; apply again instead",
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut doc = self.to_json();
        merge_patch(&mut doc, corrections);
        Form::parse(&doc, now)
    }
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}
