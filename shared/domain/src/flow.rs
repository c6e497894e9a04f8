//! The flow table: every step of the birth one-thing, its owning department, its queue,
//! its time limits, the matters it covers and what its function may do (sign
//! certificates, take numbers). This is the one place that says how a case travels
//! (standard Annex A, Figures A.1 and A.2); the infrastructure reads it through
//! `onething flow --json`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    ZlbApp,
    ZjWeb,
    ServiceCenter,
    Hospital,
}

impl Channel {
    pub fn parse(s: &str) -> Option<Channel> {
        Some(match s {
            "zlb_app" => Channel::ZlbApp,
            "zj_web" => Channel::ZjWeb,
            "service_center" => Channel::ServiceCenter,
            "hospital" => Channel::Hospital,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::ZlbApp => "zlb_app",
            Channel::ZjWeb => "zj_web",
            Channel::ServiceCenter => "service_center",
            Channel::Hospital => "hospital",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            Channel::ZlbApp => "浙里办",
            Channel::ZjWeb => "浙江政务服务网",
            Channel::ServiceCenter => "行政服务中心窗口",
            Channel::Hospital => "助产机构窗口",
        }
    }
    /// Offline channels are a window where an officer enters the application.
    pub fn is_offline(self) -> bool {
        matches!(self, Channel::ServiceCenter | Channel::Hospital)
    }
    /// The department whose window officers may enter applications on this channel.
    pub fn window_dept(self) -> Option<Dept> {
        match self {
            Channel::ServiceCenter => Some(Dept::ServiceCenter),
            Channel::Hospital => Some(Dept::Hospital),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dept {
    Hospital,
    Police,
    MedicalInsurance,
    Hrss,
    ServiceCenter,
    Health,
}

impl Dept {
    pub const ALL: [Dept; 6] = [
        Dept::Hospital,
        Dept::Police,
        Dept::MedicalInsurance,
        Dept::Hrss,
        Dept::ServiceCenter,
        Dept::Health,
    ];
    pub fn parse(s: &str) -> Option<Dept> {
        Dept::ALL.into_iter().find(|d| d.as_str() == s)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Dept::Hospital => "hospital",
            Dept::Police => "police",
            Dept::MedicalInsurance => "medical_insurance",
            Dept::Hrss => "hrss",
            Dept::ServiceCenter => "service_center",
            Dept::Health => "health",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            Dept::Hospital => "助产机构",
            Dept::Police => "公安部门",
            Dept::MedicalInsurance => "医疗保障部门",
            Dept::Hrss => "人力社保部门",
            Dept::ServiceCenter => "行政服务中心",
            Dept::Health => "卫生健康部门",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Acceptance,
    BirthCertificate,
    HouseholdRegistration,
    MedicalInsurance,
    SocialSecurityCard,
    UnifiedIssuance,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Acceptance,
        Step::BirthCertificate,
        Step::HouseholdRegistration,
        Step::MedicalInsurance,
        Step::SocialSecurityCard,
        Step::UnifiedIssuance,
    ];
    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn as_str(self) -> &'static str {
        spec(self).name
    }
    pub fn index(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).expect("in table")
    }
    pub fn next(self) -> Option<Step> {
        Step::ALL.get(self.index() + 1).copied()
    }
    pub fn dept(self) -> Dept {
        spec(self).dept
    }
    pub fn queue(self) -> &'static str {
        spec(self).queue
    }
    pub fn name_zh(self) -> &'static str {
        spec(self).name_zh
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialKind {
    MotherIdCard,
    FatherIdCard,
    HouseholdRegister,
    MarriageCertificate,
    /// A written commitment (书面告知承诺书) standing in for a substitutable material.
    Commitment,
    /// Proof of guardianship, for a guardian who is not a parent (at a window).
    GuardianshipProof,
    /// Evidence of paternity (a paternity test report, 亲子鉴定) for a father no marriage
    /// record binds to the mother, examined by the police.
    PaternityProof,
    Other,
}

impl MaterialKind {
    pub const ALL: [MaterialKind; 8] = [
        MaterialKind::MotherIdCard,
        MaterialKind::FatherIdCard,
        MaterialKind::HouseholdRegister,
        MaterialKind::MarriageCertificate,
        MaterialKind::Commitment,
        MaterialKind::GuardianshipProof,
        MaterialKind::PaternityProof,
        MaterialKind::Other,
    ];
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            MaterialKind::MotherIdCard => "mother_id_card",
            MaterialKind::FatherIdCard => "father_id_card",
            MaterialKind::HouseholdRegister => "household_register",
            MaterialKind::MarriageCertificate => "marriage_certificate",
            MaterialKind::Commitment => "commitment",
            MaterialKind::GuardianshipProof => "guardianship_proof",
            MaterialKind::PaternityProof => "paternity_proof",
            MaterialKind::Other => "other",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            MaterialKind::MotherIdCard => "新生儿母亲居民身份证",
            MaterialKind::FatherIdCard => "新生儿父亲居民身份证",
            MaterialKind::HouseholdRegister => "新生儿拟落户方居民户口簿",
            MaterialKind::MarriageCertificate => "新生儿父母结婚证",
            MaterialKind::Commitment => "书面告知承诺书",
            MaterialKind::GuardianshipProof => "监护关系证明",
            MaterialKind::PaternityProof => "亲子关系证明（如亲子鉴定报告）",
            MaterialKind::Other => "其他材料",
        }
    }
}

/// A step's time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLimit {
    /// Within N working days of the step's start.
    WorkingDays(u32),
    /// Same day: the hospital's certificates when applied for at a window (即办).
    Immediate,
    /// No time of its own: the case's limit (unified issuance).
    CaseLimit,
}

#[derive(Debug, Clone, Copy)]
pub struct StepSpec {
    pub step: Step,
    pub name: &'static str,
    /// The step's name for people.
    pub name_zh: &'static str,
    pub dept: Dept,
    /// The queue (and function) that performs the step.
    pub queue: &'static str,
    pub online_limit: TimeLimit,
    pub offline_limit: TimeLimit,
    /// The matters (of the six) the step handles.
    pub matters: &'static [&'static str],
    /// Its results are certificates the step signs (its function may use the
    /// certificate key).
    pub signs: bool,
    /// It takes numbers (certificate numbers, the ID sequence, hand-over numbers), so its
    /// function reads counters and their owners.
    pub takes_numbers: bool,
    /// It gathers the family's records from data sharing (its function holds the
    /// platform's key).
    pub gathers_records: bool,
    /// The form fields its results depend on (a field, or every field under a prefix):
    /// a correction of one sends the case back to the earliest step that names it (the
    /// correction dependency table, which `steps::earliest_affected` reads).
    pub depends_on: &'static [&'static str],
}

/// The flow, in order.
pub const FLOW: [StepSpec; 6] = [
    StepSpec {
        step: Step::Acceptance,
        name: "acceptance",
        name_zh: "受理",
        dept: Dept::ServiceCenter,
        queue: "accept",
        online_limit: TimeLimit::WorkingDays(1),
        offline_limit: TimeLimit::Immediate,
        matters: &[],
        signs: false,
        takes_numbers: false,
        gathers_records: true,
        depends_on: &[],
    },
    StepSpec {
        step: Step::BirthCertificate,
        name: "birth_certificate",
        name_zh: "出生医学证明办理",
        dept: Dept::Hospital,
        queue: "certify-birth",
        online_limit: TimeLimit::WorkingDays(1),
        offline_limit: TimeLimit::WorkingDays(1),
        matters: &["出生医学证明办理", "预防接种证办理"],
        signs: true,
        takes_numbers: true,
        gathers_records: false,
        depends_on: &["newborn", "mother.name", "father.name"],
    },
    StepSpec {
        step: Step::HouseholdRegistration,
        name: "household_registration",
        name_zh: "户口登记",
        dept: Dept::Police,
        queue: "register-household",
        online_limit: TimeLimit::WorkingDays(1),
        offline_limit: TimeLimit::WorkingDays(1),
        matters: &["户口登记"],
        signs: true,
        takes_numbers: true,
        gathers_records: false,
        depends_on: &["household", "father"],
    },
    StepSpec {
        step: Step::MedicalInsurance,
        name: "medical_insurance",
        name_zh: "医保参保登记和生育保险待遇审核",
        dept: Dept::MedicalInsurance,
        queue: "enrol-insurance",
        online_limit: TimeLimit::WorkingDays(1),
        offline_limit: TimeLimit::WorkingDays(1),
        matters: &["医保参保登记", "生育保险待遇审核"],
        signs: true,
        takes_numbers: true,
        gathers_records: false,
        depends_on: &["insurance"],
    },
    StepSpec {
        step: Step::SocialSecurityCard,
        name: "social_security_card",
        name_zh: "社保卡办理",
        dept: Dept::Hrss,
        queue: "issue-card",
        online_limit: TimeLimit::WorkingDays(1),
        offline_limit: TimeLimit::WorkingDays(1),
        matters: &["社保卡办理"],
        signs: true,
        takes_numbers: true,
        gathers_records: false,
        depends_on: &["social_security_card"],
    },
    StepSpec {
        step: Step::UnifiedIssuance,
        name: "unified_issuance",
        name_zh: "统一出件",
        dept: Dept::ServiceCenter,
        queue: "unify-issuance",
        online_limit: TimeLimit::CaseLimit,
        offline_limit: TimeLimit::CaseLimit,
        matters: &[],
        signs: false,
        takes_numbers: true,
        gathers_records: false,
        depends_on: &["delivery"],
    },
];

/// The whole case: completed within 4 working days of acceptance (A.4.2.4).
pub const CASE_TIME_LIMIT_WORKING_DAYS: u32 = 4;

/// Queues besides the step queues.
pub const NOTIFY_QUEUE: &str = "notify";
pub const ARCHIVE_QUEUE: &str = "archive";
/// Certificates' PDFs (their own function on AWS: the font does not fit the others).
pub const RENDER_QUEUE: &str = "render";

/// Every queue of the system.
pub fn all_queues() -> Vec<&'static str> {
    let mut q: Vec<&'static str> = FLOW.iter().map(|s| s.queue).collect();
    q.push(NOTIFY_QUEUE);
    q.push(ARCHIVE_QUEUE);
    q.push(RENDER_QUEUE);
    q
}

/// The functions besides the queues' consumers: the HTTP API, the scheduled SLA monitor
/// and the relay of committed messages (the table's stream).
pub const API_FUNCTION: &str = "api";
pub const SLA_MONITOR_FUNCTION: &str = "sla-monitor";
pub const RELAY_FUNCTION: &str = "relay";

/// Every function: the API, each queue's consumer (named as its queue), the SLA monitor
/// and the relay.
pub fn all_functions() -> Vec<&'static str> {
    let mut f = vec![API_FUNCTION];
    f.extend(all_queues());
    f.push(SLA_MONITOR_FUNCTION);
    f.push(RELAY_FUNCTION);
    f
}

/// The flow as the infrastructure's scripts read it (`onething flow --json`, committed as
/// `infra/flow.json`): queues, functions, and each step's department, queue and what
/// its function may do. The template generator, the build and footprint scripts and the
/// arm64 runner take their lists from it, never from copies.
pub fn describe() -> serde_json::Value {
    let limit = |l: TimeLimit| match l {
        TimeLimit::WorkingDays(n) => serde_json::json!({"working_days": n}),
        TimeLimit::Immediate => serde_json::json!("immediate"),
        TimeLimit::CaseLimit => serde_json::json!("case_limit"),
    };
    serde_json::json!({
        "steps": FLOW.iter().map(|s| serde_json::json!({
            "step": s.name,
            "name_zh": s.name_zh,
            "dept": s.dept.as_str(),
            "queue": s.queue,
            "online_limit": limit(s.online_limit),
            "offline_limit": limit(s.offline_limit),
            "matters": s.matters,
            "signs": s.signs,
            "takes_numbers": s.takes_numbers,
            "gathers_records": s.gathers_records,
            "depends_on": s.depends_on,
        })).collect::<Vec<_>>(),
        "queues": all_queues(),
        "step_queues": FLOW.iter().map(|s| s.queue).collect::<Vec<_>>(),
        "functions": all_functions(),
        "case_time_limit_working_days": CASE_TIME_LIMIT_WORKING_DAYS,
    })
}

/// The departments' steps, in order: every step between acceptance and the unified
/// issuance.
pub fn department_steps() -> impl Iterator<Item = Step> {
    FLOW[1..FLOW.len() - 1].iter().map(|s| s.step)
}

/// The first department step, where an accepted case goes.
pub fn first_department_step() -> Step {
    FLOW[1].step
}

pub fn spec(step: Step) -> &'static StepSpec {
    &FLOW[FLOW
        .iter()
        .position(|s| s.step == step)
        .expect("every step is in FLOW")]
}

/// The time limit of a step on a channel. The hospital's certificates are immediate
/// when the application is made at the hospital (A.5.2.1.1).
pub fn time_limit(step: Step, channel: Channel) -> TimeLimit {
    let s = spec(step);
    match (step, channel) {
        (Step::BirthCertificate, c) if c.is_offline() => TimeLimit::Immediate,
        (Step::Acceptance, c) if c.is_offline() => s.offline_limit,
        (Step::Acceptance, _) => s.online_limit,
        _ if channel.is_offline() => s.offline_limit,
        _ => s.online_limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_is_in_order_and_complete() {
        for (i, s) in FLOW.iter().enumerate() {
            assert_eq!(s.step.index(), i);
            assert_eq!(Step::parse(s.name), Some(s.step));
        }
        assert_eq!(Step::Acceptance.next(), Some(Step::BirthCertificate));
        assert_eq!(Step::UnifiedIssuance.next(), None);
        assert_eq!(
            time_limit(Step::BirthCertificate, Channel::Hospital),
            TimeLimit::Immediate
        );
        assert_eq!(
            time_limit(Step::BirthCertificate, Channel::ZlbApp),
            TimeLimit::WorkingDays(1)
        );
    }
}
