//! Sites: the service centres and hospital windows where families apply and pick up
//! results (Table A.1 #6 指定地点, #8 window addresses and hours), and the appointment
//! slots their hours give on working days (6.1.2).
//!
//! Operator data (`serve --sites FILE`); without a file, a built-in sample: one service
//! centre per county in force (`<county name>行政服务中心`) and one hospital site per
//! midwifery institution of the data-sharing registry in use (named as the institution).

use crate::calendar::{shanghai, Calendar};
use crate::sharing::Institution;
use chrono::{NaiveDate, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    ServiceCenter,
    Hospital,
}

/// Opening hours on working days: one or more periods (`"09:00"`–`"12:00"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub site_id: String,
    pub name: String,
    pub kind: SiteKind,
    pub county_code: String,
    pub address: String,
    /// Open on working days (the holiday calendar), in these periods (Beijing time).
    pub hours: Vec<Period>,
    /// Windows serving the one thing.
    pub windows: u32,
    /// Results may be picked up here.
    pub pickup: bool,
    pub phone: String,
    /// Appointment slot length.
    #[serde(default = "default_slot_minutes")]
    pub slot_minutes: u32,
    /// Appointments per slot (default: one per window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_capacity: Option<u32>,
}

fn default_slot_minutes() -> u32 {
    30
}

/// An appointment slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slot {
    pub start: chrono::DateTime<chrono::FixedOffset>,
    pub end: chrono::DateTime<chrono::FixedOffset>,
    pub capacity: u32,
}

impl Site {
    pub fn capacity(&self) -> u32 {
        self.slot_capacity.unwrap_or(self.windows)
    }

    fn periods(&self) -> Vec<(NaiveTime, NaiveTime)> {
        self.hours
            .iter()
            .filter_map(|p| {
                let s = NaiveTime::parse_from_str(&p.start, "%H:%M").ok()?;
                let e = NaiveTime::parse_from_str(&p.end, "%H:%M").ok()?;
                (s < e).then_some((s, e))
            })
            .collect()
    }

    /// The slots of `date`: none unless it is a working day.
    pub fn slots(&self, date: NaiveDate, cal: &Calendar) -> Vec<Slot> {
        if !matches!(cal.is_workday(date), Ok((true, _))) || self.slot_minutes == 0 {
            return vec![];
        }
        let len = chrono::Duration::minutes(self.slot_minutes as i64);
        let tz = shanghai();
        let mut out = vec![];
        for (s, e) in self.periods() {
            let mut t = date.and_time(s);
            while t + len <= date.and_time(e) {
                let start = tz.from_local_datetime(&t).single().expect("fixed offset");
                out.push(Slot {
                    start,
                    end: start + len,
                    capacity: self.capacity(),
                });
                t += len;
            }
        }
        out
    }

    /// The slot starting at `start`, if the site has one then.
    pub fn slot_at(
        &self,
        start: chrono::DateTime<chrono::FixedOffset>,
        cal: &Calendar,
    ) -> Option<Slot> {
        let local = start.with_timezone(&shanghai());
        self.slots(local.date_naive(), cal)
            .into_iter()
            .find(|s| s.start == start)
    }
}

/// The operator's sites.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sites {
    list: Vec<Site>,
}

fn standard_hours() -> Vec<Period> {
    vec![
        Period {
            start: "09:00".into(),
            end: "12:00".into(),
        },
        Period {
            start: "13:30".into(),
            end: "17:00".into(),
        },
    ]
}

impl Sites {
    /// The built-in sample: a service centre per county in force, a hospital site per
    /// midwifery institution given.
    pub fn builtin(institutions: &[Institution], in_force: impl Fn(&str) -> bool) -> Sites {
        let divisions = crate::idnum::Divisions::current();
        let mut list = vec![];
        for (code, name) in divisions.counties() {
            if !in_force(code) {
                continue;
            }
            list.push(Site {
                site_id: format!("SC{code}"),
                name: format!("{name}行政服务中心"),
                kind: SiteKind::ServiceCenter,
                county_code: code.to_string(),
                address: format!("{}{name}行政服务中心一楼综合窗口", city_of(code)),
                hours: standard_hours(),
                windows: 5,
                pickup: true,
                phone: "12345".into(),
                slot_minutes: 30,
                slot_capacity: None,
            });
        }
        let mut hospitals: Vec<&Institution> = institutions
            .iter()
            .filter(|i| i.kind == crate::sharing::InstitutionKind::Midwifery)
            .collect();
        hospitals.sort_by(|a, b| a.code.cmp(&b.code));
        for i in hospitals {
            list.push(Site {
                site_id: i.code.clone(),
                name: i.name.clone(),
                kind: SiteKind::Hospital,
                county_code: i.county_code.clone(),
                address: format!("{}（出生“一件事”专窗）", i.name),
                hours: standard_hours(),
                windows: 2,
                pickup: true,
                phone: "12345".into(),
                slot_minutes: 30,
                slot_capacity: None,
            });
        }
        Sites { list }
    }

    /// An operator's file: `{"sites": [...]}` (or the bare list), every site valid.
    pub fn from_json(text: &str) -> Result<Sites, String> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum File {
            Wrapped { sites: Vec<Site> },
            Bare(Vec<Site>),
        }
        let list = match serde_json::from_str::<File>(text).map_err(|e| e.to_string())? {
            File::Wrapped { sites } | File::Bare(sites) => sites,
        };
        let divisions = crate::idnum::Divisions::current();
        let mut seen = std::collections::HashSet::new();
        for s in &list {
            let bad = |why: &str| Err(format!("site {:?}: {why}", s.site_id));
            if s.site_id.trim().is_empty() || s.name.trim().is_empty() {
                return bad("a site needs an id and a name");
            }
            if !seen.insert(s.site_id.clone()) || !seen.insert(format!("name:{}", s.name)) {
                return bad("site ids and names must be unique");
            }
            if !divisions.is_current_county(&s.county_code) {
                return bad("county_code is not a county code in force");
            }
            if s.periods().len() != s.hours.len() || s.hours.is_empty() {
                return bad(
                    "hours must be periods like {\"start\": \"09:00\", \"end\": \"12:00\"}",
                );
            }
            if s.windows == 0 || s.slot_minutes == 0 || s.slot_minutes > 240 {
                return bad("windows must be at least 1 and slot_minutes 1–240");
            }
        }
        Ok(Sites { list })
    }

    pub fn all(&self) -> &[Site] {
        &self.list
    }

    /// A site by its id or its exact name.
    pub fn find(&self, id_or_name: &str) -> Option<&Site> {
        let key = id_or_name.trim();
        self.list
            .iter()
            .find(|s| s.site_id == key)
            .or_else(|| self.list.iter().find(|s| s.name == key))
    }

    /// The sites within a division prefix (`33`, `3301`, `330106`).
    pub fn within(&self, prefix: &str) -> Vec<&Site> {
        self.list
            .iter()
            .filter(|s| s.county_code.starts_with(prefix))
            .collect()
    }
}

fn city_of(county: &str) -> String {
    let d = crate::idnum::Divisions::current();
    let city = format!("{}00", &county[..4.min(county.len())]);
    d.name(&city).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal() -> Calendar {
        Calendar::builtin(crate::UnknownYearPolicy::AssumeWeekdays)
    }

    #[test]
    fn the_sample_has_a_service_centre_per_county_and_the_registrys_hospitals() {
        let h = Institution {
            code: "H330106001".into(),
            name: "某妇产科医院".into(),
            county_code: "330106".into(),
            kind: crate::sharing::InstitutionKind::Midwifery,
        };
        let s = Sites::builtin(&[h], |_| true);
        let xihu = s.find("西湖区行政服务中心").expect("Xihu's centre");
        assert_eq!(xihu.county_code, "330106");
        assert_eq!(s.find(&xihu.site_id), Some(xihu));
        assert_eq!(s.find("H330106001").unwrap().kind, SiteKind::Hospital);
        assert!(s.within("3301").len() > 5);
        assert!(s.all().iter().all(|x| !x.county_code.ends_with("00")));
    }

    #[test]
    fn slots_fill_the_hours_of_working_days_only() {
        let s = Sites::builtin(&[], |c| c == "330106");
        let site = &s.all()[0];
        // 2026-12-01 is a Tuesday; 2026-12-05 a Saturday; 2026-10-01 National Day.
        let tue = site.slots(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), &cal());
        assert_eq!(tue.len(), 6 + 7);
        assert_eq!(tue[0].start.to_rfc3339(), "2026-12-01T09:00:00+08:00");
        assert_eq!(tue[6].start.to_rfc3339(), "2026-12-01T13:30:00+08:00");
        assert_eq!(tue[0].capacity, 5);
        let sat = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert!(site.slots(sat, &cal()).is_empty());
        let holiday = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        assert!(site.slots(holiday, &cal()).is_empty());
        assert!(site.slot_at(tue[3].start, &cal()).is_some());
        assert!(site
            .slot_at(tue[3].start + chrono::Duration::minutes(5), &cal())
            .is_none());
    }

    #[test]
    fn an_operators_file_is_checked() {
        let ok = r#"{"sites": [{"site_id": "A", "name": "甲", "kind": "service_center",
            "county_code": "330106", "address": "x", "hours": [{"start": "08:30", "end": "11:30"}],
            "windows": 2, "pickup": false, "phone": "1", "slot_capacity": 5}]}"#;
        let s = Sites::from_json(ok).unwrap();
        assert_eq!(s.find("甲").unwrap().capacity(), 5);
        let bad_county = ok.replace("330106", "330100");
        assert!(Sites::from_json(&bad_county).is_err());
        let bad_hours = ok.replace("11:30", "07:00");
        assert!(Sites::from_json(&bad_hours).is_err());
    }
}
