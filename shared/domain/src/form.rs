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
    /// The county of the site (set from the operator's sites when the form is accepted;
    /// the service centre's region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    /// The site's id in the operator's list (set with `county`): who works there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    /// The site's name (set with `county`): what a family reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
}

impl Window {
    /// `杭州市西湖区行政服务中心 3号窗口`: the site by its name, the window by its number.
    pub fn name_zh(&self) -> String {
        let site = self.site_name.as_deref().unwrap_or(&self.site);
        format!("{site} {}号窗口", self.number.trim_end_matches("号窗口"))
    }
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
    /// 1 for a single birth; twins are two applications with orders 1 and 2.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub birth_order: u32,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub multiple_birth: u32,
}

impl Newborn {
    /// The date of birth in Beijing time, whatever offset the form was sent with: the
    /// date the ID number, the newborn's identity, the certificates and the deadlines
    /// carry.
    pub fn birth_date(&self) -> chrono::NaiveDate {
        self.birth_time
            .with_timezone(&crate::calendar::shanghai())
            .date_naive()
    }
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
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
    /// Hand-over at the window that took an offline application.
    Window,
}

impl DeliveryMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryMethod::Mail => "mail",
            DeliveryMethod::Pickup => "pickup",
            DeliveryMethod::Window => "window",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            DeliveryMethod::Mail => "邮寄",
            DeliveryMethod::Pickup => "自取",
            DeliveryMethod::Window => "窗口领取",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub method: DeliveryMethod,
    pub address: Option<String>,
    pub pickup_site: Option<String>,
    /// The pick-up site's name (set when the site is found in the operator's list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_site_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applicant {
    pub name: String,
    pub id_number: IdNumber,
    pub relation: Relation,
    pub phone: String,
}

/// Who the applicant is to the newborn (stored and sent as `father`, `mother` or
/// `guardian`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Father,
    Mother,
    /// Another guardian (at a window, with proof of guardianship).
    Guardian,
}

impl Relation {
    pub fn parse(s: &str) -> Option<Relation> {
        Some(match s {
            "father" => Relation::Father,
            "mother" => Relation::Mother,
            "guardian" => Relation::Guardian,
            _ => return None,
        })
    }
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
    /// The applicant's consent to gathering the family's records by data sharing (the
    /// consent step before the form). Absent on forms of clients that have no consent
    /// step: taken as given, as before there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
}

/// `consent: {"data_sharing": true, "at"}`: recorded on the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub data_sharing: bool,
    /// When the applicant consented (or declined); the server's time when not given.
    pub at: DateTime<FixedOffset>,
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
                    self.p.push(&field, "required", "此项为必填项");
                }
                None
            }
            Some(Value::Object(m)) => Some(m),
            Some(_) => {
                self.p.push(&field, "type", "格式不正确");
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
                self.p.push(&field, "required", "此项为必填项");
                None
            }
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.is_empty() {
                    self.p.push(&field, "required", "此项不能为空");
                    None
                } else if t.chars().count() > max {
                    self.p
                        .push(&field, "too_long", format!("最多 {max} 个字符"));
                    None
                } else if t.chars().any(|c| crate::text::is_forbidden(c, false)) {
                    self.p.push(
                        &field,
                        "control_character",
                        "不能包含控制字符或不可见的格式字符",
                    );
                    None
                } else {
                    Some(t.to_string())
                }
            }
            Some(_) => {
                self.p.push(&field, "type", "应为文本");
                None
            }
        }
    }

    /// A personal name ([`crate::text::valid_name`]).
    fn name(&mut self, parent: &Map<String, Value>, path: &str, key: &str) -> Option<String> {
        let v = self.text(parent, path, key, MAX_NAME)?;
        if crate::text::valid_name(&v) {
            Some(v)
        } else {
            self.p.push(
                &join(path, key),
                "name_format",
                "姓名应为汉字（少数民族姓名各部分之间用“·”分隔），外国人姓名用拉丁字母",
            );
            None
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
                self.p.push(&field, "required", "此项为必填项");
                None
            }
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.p.push(&field, "type", "应为是或否");
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
                self.p.push(&field, "required", "此项为必填项");
                None
            }
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if (lo..=hi).contains(&v) => Some(v as u32),
                _ => {
                    self.p
                        .push(&field, "range", format!("应为 {lo} 到 {hi} 之间的整数"));
                    None
                }
            },
            Some(_) => {
                self.p.push(&field, "type", "应为数字");
                None
            }
        }
    }

    /// An optional whole number: `None` when absent, `Some(None)` when invalid.
    fn opt_int(
        &mut self,
        parent: &Map<String, Value>,
        path: &str,
        key: &str,
        lo: u64,
        hi: u64,
    ) -> Option<Option<u32>> {
        match parent.get(key) {
            None | Some(Value::Null) => None,
            _ => Some(self.int(parent, path, key, lo, hi)),
        }
    }

    fn id(&mut self, parent: &Map<String, Value>, path: &str, key: &str) -> Option<IdNumber> {
        let field = join(path, key);
        let raw = self.text(parent, path, key, 40)?;
        match IdNumber::parse(&raw, self.today) {
            Ok(id) => Some(id),
            Err(e) => {
                self.p
                    .push(&field, e.code(), format!("不是有效的公民身份号码：{e}"));
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
            self.p.push(&field, "enum", "取值不在允许的范围内");
            None
        }
    }

    fn parent(&mut self, m: &Map<String, Value>, path: &str, expect: Sex) -> Option<Parent> {
        let name = self.name(m, path, "name");
        let id = self.id(m, path, "id_number");
        if let Some(id) = &id {
            if id.sex() != expect {
                self.p.push(
                    &join(path, "id_number"),
                    "sex",
                    format!(
                        "该号码属于{}，与{}不符",
                        if id.sex() == Sex::Male {
                            "男性"
                        } else {
                            "女性"
                        },
                        if expect == Sex::Male {
                            "父亲"
                        } else {
                            "母亲"
                        }
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

/// The parts of the form, each read with every problem it has.
impl Reader<'_> {
    /// The window an offline application was taken at (required offline, refused online).
    fn window(&mut self, root: &Map<String, Value>, channel: Option<Channel>) -> Option<Window> {
        let window = self.obj(root, "", "window", false).and_then(|m| {
            let site = self.text(m, "window", "site", MAX_TEXT);
            let number = self.text(m, "window", "number", 20);
            Some(Window {
                site: site?,
                number: number?,
                county: None,
                site_id: None,
                site_name: None,
            })
        });
        if let Some(c) = channel {
            let has_window = !matches!(root.get("window"), None | Some(Value::Null));
            if c.is_offline() && !has_window {
                self.p
                    .push("window", "required", "窗口受理的申请须填写受理窗口");
            }
            if !c.is_offline() && has_window {
                self.p
                    .push("window", "not_allowed", "网上申请不填写受理窗口");
            }
        }
        window
    }

    fn newborn(&mut self, m: &Map<String, Value>, now: DateTime<FixedOffset>) -> Option<Newborn> {
        let name = self.name(m, "newborn", "name");
        let sex = self
            .one_of(m, "newborn", "sex", &["male", "female"])
            .map(|s| if s == "male" { Sex::Male } else { Sex::Female });
        let birth_time = self
            .text(m, "newborn", "birth_time", 40)
            .and_then(|s| self.birth_time(&s, now));
        let hospital_code = self.text(m, "newborn", "hospital_code", 40);
        let weight_g = self.int(m, "newborn", "weight_g", 300, 8000);
        let length_cm = self.int(m, "newborn", "length_cm", 20, 75);
        let gestational_weeks = self.int(m, "newborn", "gestational_weeks", 20, 45);
        let ethnicity = self.text(m, "newborn", "ethnicity", 20);
        let birth_order = self
            .opt_int(m, "newborn", "birth_order", 1, 9)
            .unwrap_or(Some(1));
        let multiple_birth = self
            .opt_int(m, "newborn", "multiple_birth", 1, 9)
            .unwrap_or(Some(1));
        if let (Some(o), Some(n)) = (birth_order, multiple_birth) {
            if o > n {
                self.p
                    .push("newborn.birth_order", "range", "出生顺序不能大于同胎数");
            }
        }
        Some(Newborn {
            name: name?,
            sex: sex?,
            birth_time: birth_time?,
            hospital_code: hospital_code?,
            weight_g: weight_g?,
            length_cm: length_cm?,
            gestational_weeks: gestational_weeks?,
            ethnicity: ethnicity?,
            birth_order: birth_order?,
            multiple_birth: multiple_birth?,
        })
    }

    /// The birth time, not in the future, kept in Beijing time (a client's own offset
    /// never moves a date).
    fn birth_time(&mut self, s: &str, now: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
        match DateTime::parse_from_rfc3339(s) {
            Ok(t) if t > now => {
                self.p
                    .push("newborn.birth_time", "future", "出生时间不能晚于现在");
                None
            }
            Ok(t) => Some(t.with_timezone(&crate::calendar::shanghai())),
            Err(_) => {
                self.p.push(
                    "newborn.birth_time",
                    "format",
                    "出生时间格式应如 2026-11-28T08:30:00+08:00",
                );
                None
            }
        }
    }

    fn household(&mut self, root: &Map<String, Value>, father_present: bool) -> Option<Household> {
        let household = self.obj(root, "", "household", true).and_then(|m| {
            let w = self.one_of(m, "household", "register_with", &["father", "mother"])?;
            Some(Household {
                register_with: if w == "father" {
                    ParentRole::Father
                } else {
                    ParentRole::Mother
                },
            })
        });
        if household
            .as_ref()
            .is_some_and(|h| h.register_with == ParentRole::Father && !father_present)
        {
            self.p.push(
                "household.register_with",
                "no_father",
                "未填写父亲时只能随母落户",
            );
        }
        household
    }

    /// How the results reach the family (`online`: an online application, which cannot
    /// pick up at a window).
    fn delivery(&mut self, m: &Map<String, Value>, online: bool) -> Option<Delivery> {
        let method = self.one_of(m, "delivery", "method", &["mail", "pickup", "window"]);
        let address = self.opt_text(m, "delivery", "address", MAX_TEXT);
        let pickup_site = self.opt_text(m, "delivery", "pickup_site", MAX_TEXT);
        let method = match method?.as_str() {
            "mail" => {
                if address.is_none() && !self.p.0.iter().any(|p| p.field == "delivery.address") {
                    self.p
                        .push("delivery.address", "required", "选择邮寄时须填写邮寄地址");
                }
                DeliveryMethod::Mail
            }
            "window" => {
                if online {
                    self.p.push(
                        "delivery.method",
                        "window_offline_only",
                        "窗口领取仅适用于在窗口提出的申请，网上申请请选择邮寄或自取",
                    );
                }
                DeliveryMethod::Window
            }
            _ => {
                if pickup_site.is_none()
                    && !self.p.0.iter().any(|p| p.field == "delivery.pickup_site")
                {
                    self.p.push(
                        "delivery.pickup_site",
                        "required",
                        "选择自取时须填写领取地点",
                    );
                }
                DeliveryMethod::Pickup
            }
        };
        Some(Delivery {
            method,
            address,
            pickup_site,
            pickup_site_name: None,
        })
    }

    /// `consent: {"data_sharing", "at"?}` (the server's time when `at` is absent).
    fn consent(
        &mut self,
        root: &Map<String, Value>,
        now: DateTime<FixedOffset>,
    ) -> Option<Consent> {
        let m = self.obj(root, "", "consent", false)?;

        let data_sharing = self.boolean(m, "consent", "data_sharing")?;
        let at = match m.get("at") {
            None | Some(Value::Null) => now,
            Some(v) => match v.as_str().map(DateTime::parse_from_rfc3339) {
                Some(Ok(t)) if t <= now => t,
                _ => {
                    self.p
                        .push("consent.at", "format", "应为不晚于提交时间的日期时间");
                    return None;
                }
            },
        };
        Some(Consent { data_sharing, at })
    }

    fn applicant(&mut self, m: &Map<String, Value>) -> Option<Applicant> {
        let name = self.name(m, "applicant", "name");
        let id_number = self.id(m, "applicant", "id_number");
        let relation = self
            .one_of(m, "applicant", "relation", &RELATIONS)
            .and_then(|r| Relation::parse(&r));
        let phone = self.text(m, "applicant", "phone", 20).and_then(|p| {
            if valid_phone(&p) {
                Some(p)
            } else {
                self.p
                    .push("applicant.phone", "format", "应为 11 位中国大陆手机号码");
                None
            }
        });
        Some(Applicant {
            name: name?,
            id_number: id_number?,
            relation: relation?,
            phone: phone?,
        })
    }

    /// The applicant is the parent they say they are; online, only a parent applies.
    fn applicant_is_who_they_say(
        &mut self,
        a: &Applicant,
        mother: &Parent,
        father: Option<&Parent>,
        online: bool,
    ) {
        match a.relation {
            Relation::Mother if a.id_number != mother.id_number => self.p.push(
                "applicant.id_number",
                "relation_mismatch",
                "申请人关系为母亲，但身份证号码与母亲不一致",
            ),
            Relation::Father if father.map(|f| &f.id_number) != Some(&a.id_number) => self.p.push(
                "applicant.id_number",
                "relation_mismatch",
                "申请人关系为父亲，但身份证号码与父亲不一致",
            ),
            Relation::Guardian if online => self.p.push(
                "applicant.relation",
                "parent_required_online",
                "网上申请须由新生儿父亲或母亲本人提出；其他监护人请携带监护证明到窗口办理",
            ),
            _ => {}
        }
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
    /// The form as the catalogue's situation conditions read it: its JSON with the values
    /// a form may leave out at their defaults (a single birth: birth order 1 of 1), so a
    /// condition can name them.
    pub fn condition_view(&self) -> Value {
        let mut v = serde_json::to_value(self).expect("serialises");
        v["newborn"]["birth_order"] = self.newborn.birth_order.into();
        v["newborn"]["multiple_birth"] = self.newborn.multiple_birth.into();
        v
    }

    /// Parse and validate the form. `now` is the submission instant (for "not in the future").
    pub fn parse(v: &Value, now: DateTime<FixedOffset>) -> Result<Form, Vec<Problem>> {
        let Some(root) = v.as_object() else {
            return Err(vec![Problem::new("", "type", "登记表格式不正确")]);
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
        let window = r.window(root, channel);
        let newborn = r
            .obj(root, "", "newborn", true)
            .and_then(|m| r.newborn(m, now));
        let mother = r
            .obj(root, "", "mother", true)
            .and_then(|m| r.parent(m, "mother", Sex::Female));
        let father_present = !matches!(root.get("father"), None | Some(Value::Null));
        let father = r
            .obj(root, "", "father", false)
            .and_then(|m| r.parent(m, "father", Sex::Male));
        let household = r.household(root, father_present);
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
        let online = channel.is_some_and(|c| !c.is_offline());
        let delivery = r
            .obj(root, "", "delivery", online)
            .and_then(|m| r.delivery(m, online));
        let applicant = r
            .obj(root, "", "applicant", true)
            .and_then(|m| r.applicant(m));
        let consent = r.consent(root, now);
        if let (Some(a), Some(m)) = (&applicant, &mother) {
            r.applicant_is_who_they_say(a, m, father.as_ref(), online);
        }
        if let (Some(nb), Some(m)) = (&newborn, &mother) {
            if m.id_number.birth_date() >= nb.birth_date() {
                r.p.push(
                    "mother.id_number",
                    "birth_order",
                    "母亲的出生日期应早于新生儿",
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
            consent,
        })
    }

    /// Whether the family's records may be gathered by data sharing (the applicant did not
    /// decline it); without it, acceptance asks for every material by upload.
    pub fn shares_data(&self) -> bool {
        self.consent.as_ref().is_none_or(|c| c.data_sharing)
    }

    /// The digest of [`Form::newborn_key`] a store claims the newborn under.
    pub fn newborn_claim(&self) -> String {
        newborn_claim_of(
            self.mother.id_number.as_str(),
            self.newborn.birth_date(),
            self.newborn.birth_order,
        )
    }

    /// The newborn's identity: mother's ID number, birth date in Asia/Shanghai, birth order.
    pub fn newborn_key(&self) -> String {
        newborn_key_of(
            self.mother.id_number.as_str(),
            self.newborn.birth_date(),
            self.newborn.birth_order,
        )
    }

    /// The form as the API shows it.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("form serialises")
    }

    /// Apply corrections (a JSON merge patch, RFC 7386) and validate the result again.
    /// The fields that identify the application ([`IMMUTABLE`]) cannot be changed.
    pub fn corrected(
        &self,
        corrections: &Value,
        now: DateTime<FixedOffset>,
    ) -> Result<Form, Vec<Problem>> {
        let Some(_) = corrections.as_object() else {
            return Err(vec![Problem::new(
                "corrections",
                "type",
                "更正内容格式不正确",
            )]);
        };
        let before = self.to_json();
        let mut doc = before.clone();
        merge_patch(&mut doc, corrections);
        let problems: Vec<Problem> = IMMUTABLE
            .iter()
            .filter(|path| pointer(&before, path) != pointer(&doc, path))
            .map(|path| {
                Problem::new(
                    format!("corrections.{path}"),
                    "immutable",
                    "此项用于识别本次申请，不能更正；如确需修改，请撤回申请后重新申请",
                )
            })
            .collect();
        if !problems.is_empty() {
            return Err(problems);
        }
        Form::parse(&doc, now)
    }

    /// The fields a correction changed, as dotted paths of the form's JSON.
    pub fn changed_fields(&self, other: &Form) -> Vec<String> {
        let mut out = vec![];
        diff(&self.to_json(), &other.to_json(), "", &mut out);
        out
    }
}

/// Fields that identify an application (or its applicant): a correction cannot change them.
pub const IMMUTABLE: [&str; 7] = [
    "channel",
    "window",
    "mother.id_number",
    "newborn.birth_time",
    "newborn.birth_order",
    "applicant.id_number",
    "applicant.relation",
];

fn pointer<'v>(v: &'v Value, dotted: &str) -> Option<&'v Value> {
    let p = format!("/{}", dotted.replace('.', "/"));
    v.pointer(&p).filter(|x| !x.is_null())
}

fn diff(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let null = Value::Null;
                diff(
                    x.get(k).unwrap_or(&null),
                    y.get(k).unwrap_or(&null),
                    &join(path, k),
                    out,
                );
            }
        }
        _ if a != b => out.push(path.to_string()),
        _ => {}
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

/// A newborn's identity: the mother's ID number, the Beijing birth date, the birth order.
pub fn newborn_key_of(mother_id: &str, birth_date: chrono::NaiveDate, birth_order: u32) -> String {
    format!("{mother_id}:{}:{birth_order}", birth_date.format("%Y%m%d"))
}

/// The digest of [`newborn_key_of`] a store claims the newborn under.
pub fn newborn_claim_of(
    mother_id: &str,
    birth_date: chrono::NaiveDate,
    birth_order: u32,
) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(newborn_key_of(mother_id, birth_date, birth_order).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
