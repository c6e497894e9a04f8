//! Who acts on a case: a role, a department and the region they may act in.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Guardian,
    WindowOfficer,
    DeptOfficer,
    Supervisor,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "guardian" => Role::Guardian,
            "window_officer" => Role::WindowOfficer,
            "dept_officer" => Role::DeptOfficer,
            "supervisor" => Role::Supervisor,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guardian => "guardian",
            Role::WindowOfficer => "window_officer",
            Role::DeptOfficer => "dept_officer",
            Role::Supervisor => "supervisor",
        }
    }
}

/// Who did something. For guardians `sub` is a citizen ID number: use [`Actor::label`]
/// wherever it is shown or logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub sub: String,
    pub role: Role,
    pub dept: Option<Dept>,
    /// Where an officer or supervisor works (from the token's optional claims).
    #[serde(default, skip_serializing_if = "Scope::is_everywhere")]
    pub scope: Scope,
}

/// The province's division code: `region: "33"` is province-wide.
pub const PROVINCE: &str = "33";

/// The optional claims that narrow what an officer or supervisor works on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// An administrative division code prefix (`33`, `3301`, `330106`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A hospital officer's or window's institution code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hospital: Option<String>,
    /// A window officer's site (its `site_id` or exact name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
}

impl Scope {
    pub fn is_everywhere(&self) -> bool {
        *self == Scope::default()
    }
    /// The region as a filter: None for the whole province (`region: "33"`, which also
    /// holds cases whose county is not known yet) and for the automated system, whose
    /// actors carry no scope.
    pub fn region_filter(&self) -> Option<&str> {
        self.region.as_deref().filter(|r| *r != PROVINCE)
    }
    /// Whether work of `dept` handled in `region` (for the birth hospital
    /// `hospital_code`) is within this scope: the region under the scope's prefix, and a
    /// hospital step at the scope's hospital.
    pub fn admits(&self, region: Option<&str>, dept: Dept, hospital_code: &str) -> bool {
        let region_ok = match self.region_filter() {
            None => true,
            Some(prefix) => region.is_some_and(|r| r.starts_with(prefix)),
        };
        let hospital_ok = match (&self.hospital, dept) {
            (Some(h), Dept::Hospital) => hospital_code == h,
            _ => true,
        };
        region_ok && hospital_ok
    }
}

impl Actor {
    /// An actor with no narrowing claims.
    pub fn new(sub: impl Into<String>, role: Role, dept: Option<Dept>) -> Actor {
        Actor {
            sub: sub.into(),
            role,
            dept,
            scope: Scope::default(),
        }
    }
    pub fn system(dept: Dept) -> Actor {
        Actor::new(
            format!("system:{}", dept.as_str()),
            Role::DeptOfficer,
            Some(dept),
        )
    }
    /// The automated system acting for a department (never a person whose id happens to
    /// start with `system:`: the API refuses such subjects).
    pub fn is_system(&self) -> bool {
        self.role == Role::DeptOfficer && self.dept.is_some_and(|d| *self == Actor::system(d))
    }
    /// How a citizen-facing text names who acted: never an internal identifier beyond an
    /// officer's staff number (工号); a guardian as 申请人, the system by the department it
    /// acts for.
    pub fn name_zh(&self) -> String {
        let dept = self.dept.map(|d| d.name_zh()).unwrap_or("");
        match self.role {
            Role::Guardian => "申请人".to_string(),
            _ if self.is_system() => format!("联办系统（{dept}）"),
            Role::WindowOfficer => format!("窗口工作人员（工号 {}）", self.sub),
            Role::DeptOfficer => format!("{dept}工作人员（工号 {}）", self.sub),
            Role::Supervisor => format!("监管人员（工号 {}）", self.sub),
        }
    }
    /// A label fit for timelines and logs: guardians are masked.
    pub fn label(&self) -> String {
        match self.role {
            Role::Guardian => format!("guardian:{}", crate::idnum::mask_id(&self.sub)),
            r => match self.dept {
                Some(d) if self.is_system() => format!("system:{}", d.as_str()),
                Some(d) => format!("{}:{}:{}", r.as_str(), d.as_str(), self.sub),
                None => format!("{}:{}", r.as_str(), self.sub),
            },
        }
    }
}

/// Who an entry of a case's timeline names, as a type; stored as the same text it always
/// was (`guardian:330***12`, `dept_officer:police:alice`, `system:police`,
/// `system:archive`), so stored cases load byte-identically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum ActorLabel {
    /// A guardian, by their masked ID number.
    Guardian(String),
    /// An officer or supervisor, by role, department (if any) and staff number.
    Person {
        role: Role,
        dept: Option<Dept>,
        sub: String,
    },
    /// The automated system acting for a department.
    System(Dept),
    /// A part of the system acting for none (`archive`, `sla-monitor`, `materials`).
    Function(String),
    /// Anything else, kept as written.
    Other(String),
}

impl ActorLabel {
    /// What kind of actor, without who: `guardian`, `dept_officer:police`, `system`.
    pub fn kind(&self) -> String {
        match self {
            ActorLabel::Guardian(_) => "guardian".into(),
            ActorLabel::Person {
                role: Role::Guardian,
                ..
            } => "guardian".into(),
            ActorLabel::Person {
                role,
                dept: Some(d),
                ..
            } => format!("{}:{}", role.as_str(), d.as_str()),
            ActorLabel::Person { .. } | ActorLabel::Other(_) => "other".into(),
            ActorLabel::System(_) | ActorLabel::Function(_) => "system".into(),
        }
    }
    pub fn is_system(&self) -> bool {
        matches!(self, ActorLabel::System(_) | ActorLabel::Function(_))
    }
}

impl From<String> for ActorLabel {
    fn from(s: String) -> ActorLabel {
        let mut parts = s.splitn(3, ':');
        let (a, b, c) = (parts.next(), parts.next(), parts.next());
        match (a.and_then(Role::parse), a, b, c) {
            (_, Some("guardian"), Some(masked), None) => ActorLabel::Guardian(masked.into()),
            (_, Some("system"), Some(x), None) => match Dept::parse(x) {
                Some(d) => ActorLabel::System(d),
                None => ActorLabel::Function(x.into()),
            },
            (Some(role), _, Some(x), rest) if role != Role::Guardian => {
                match (Dept::parse(x), rest) {
                    (Some(d), Some(sub)) => ActorLabel::Person {
                        role,
                        dept: Some(d),
                        sub: sub.into(),
                    },
                    _ => ActorLabel::Person {
                        role,
                        dept: None,
                        sub: s[role.as_str().len() + 1..].to_string(),
                    },
                }
            }
            _ => ActorLabel::Other(s),
        }
    }
}

impl From<&str> for ActorLabel {
    fn from(s: &str) -> ActorLabel {
        ActorLabel::from(s.to_string())
    }
}

impl From<&String> for ActorLabel {
    fn from(s: &String) -> ActorLabel {
        ActorLabel::from(s.clone())
    }
}

impl From<ActorLabel> for String {
    fn from(l: ActorLabel) -> String {
        l.to_string()
    }
}

impl std::fmt::Display for ActorLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActorLabel::Guardian(m) => write!(f, "guardian:{m}"),
            ActorLabel::Person {
                role,
                dept: Some(d),
                sub,
            } => write!(f, "{}:{}:{sub}", role.as_str(), d.as_str()),
            ActorLabel::Person { role, sub, .. } => write!(f, "{}:{sub}", role.as_str()),
            ActorLabel::System(d) => write!(f, "system:{}", d.as_str()),
            ActorLabel::Function(x) => write!(f, "system:{x}"),
            ActorLabel::Other(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod labels {
    use super::*;

    #[test]
    fn every_label_reads_back_as_the_same_text() {
        for (text, kind) in [
            ("guardian:330***********0130", "guardian"),
            ("dept_officer:police:police-330106", "dept_officer:police"),
            (
                "dept_officer:police:officer-approved:police",
                "dept_officer:police",
            ),
            (
                "window_officer:service_center:GH0012",
                "window_officer:service_center",
            ),
            ("supervisor:supervisor-1", "other"),
            (
                "supervisor:medical_insurance:s-1",
                "supervisor:medical_insurance",
            ),
            ("supervisor:odd:name", "other"),
            ("system:police", "system"),
            ("system:sla-monitor", "system"),
            ("someone else", "other"),
        ] {
            let l = ActorLabel::from(text);
            assert_eq!(l.to_string(), text);
            assert_eq!(l.kind(), kind, "{text}");
            let json = serde_json::to_string(&l).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<ActorLabel>(&json).unwrap(), l);
        }
        let officer = Actor::new("alice", Role::DeptOfficer, Some(Dept::Police));
        assert_eq!(
            ActorLabel::from(officer.label()).to_string(),
            "dept_officer:police:alice"
        );
        assert!(ActorLabel::from(Actor::system(Dept::Police).label()).is_system());
    }
}
