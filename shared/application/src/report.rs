//! `GET /v1/supervision/report`: figures computed from the cases submitted in a period.
//! Only case ids, statuses, times and counts appear: no personal data.

use crate::{App, ServiceError};
use chrono::{NaiveDate, TimeZone, Utc};
use domain::calendar::shanghai;
use domain::case::{Actor, CaseStatus, MaterialSource, Role, StepStatus};
use domain::flow::Dept;
use domain::problem::Problem;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn parse_period(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(NaiveDate, NaiveDate), ServiceError> {
    let mut p = vec![];
    // Supervision covers this system's lifetime; dates far outside it are mistakes (and
    // the calendar arithmetic on them would overflow).
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).expect("date");
    let latest = NaiveDate::from_ymd_opt(2199, 12, 31).expect("date");
    let mut date = |name: &str, v: Option<&str>| match v.map(|s| s.parse::<NaiveDate>()) {
        Some(Ok(d)) if (earliest..=latest).contains(&d) => Some(d),
        Some(Ok(_)) => {
            p.push(Problem::new(
                name,
                "range",
                "日期应在 2000-01-01 到 2199-12-31 之间",
            ));
            None
        }
        Some(Err(_)) => {
            p.push(Problem::new(name, "format", "日期格式应如 2026-12-01"));
            None
        }
        None => {
            p.push(Problem::new(name, "required", "此项为必填项"));
            None
        }
    };
    let (f, t) = (date("from", from), date("to", to));
    if let (Some(f), Some(t)) = (f, t) {
        if f > t {
            p.push(Problem::new("to", "range", "结束日期不能早于开始日期"));
        } else if (t - f).num_days() > 366 {
            p.push(Problem::new("to", "range", "统计期间最长 366 天"));
        }
    }
    if !p.is_empty() {
        return Err(ServiceError::Invalid(p));
    }
    Ok((f.unwrap(), t.unwrap()))
}

/// The report's optional `region` (a division code prefix within the supervisor's own)
/// and `dept` filters.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub region: Option<String>,
    pub dept: Option<Dept>,
}

impl ReportFilter {
    pub fn parse(
        actor: &Actor,
        region: Option<&str>,
        dept: Option<&str>,
    ) -> Result<ReportFilter, ServiceError> {
        let mut p = vec![];
        let region = match region {
            None => actor.scope.region.clone(),
            Some(r)
                if (2..=6).contains(&r.len())
                    && r.len().is_multiple_of(2)
                    && r.bytes().all(|b| b.is_ascii_digit()) =>
            {
                // Within the supervisor's own region only.
                if actor
                    .scope
                    .region
                    .as_ref()
                    .is_some_and(|own| !r.starts_with(own.as_str()))
                {
                    return Err(ServiceError::Forbidden(
                        "只能查看本人监督范围内的地区".into(),
                    ));
                }
                Some(r.to_string())
            }
            Some(_) => {
                p.push(Problem::new(
                    "region",
                    "format",
                    "地区应为 2、4 或 6 位行政区划代码",
                ));
                None
            }
        };
        let dept = match dept {
            None => None,
            Some(d) => match Dept::parse(d) {
                Some(d) => Some(d),
                None => {
                    p.push(Problem::new("dept", "enum", "部门名称不正确"));
                    None
                }
            },
        };
        if !p.is_empty() {
            return Err(ServiceError::Invalid(p));
        }
        Ok(ReportFilter { region, dept })
    }
}

pub async fn report(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    filter: &ReportFilter,
) -> Result<Value, ServiceError> {
    if actor.role != Role::Supervisor {
        return Err(ServiceError::Forbidden("监督报告仅供监督人员查看".into()));
    }
    let scope = domain::case::Scope {
        region: filter.region.clone(),
        ..Default::default()
    };
    let tz = shanghai();
    let start = tz
        .from_local_datetime(&from.and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let end = tz
        .from_local_datetime(
            &(to + chrono::Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        )
        .unwrap()
        .with_timezone(&Utc);
    // The cases with a step in the region (and of the department, if asked).
    let cases: Vec<domain::Case> = app
        .store
        .submitted_between(start, end)
        .await?
        .into_iter()
        .filter(|c| {
            c.steps()
                .iter()
                .any(|s| c.step_in_scope(s.step, &scope) && filter.dept.is_none_or(|d| d == s.dept))
        })
        .collect();
    let now = app.now();
    let mut regions: BTreeMap<String, D> = BTreeMap::new();
    let (mut fb_open, mut fb_closed, mut fb_overdue) = (0usize, 0usize, 0usize);
    let cal = &app.calendar;

    #[derive(Default)]
    struct D {
        handled: usize,
        on_time: usize,
        hours: Vec<f64>,
        open_overdue: usize,
        open: usize,
        returned: usize,
        rejected: usize,
    }
    let mut depts: BTreeMap<Dept, D> = BTreeMap::new();
    let mut per_case = vec![];
    let mut ratings = BTreeMap::from([(1u8, 0usize), (2, 0), (3, 0), (4, 0), (5, 0)]);
    let (mut bad_open, mut complaints_open, mut complaints_answered) = (0, 0, 0);
    let (mut shared_n, mut uploaded_n) = (0usize, 0usize);
    let (mut finished, mut archived) = (0usize, 0usize);
    let mut by_status: BTreeMap<&'static str, usize> = BTreeMap::new();
    let (mut completed, mut completed_on_time, mut joint) = (0usize, 0usize, 0usize);

    for c in &cases {
        *by_status.entry(c.status().as_str()).or_default() += 1;
        for s in c.steps() {
            // Only the steps handled in the region (and of the department asked for).
            if !c.step_in_scope(s.step, &scope) || filter.dept.is_some_and(|d| d != s.dept) {
                continue;
            }
            let region = c.step_region(s.step).unwrap_or_else(|| "unknown".into());
            for d in [
                depts.entry(s.dept).or_default(),
                regions.entry(region).or_default(),
            ] {
                match (s.started_at, s.finished_at) {
                    (Some(st), Some(fin))
                        if matches!(s.status, StepStatus::Done | StepStatus::Rejected) =>
                    {
                        d.handled += 1;
                        if s.due_at.is_some_and(|due| fin <= due) {
                            d.on_time += 1;
                        }
                        d.hours.push(cal.working_hours_between(
                            st.with_timezone(&Utc),
                            fin.with_timezone(&Utc),
                        ));
                    }
                    _ => {}
                }
                if s.status == StepStatus::Returned {
                    d.returned += 1;
                }
                if s.status == StepStatus::Rejected {
                    d.rejected += 1;
                }
                if matches!(
                    s.status,
                    StepStatus::InProgress | StepStatus::AwaitingReview
                ) {
                    d.open += 1;
                    if s.due_at.is_some_and(|due| now > due) {
                        d.open_overdue += 1;
                    }
                }
            }
        }
        for f in c.feedback(now) {
            if filter.dept.is_some_and(|d| d != f.dept) {
                continue;
            }
            match f.status {
                "open" => fb_open += 1,
                _ => fb_closed += 1,
            }
            if f.overdue {
                fb_overdue += 1;
            }
        }
        let within = match c.status() {
            CaseStatus::Completed => {
                completed += 1;
                let ok = c.on_time() == Some(true);
                if ok {
                    completed_on_time += 1;
                }
                if c.steps().iter().all(|s| s.status == StepStatus::Done) {
                    joint += 1;
                }
                Some(ok)
            }
            _ => None,
        };
        per_case.push(json!({
            "case_id": c.case_id(), "status": c.status(), "channel": c.channel(),
            "submitted_at": c.submitted_at(), "accepted_at": c.accepted_at(), "due_at": c.due_at(), "finished_at": c.finished_at(),
            "completed_within_4_working_days": within,
            "overdue": c.overdue() || c.due_at().is_some_and(|d| !c.status().is_finished() && now > d),
            "archived": c.archive().is_some(),
            "guardian_working_days": c.guardian_working_days(),
        }));
        for r in c.ratings() {
            *ratings.entry(r.level).or_default() += 1;
            if r.bad.as_ref().is_some_and(|b| b.rectified_at.is_none()) {
                bad_open += 1;
            }
        }
        for x in c.complaints() {
            if x.status == "open" {
                complaints_open += 1;
            } else {
                complaints_answered += 1;
            }
        }
        if let Some(n) = &c.acceptance_notice() {
            for m in &n.received_materials {
                match m.source {
                    MaterialSource::DataSharing => shared_n += 1,
                    MaterialSource::Upload => uploaded_n += 1,
                    MaterialSource::Form => {}
                }
            }
        }
        if c.status().is_finished() {
            finished += 1;
            if c.archive().is_some() {
                archived += 1;
            }
        }
    }
    let figures = |d: &mut D| {
        let rate = (d.handled > 0).then(|| round1(100.0 * d.on_time as f64 / d.handled as f64));
        json!({
            "cases_handled": d.handled, "on_time": d.on_time, "on_time_rate_percent": rate,
            "median_handling_working_hours": median(&mut d.hours).map(round1),
            "max_handling_working_hours": d.hours.iter().cloned().fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x)))).map(round1),
            "open_tasks": d.open, "open_overdue_tasks": d.open_overdue,
            "returned": d.returned, "rejected": d.rejected,
        })
    };
    let depts_json: Vec<Value> = depts
        .into_iter()
        .map(|(dept, mut d)| {
            let mut v = figures(&mut d);
            v["dept"] = json!(dept);
            v["dept_name"] = json!(dept.name_zh());
            v
        })
        .collect();
    let regions_json: Vec<Value> = regions
        .into_iter()
        .map(|(region, mut d)| {
            let mut v = figures(&mut d);
            v["region"] = json!(region);
            v["region_name"] = json!(domain::idnum::Divisions::current().name(&region));
            v
        })
        .collect();
    let ratio = |a: usize, b: usize| {
        if b == 0 {
            None
        } else {
            Some(round1(100.0 * a as f64 / b as f64))
        }
    };
    Ok(json!({
        "period": {"from": from, "to": to, "timezone": "Asia/Shanghai"},
        "generated_at": now,
        "cases": {"total": cases.len(), "by_status": by_status, "completed": completed,
                  "completed_within_4_working_days": completed_on_time,
                  "on_time_rate_percent": ratio(completed_on_time, completed),
                  "joint_handling_executed": joint},
        "filter": {"region": filter.region, "dept": filter.dept},
        "departments": depts_json,
        "regions": regions_json,
        "per_case": per_case,
        "ratings": {"by_level": ratings.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
                    "bad_ratings_open": bad_open},
        "complaints": {"open": complaints_open, "answered": complaints_answered},
        "follow_ups": {"open": fb_open, "closed": fb_closed, "overdue": fb_overdue},
        "materials": {"by_data_sharing": shared_n, "uploaded": uploaded_n,
                      "data_sharing_rate_percent": ratio(shared_n, shared_n + uploaded_n)},
        "archive": {"finished_cases": finished, "archived": archived, "completeness_percent": ratio(archived, finished)},
        "calendar": {"known_years": cal.known_years(), "unknown_year_policy": cal.policy()},
    }))
}
