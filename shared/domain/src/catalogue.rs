//! The 一件事 catalogue (standard 5.1) as data: bundles (主项) of situations (情形项),
//! each situation naming its single items (单个办事事项) in order with their unit, queue,
//! time limit, materials, results and what a correction of each form field sends back
//! to. The operator keeps it up to date (动态管理: `onething catalogue check | diff |
//! apply | history`); a case is pinned to the version it was accepted under ([`Plan`]).
//!
//! A bundle whose items are all the engine's department steps (the `steps` module) runs
//! on them: its items are some of those steps, in the flow's order, from acceptance to
//! the hand-over, each with its unit, queue and results (the code that issues them);
//! names, time limits, materials, situations and the correction table are data, so such
//! a bundle (出生 itself, or a 子项 of it) needs no code. The birth bundle must be one.
//! Other bundles may be listed (their 办事指南 is served) before an engine runs them.

use crate::flow::{self, Dept, Step, TimeLimit};
use crate::problem::{Problem, Problems};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The catalogue shipped with the system (version 1, in force until an operator
/// applies another): `shared/domain/catalogue/catalogue.json`, schema beside it.
pub const BUILTIN_JSON: &str = include_str!("../catalogue/catalogue.json");
/// The JSON Schema of a catalogue file.
pub const SCHEMA_JSON: &str = include_str!("../catalogue/schema.json");
/// The version of the built-in catalogue.
pub const BUILTIN_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// Ignored when a file is applied (the store numbers versions); present in what
    /// `GET /v1/catalogue` serves, so that its output can be edited and applied again.
    #[serde(default, skip_serializing)]
    pub version: Option<u32>,
    pub bundles: Vec<Bundle>,
}

/// A 主项 (e.g. 出生一件事).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub bundle_id: String,
    /// The life-cycle stage (生命周期阶段), e.g. 出生, 身后.
    pub stage: String,
    pub name: String,
    /// The lead unit (牵头单位), a unit code.
    pub lead_unit: String,
    /// Every responsible unit (the lead unit and the 协同单位).
    pub units: Vec<String>,
    /// The bundle's promise to the family: done within this many working days of
    /// acceptance.
    pub promise_working_days: u32,
    pub situations: Vec<Situation>,
}

/// A 情形项: the items that apply when every condition of `when` holds for the form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Situation {
    pub situation_id: String,
    pub name: String,
    /// All must hold (none: always).
    #[serde(default)]
    pub when: Vec<Condition>,
    pub items: Vec<Item>,
}

/// A form field (dotted path) equal to a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    pub equals: Value,
}

/// A single item (单个办事事项) as the catalogue names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub item_id: String,
    pub name: String,
    /// The responsible unit's code.
    pub unit: String,
    /// The queue (and function) that performs it.
    pub queue: String,
    /// Working days from the item's start; null: within the bundle's promise (the last
    /// item, the hand-over).
    pub working_days: Option<u32>,
    /// `"immediate"`: done the same day when applied for at a window (即办).
    #[serde(default)]
    pub at_window: Option<AtWindow>,
    /// Online, `"own"`: the unit hands over its documents as soon as its item is done
    /// (各自出件); `"unified"` or none: with the unified issuance. Offline, the accepting
    /// unit hands everything over at the end.
    #[serde(default)]
    pub hand_over: Option<HandOver>,
    /// The standard's matters (事项) the item covers.
    #[serde(default)]
    pub matters: Vec<String>,
    pub materials: Vec<Material>,
    pub results: Vec<String>,
    /// Form fields (a field, or every field under a prefix) whose correction sends the
    /// case back to this item (the earliest item that names one).
    #[serde(default)]
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AtWindow {
    Immediate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandOver {
    /// 各自出件: the unit hands over its own documents when its item is done.
    Own,
    /// With the unified issuance (统一出件).
    Unified,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    pub kind: String,
    pub name: String,
    /// The data-sharing source that provides it (null: the family provides it).
    pub source: Option<String>,
    /// A written commitment (书面告知承诺书) may stand in for it.
    pub commitment_allowed: bool,
}

/// A catalogue as a version of the store holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Version {
    pub version: u32,
    pub applied_at: String,
    /// Who applied it (`builtin` for the shipped one).
    pub applied_by: String,
    pub catalogue: Catalogue,
}

impl Version {
    /// The shipped catalogue as version 1.
    pub fn builtin() -> Version {
        Version {
            version: BUILTIN_VERSION,
            applied_at: String::new(),
            applied_by: "builtin".into(),
            catalogue: Catalogue::builtin(),
        }
    }
    /// What `GET /v1/catalogue` serves.
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(&self.catalogue).expect("serialises");
        v["version"] = self.version.into();
        v
    }
}

impl Catalogue {
    pub fn builtin() -> Catalogue {
        static SHIPPED: std::sync::OnceLock<Catalogue> = std::sync::OnceLock::new();
        SHIPPED
            .get_or_init(|| Catalogue::parse(BUILTIN_JSON).expect("the shipped catalogue is valid"))
            .clone()
    }

    /// Read and check a catalogue file: every problem at once (none: valid).
    pub fn parse(text: &str) -> Result<Catalogue, Vec<Problem>> {
        let c: Catalogue = serde_json::from_str(text).map_err(|e| {
            vec![Problem::new(
                format!("line {}", e.line()),
                "unreadable",
                format!("目录文件无法读取（第 {} 行）：{e}", e.line()),
            )]
        })?;
        let problems = c.check();
        if problems.is_empty() {
            Ok(c)
        } else {
            Err(problems)
        }
    }

    pub fn bundle(&self, bundle_id: &str) -> Option<&Bundle> {
        self.bundles.iter().find(|b| b.bundle_id == bundle_id)
    }

    /// Every problem with the catalogue, each with its path, a machine code and a
    /// sentence for the operator.
    pub fn check(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        if !self.bundles.iter().any(|b| b.bundle_id == "birth") {
            p.push(
                "bundles",
                "birth_missing",
                "目录须包含出生一件事（bundle_id 为 birth）",
            );
        }
        let mut seen = vec![];
        for (i, b) in self.bundles.iter().enumerate() {
            let at = format!("bundles[{i}]");
            if seen.contains(&b.bundle_id.as_str()) {
                p.push(
                    &at,
                    "duplicate_bundle",
                    format!("主项编号 {} 重复", b.bundle_id),
                );
            }
            seen.push(&b.bundle_id);
            check_bundle(b, &at, &mut p);
        }
        p.0
    }

    /// What changed from `self` to `new`, field by field (arrays of objects with an id
    /// are matched by id).
    pub fn diff(&self, new: &Catalogue) -> Vec<Change> {
        let mut out = vec![];
        diff_values(
            "",
            &serde_json::to_value(self).expect("serialises"),
            &serde_json::to_value(new).expect("serialises"),
            &mut out,
        );
        out
    }

    /// The plan of a new case of `bundle_id` under this catalogue (version `version`):
    /// the first situation whose conditions the form meets.
    pub fn plan(&self, version: u32, bundle_id: &str, form: &Value) -> Option<Plan> {
        let b = self.bundle(bundle_id)?;
        let s = b.situations.iter().find(|s| {
            s.when
                .iter()
                .all(|c| field(form, &c.field) == Some(&c.equals))
        })?;
        let items = s
            .items
            .iter()
            .map(|i| {
                Some(PlannedItem {
                    step: Step::parse(&i.item_id)?,
                    working_days: i.working_days,
                    at_window: i.at_window,
                    hand_over: i.hand_over,
                    depends_on: i.depends_on.clone(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let commitment_allowed = s
            .items
            .iter()
            .flat_map(|i| &i.materials)
            .filter(|m| m.commitment_allowed)
            .map(|m| m.kind.clone())
            .collect();
        Some(Plan {
            bundle: b.bundle_id.clone(),
            bundle_name: b.name.clone(),
            catalogue_version: version,
            situation: s.situation_id.clone(),
            promise_working_days: b.promise_working_days,
            items,
            commitment_allowed: Some(commitment_allowed),
        })
    }
}

fn field<'a>(form: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(form, |v, k| v.get(k))
}

/// Units a catalogue may name besides the engine's departments (for bundles no engine
/// runs yet).
pub const OTHER_UNITS: [(&str, &str); 1] = [("civil_affairs", "民政部门")];

/// A unit's name for people, if the code is known.
pub fn unit_name(code: &str) -> Option<&'static str> {
    Dept::parse(code).map(Dept::name_zh).or_else(|| {
        OTHER_UNITS
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, name)| *name)
    })
}

fn check_bundle(b: &Bundle, at: &str, p: &mut Problems) {
    let id_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if !id_ok(&b.bundle_id) {
        p.push(
            &format!("{at}.bundle_id"),
            "bad_id",
            "主项编号只能由小写字母、数字和下划线组成",
        );
    }
    for (f, v) in [("stage", &b.stage), ("name", &b.name)] {
        if v.trim().is_empty() {
            p.push(&format!("{at}.{f}"), "required", "不能为空");
        }
    }
    for (j, u) in b.units.iter().enumerate() {
        if unit_name(u).is_none() {
            p.push(
                &format!("{at}.units[{j}]"),
                "unknown_unit",
                format!("未知的单位编码 {u}"),
            );
        }
    }
    if !b.units.contains(&b.lead_unit) {
        p.push(
            &format!("{at}.lead_unit"),
            "lead_unit_not_listed",
            "牵头单位须列在责任单位（units）之中",
        );
    }
    if b.promise_working_days == 0 || b.promise_working_days > 60 {
        p.push(
            &format!("{at}.promise_working_days"),
            "bad_limit",
            "承诺办结时限须为 1 至 60 个工作日",
        );
    }
    if b.situations.is_empty() {
        p.push(
            &format!("{at}.situations"),
            "required",
            "主项须至少有一个情形",
        );
    }
    if b.situations.last().is_some_and(|s| !s.when.is_empty()) {
        p.push(
            &format!("{at}.situations"),
            "no_fallback",
            "最后一个情形须不带条件（when 为空），使每份申请都有情形可循",
        );
    }
    let mut ids = vec![];
    for (k, s) in b.situations.iter().enumerate() {
        let sat = format!("{at}.situations[{k}]");
        if ids.contains(&s.situation_id.as_str()) || !id_ok(&s.situation_id) {
            p.push(
                &format!("{sat}.situation_id"),
                "bad_id",
                format!("情形编号 {} 重复或含有不允许的字符", s.situation_id),
            );
        }
        ids.push(&s.situation_id);
        check_situation(b, s, &sat, p);
    }
}

fn check_situation(b: &Bundle, s: &Situation, at: &str, p: &mut Problems) {
    if s.items.is_empty() {
        p.push(&format!("{at}.items"), "required", "情形须至少有一个事项");
    }
    for (n, item) in s.items.iter().enumerate() {
        let iat = format!("{at}.items[{n}]");
        if !b.units.contains(&item.unit) {
            p.push(
                &format!("{iat}.unit"),
                "unit_not_listed",
                format!(
                    "事项“{}”的单位 {} 不在本主项的责任单位之中",
                    item.name, item.unit
                ),
            );
        }
        match item.working_days {
            Some(d) if d == 0 || (b.promise_working_days > 0 && d > b.promise_working_days) => p
                .push(
                    &format!("{iat}.working_days"),
                    "bad_limit",
                    format!(
                        "事项“{}”的办理时限须为 1 至 {} 个工作日（不超过主项承诺时限）",
                        item.name, b.promise_working_days
                    ),
                ),
            None if n + 1 != s.items.len() => p.push(
                &format!("{iat}.working_days"),
                "required",
                format!(
                    "事项“{}”须有办理时限（只有最后的出件事项可随主项时限）",
                    item.name
                ),
            ),
            _ => {}
        }
        let mut kinds = vec![];
        for (m, mat) in item.materials.iter().enumerate() {
            if kinds.contains(&mat.kind.as_str()) || mat.kind.is_empty() || mat.name.is_empty() {
                p.push(
                    &format!("{iat}.materials[{m}]"),
                    "bad_material",
                    format!("材料 {} 重复，或缺少类型或名称", mat.kind),
                );
            }
            kinds.push(&mat.kind);
        }
    }
    if b.bundle_id == "birth" || b.runs_on_engine() {
        check_engine_items(s, at, p);
        check_form_fields(s, at, p);
    }
}

/// The birth form's sections: a condition or a correction field outside them would never
/// match (a typo silently choosing the fallback situation, or a correction sending nothing
/// back).
const FORM_SECTIONS: [&str; 11] = [
    "channel",
    "window",
    "newborn",
    "mother",
    "father",
    "household",
    "insurance",
    "social_security_card",
    "delivery",
    "applicant",
    "consent",
];

fn check_form_fields(s: &Situation, at: &str, p: &mut Problems) {
    let known = |f: &str| FORM_SECTIONS.contains(&f.split('.').next().unwrap_or(""));
    for (k, c) in s.when.iter().enumerate() {
        if !known(&c.field) {
            p.push(
                &format!("{at}.when[{k}].field"),
                "unknown_field",
                format!("条件中的表单字段 {} 不存在", c.field),
            );
        }
    }
    for (n, item) in s.items.iter().enumerate() {
        for (d, f) in item.depends_on.iter().enumerate() {
            if !known(f) {
                p.push(
                    &format!("{at}.items[{n}].depends_on[{d}]"),
                    "unknown_field",
                    format!("事项“{}”依赖的表单字段 {f} 不存在", item.name),
                );
            }
        }
    }
}

impl Bundle {
    /// Every item of every situation is a step of the engine: the bundle runs with no
    /// code of its own (open for applications).
    pub fn runs_on_engine(&self) -> bool {
        self.situations
            .iter()
            .flat_map(|s| &s.items)
            .all(|i| Step::parse(&i.item_id).is_some())
    }
}

/// Items run by the engine's steps: some of the steps, in the flow's order, from
/// acceptance to the hand-over; their units, queues and results are code (the
/// departments' adapters and the deployed functions), not data.
fn check_engine_items(s: &Situation, at: &str, p: &mut Problems) {
    let steps: Option<Vec<Step>> = s.items.iter().map(|i| Step::parse(&i.item_id)).collect();
    let in_order = steps.as_ref().is_some_and(|v| {
        v.windows(2).all(|w| w[0] < w[1])
            && v.first() == Some(&Step::Acceptance)
            && v.last() == Some(&Step::UnifiedIssuance)
    });
    if !in_order {
        let names: Vec<&str> = flow::FLOW.iter().map(|f| f.name).collect();
        p.push(
            &format!("{at}.items"),
            "engine_items",
            format!(
                "事项须取自 {}，按此顺序排列，首为受理、末为统一出件（各部门的出件程序按此运行）",
                names.join("、")
            ),
        );
        return;
    }
    let specs = s
        .items
        .iter()
        .map(|i| flow::spec(Step::parse(&i.item_id).expect("checked")));
    for (n, (item, spec)) in s.items.iter().zip(specs).enumerate() {
        let iat = format!("{at}.items[{n}]");
        if item.unit != spec.dept.as_str() || item.queue != spec.queue {
            p.push(
                &iat,
                "engine_unit",
                format!(
                    "事项“{}”须由{}经队列 {} 办理",
                    item.name,
                    spec.dept.name_zh(),
                    spec.queue
                ),
            );
        }
        let results = engine_results(spec.step);
        if item.results != results {
            p.push(
                &format!("{iat}.results"),
                "engine_results",
                format!("事项“{}”的结果须为 {}", item.name, results.join("、")),
            );
        }
    }
}

/// The results each step's code issues.
pub fn engine_results(step: Step) -> Vec<&'static str> {
    match step {
        Step::Acceptance => vec!["acceptance_notice"],
        Step::BirthCertificate => vec!["birth_medical_certificate", "vaccination_certificate"],
        Step::HouseholdRegistration => vec!["household_registration"],
        Step::MedicalInsurance => vec!["medical_insurance_enrolment", "maternity_benefit_decision"],
        Step::SocialSecurityCard => vec!["social_security_card"],
        Step::UnifiedIssuance => vec!["delivery_record"],
    }
}

/// One difference between two catalogues.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

fn keyed(v: &Value) -> Option<String> {
    let o = v.as_object()?;
    ["bundle_id", "situation_id", "item_id", "kind"]
        .iter()
        .find_map(|k| o.get(*k)?.as_str().map(|s| format!("{k}={s}")))
}

fn diff_values(path: &str, a: &Value, b: &Value, out: &mut Vec<Change>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => diff_values(&join(k), p, q, out),
                    (p, q) => out.push(Change {
                        path: join(k),
                        before: p.cloned(),
                        after: q.cloned(),
                    }),
                }
            }
        }
        (Value::Array(x), Value::Array(y))
            if x.iter().chain(y).all(|v| keyed(v).is_some()) && a != b =>
        {
            for v in x {
                let k = keyed(v).expect("keyed");
                match y.iter().find(|w| keyed(w).as_ref() == Some(&k)) {
                    Some(w) => diff_values(&format!("{path}[{k}]"), v, w, out),
                    None => out.push(Change {
                        path: format!("{path}[{k}]"),
                        before: Some(v.clone()),
                        after: None,
                    }),
                }
            }
            for w in y {
                let k = keyed(w).expect("keyed");
                if !x.iter().any(|v| keyed(v).as_ref() == Some(&k)) {
                    out.push(Change {
                        path: format!("{path}[{k}]"),
                        before: None,
                        after: Some(w.clone()),
                    });
                }
            }
            let order = |v: &Vec<Value>| v.iter().filter_map(keyed).collect::<Vec<_>>();
            let (ox, oy) = (order(x), order(y));
            let common = |o: &Vec<String>, other: &Vec<String>| {
                o.iter()
                    .filter(|k| other.contains(k))
                    .cloned()
                    .collect::<Vec<_>>()
            };
            if common(&ox, &oy) != common(&oy, &ox) {
                out.push(Change {
                    path: format!("{path} (order)"),
                    before: Some(ox.into()),
                    after: Some(oy.into()),
                });
            }
        }
        _ if a != b => out.push(Change {
            path: path.to_string(),
            before: Some(a.clone()),
            after: Some(b.clone()),
        }),
        _ => {}
    }
}

/// What a case keeps of the catalogue it was accepted under: its bundle, the version,
/// the situation, the promise and each item's limit and correction fields. Cases made
/// before the catalogue existed read as the built-in version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub bundle: String,
    /// The bundle's name for people (出生一件事), as the version named it.
    #[serde(default = "birth_bundle_name")]
    pub bundle_name: String,
    pub catalogue_version: u32,
    pub situation: String,
    pub promise_working_days: u32,
    pub items: Vec<PlannedItem>,
    /// The materials a written commitment may stand in for under this version (None: a
    /// plan stored before the catalogue said so; the operator's setting alone decides).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment_allowed: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedItem {
    pub step: Step,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_window: Option<AtWindow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hand_over: Option<HandOver>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

fn birth_bundle_name() -> String {
    "出生一件事".into()
}

impl Default for Plan {
    fn default() -> Plan {
        Plan::builtin()
    }
}

impl Plan {
    /// Whether this is the built-in birth plan (version 1), which a case stored without a
    /// plan reads as: it is not written out, so cases keep their stored bytes.
    pub fn is_builtin(&self) -> bool {
        self.catalogue_version == BUILTIN_VERSION && self == Plan::shipped()
    }

    /// The birth plan of the built-in catalogue.
    pub fn builtin() -> Plan {
        Plan::shipped().clone()
    }

    /// The built-in plan, made once (every case written is compared with it).
    fn shipped() -> &'static Plan {
        static PLAN: std::sync::OnceLock<Plan> = std::sync::OnceLock::new();
        PLAN.get_or_init(|| {
            Catalogue::builtin()
                .plan(BUILTIN_VERSION, "birth", &Value::Null)
                .expect("the built-in birth bundle has an unconditional situation")
        })
    }

    fn item(&self, step: Step) -> Option<&PlannedItem> {
        self.items.iter().find(|i| i.step == step)
    }

    /// A step's time limit on a channel: immediate at a window where the item says so.
    pub fn time_limit(&self, step: Step, channel: flow::Channel) -> TimeLimit {
        match self.item(step) {
            Some(i) if channel.is_offline() && i.at_window == Some(AtWindow::Immediate) => {
                TimeLimit::Immediate
            }
            Some(PlannedItem {
                working_days: Some(n),
                ..
            }) => TimeLimit::WorkingDays(*n),
            _ => TimeLimit::CaseLimit,
        }
    }

    pub fn bundle_name(&self) -> &str {
        &self.bundle_name
    }

    /// Whether the catalogue version lets a written commitment stand in for `kind` (the
    /// operator's `substitutable` setting may still refuse it).
    pub fn allows_commitment(&self, kind: &str) -> bool {
        self.commitment_allowed
            .as_ref()
            .is_none_or(|kinds| kinds.iter().any(|k| k == kind))
    }

    /// Online, whether the step's unit hands over its own documents when it is done
    /// (各自出件) rather than with the unified issuance.
    pub fn hands_over_own(&self, step: Step) -> bool {
        self.item(step)
            .is_some_and(|i| i.hand_over == Some(HandOver::Own))
    }

    /// Whether the step is an item of the plan (the others are not applicable).
    pub fn includes(&self, step: Step) -> bool {
        self.item(step).is_some()
    }

    /// The planned step after `step`, in the flow's order (none: the case is done).
    pub fn next_after(&self, step: Step) -> Option<Step> {
        self.items.iter().map(|i| i.step).find(|s| *s > step)
    }

    /// Where an accepted case goes: the first planned step after acceptance.
    pub fn first_department_step(&self) -> Step {
        self.next_after(Step::Acceptance)
            .unwrap_or(Step::UnifiedIssuance)
    }

    /// The correction dependency table: the earliest step whose result depends on one
    /// of the changed form fields (dotted paths), if any.
    pub fn earliest_affected(&self, changed: &[String]) -> Option<Step> {
        let names = |field: &str, dep: &str| {
            field == dep
                || field
                    .strip_prefix(dep)
                    .is_some_and(|rest| rest.starts_with('.'))
        };
        changed
            .iter()
            .filter_map(|f| {
                self.items
                    .iter()
                    .find(|i| i.depends_on.iter().any(|d| names(f, d)))
                    .map(|i| i.step)
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Channel, FLOW};

    #[test]
    fn the_shipped_birth_bundle_reproduces_the_flow_table() {
        let plan = Plan::builtin();
        assert_eq!(
            plan.promise_working_days,
            flow::CASE_TIME_LIMIT_WORKING_DAYS
        );
        for spec in FLOW.iter() {
            let item = plan.item(spec.step).expect("every step planned");
            assert_eq!(item.depends_on, spec.depends_on, "{}", spec.name);
            // Online, each unit hands over its own documents, but medical security's
            // decisions go out with the unified issuance (A.5.3.3).
            let own = !matches!(
                spec.step,
                Step::Acceptance | Step::MedicalInsurance | Step::UnifiedIssuance
            );
            assert_eq!(plan.hands_over_own(spec.step), own, "{}", spec.name);
            for ch in [
                Channel::ZlbApp,
                Channel::ZjWeb,
                Channel::ServiceCenter,
                Channel::Hospital,
            ] {
                assert_eq!(
                    plan.time_limit(spec.step, ch),
                    flow::time_limit(spec.step, ch),
                    "{} on {}",
                    spec.name,
                    ch.as_str()
                );
            }
        }
    }

    #[test]
    fn a_catalogue_with_many_faults_reports_every_one_of_them() {
        let mut v: Value = serde_json::from_str(BUILTIN_JSON).unwrap();
        let b = &mut v["bundles"][0];
        b["lead_unit"] = "civil_affairs".into();
        b["name"] = "".into();
        let items = &mut b["situations"][0]["items"];
        items[1]["working_days"] = 9.into();
        items[2]["unit"] = "hrss".into();
        items[3]["queue"] = "somewhere".into();
        let problems = Catalogue::parse(&v.to_string()).unwrap_err();
        let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
        for code in [
            "lead_unit_not_listed",
            "required",
            "bad_limit",
            "engine_unit",
        ] {
            assert!(codes.contains(&code), "{code} in {codes:?}");
        }
        assert!(problems.len() >= 5, "{problems:?}");
        assert!(problems.iter().all(|p| !p.message.is_ascii()));
    }

    #[test]
    fn a_file_that_is_not_a_catalogue_is_one_problem_with_its_line() {
        let problems = Catalogue::parse("{\"bundles\": [\n{\"bundle\": 1}]}").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, "unreadable");
        assert_eq!(problems[0].field, "line 2");
    }

    #[test]
    fn a_diff_names_the_item_whose_limit_changed() {
        let old = Catalogue::builtin();
        let mut new = old.clone();
        new.bundles[0].situations[0].items[2].working_days = Some(2);
        let d = old.diff(&new);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            d[0].path,
            "bundles[bundle_id=birth].situations[situation_id=general].items[item_id=household_registration].working_days"
        );
        assert_eq!(d[0].after, Some(2.into()));
        assert!(old.diff(&old).is_empty());
    }

    #[test]
    fn a_plan_keeps_the_limits_of_its_version() {
        let mut c = Catalogue::builtin();
        c.bundles[0].situations[0].items[2].working_days = Some(3);
        c.bundles[0].promise_working_days = 6;
        let plan = c.plan(7, "birth", &Value::Null).unwrap();
        assert_eq!(plan.catalogue_version, 7);
        assert_eq!(
            plan.time_limit(Step::HouseholdRegistration, Channel::ZlbApp),
            TimeLimit::WorkingDays(3)
        );
        assert_eq!(plan.promise_working_days, 6);
        assert!(c.plan(7, "death", &Value::Null).is_none());
    }

    #[test]
    fn a_situation_is_chosen_by_its_conditions() {
        let mut c = Catalogue::builtin();
        let mut twins = c.bundles[0].situations[0].clone();
        twins.situation_id = "twins".into();
        twins.when = vec![Condition {
            field: "newborn.multiple_birth".into(),
            equals: 2.into(),
        }];
        twins.items[1].working_days = Some(2);
        c.bundles[0].situations.insert(0, twins.clone());
        assert!(c.check().is_empty(), "{:?}", c.check());
        // A misspelt field would never match: refused.
        let mut typo = c.clone();
        typo.bundles[0].situations[0].when[0].field = "newbron.multiple_birth".into();
        let problems = typo.check();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].code, "unknown_field");
        let form = serde_json::json!({"newborn": {"multiple_birth": 2}});
        assert_eq!(c.plan(2, "birth", &form).unwrap().situation, "twins");
        assert_eq!(
            c.plan(2, "birth", &Value::Null).unwrap().situation,
            "general"
        );
    }
}
