//! `GET /v1/supervision/report`: figures of the cases submitted in a period, summed from the
//! aggregates the stores keep as cases change ([`domain::projection`]).
//! Only case ids, statuses, times and counts appear: no personal data.

use crate::paging::PageRequest;
use crate::{App, ServiceError};
use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use domain::calendar::shanghai;
use domain::case::Actor;
use domain::flow::Dept;
use domain::problem::Problem;
use serde_json::{json, Value};
use std::collections::BTreeMap;

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
            None => actor.scope.region_filter().map(str::to_string),
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

/// The median and maximum of a histogram of tenths of an hour.
fn median_max(hist: &BTreeMap<i64, i64>) -> (Option<f64>, Option<f64>) {
    let total: i64 = hist.values().sum();
    if total <= 0 {
        return (None, None);
    }
    // The k-th value (0-based) in ascending order.
    let nth = |k: i64| {
        let mut seen = 0;
        for (v, c) in hist {
            seen += c;
            if seen > k {
                return *v as f64 / 10.0;
            }
        }
        *hist.keys().last().expect("not empty") as f64 / 10.0
    };
    let median = if total % 2 == 1 {
        nth(total / 2)
    } else {
        (nth(total / 2 - 1) + nth(total / 2)) / 2.0
    };
    let max = hist
        .iter()
        .rev()
        .find(|(_, c)| **c > 0)
        .map(|(v, _)| *v as f64 / 10.0);
    (Some(median), max)
}

/// Figures of a department or a region, summed from step counters.
#[derive(Default)]
struct Figures {
    handled: i64,
    on_time: i64,
    hours: BTreeMap<i64, i64>,
    open: i64,
    open_overdue: i64,
    returned: i64,
    rejected: i64,
}

impl Figures {
    fn add(&mut self, name: &str, n: i64) {
        match name {
            "handled" => self.handled += n,
            "on_time" => self.on_time += n,
            "open" => self.open += n,
            "open_overdue" => self.open_overdue += n,
            "returned" => self.returned += n,
            "rejected" => self.rejected += n,
            h => {
                if let Some(t) = h.strip_prefix('h').and_then(|t| t.parse::<i64>().ok()) {
                    *self.hours.entry(t).or_default() += n;
                }
            }
        }
    }
    fn json(&self) -> Value {
        let rate =
            (self.handled > 0).then(|| round1(100.0 * self.on_time as f64 / self.handled as f64));
        let (median, max) = median_max(&self.hours);
        json!({
            "cases_handled": self.handled, "on_time": self.on_time, "on_time_rate_percent": rate,
            "median_handling_working_hours": median.map(round1),
            "max_handling_working_hours": max.map(round1),
            "open_tasks": self.open, "open_overdue_tasks": self.open_overdue,
            "returned": self.returned, "rejected": self.rejected,
        })
    }
}

/// Whether an hour bucket (`yyyymmddhh`, UTC) has wholly passed at `now`.
fn hour_passed(bucket: &str, now: chrono::DateTime<Utc>) -> bool {
    chrono::NaiveDateTime::parse_from_str(&format!("{bucket}0000"), "%Y%m%d%H%M%S")
        .map(|t| t.and_utc() + chrono::Duration::hours(1) <= now)
        .unwrap_or(false)
}

/// The months (`yyyymm`) from `from` to `to`.
fn months(from: NaiveDate, to: NaiveDate) -> Vec<String> {
    let mut out = vec![];
    let (mut y, mut m) = (from.year(), from.month());
    while (y, m) <= (to.year(), to.month()) {
        out.push(format!("{y:04}{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

/// The report for the days `from..=to` (Asia/Shanghai), summed from the stored aggregates
/// (one read per month, whatever the number of cases), with one page of the per-case list.
/// Case figures count each case once, in the county that accepted it; department, region
/// and follow-up figures count the steps and items handled in the region (of the
/// department, if asked).
pub async fn report(
    app: &App,
    from: NaiveDate,
    to: NaiveDate,
    filter: &ReportFilter,
    page: &PageRequest,
) -> Result<Value, ServiceError> {
    let tz = shanghai();
    let at_midnight = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .unwrap()
            .with_timezone(&Utc)
    };
    let (start, end) = (
        at_midnight(from),
        at_midnight(to + chrono::Duration::days(1)),
    );
    let now = app.now();
    let now_utc = now.with_timezone(&Utc);
    let region = filter.region.as_deref();
    let cells = app.reads.tallies(&months(from, to), region).await?;
    let Sums {
        depts,
        regions,
        case,
        mut by_status,
        ratings,
        fb_open,
        fb_closed,
        fb_overdue,
    } = Sums::of(&cells, from, to, filter.dept, now_utc);
    by_status.retain(|_, n| *n != 0);
    let get = |k: &str| case.get(k).copied().unwrap_or(0);
    let (rows, next) = app
        .reads
        .case_rows(start, end, region, page.after.as_deref(), page.limit)
        .await?;
    let per_case: Vec<domain::projection::CaseRow> = rows.into_iter().map(|r| r.at(now)).collect();
    let depts_json: Vec<Value> = depts
        .iter()
        .map(|(dept, d)| {
            let mut v = d.json();
            v["dept"] = json!(dept);
            v["dept_name"] = json!(dept.name_zh());
            v
        })
        .collect();
    let ratio = |a: i64, b: i64| (b > 0).then(|| round1(100.0 * a as f64 / b as f64));
    let cal = &app.calendar;
    let (shared_n, uploaded_n) = (get("shared"), get("uploaded"));
    Ok(json!({
        "period": {"from": from, "to": to, "timezone": "Asia/Shanghai"},
        "generated_at": now,
        "source": "aggregates",
        "cases": {"total": get("total"), "by_status": by_status, "completed": get("completed"),
                  "completed_within_4_working_days": get("completed_on_time"),
                  "on_time_rate_percent": ratio(get("completed_on_time"), get("completed")),
                  "joint_handling_executed": get("joint")},
        "bundles": bundle_figures(&case, &ratio),
        "filter": {"region": filter.region, "dept": filter.dept},
        "departments": depts_json,
        "regions": regions_json(&regions),
        "per_case": per_case,
        "per_case_next_cursor": next.map(|k| crate::paging::cursor_for(&k)),
        "ratings": {"by_level": ratings, "bad_ratings_open": get("bad_open")},
        "complaints": {"open": get("complaints_open"), "answered": get("complaints_answered")},
        "follow_ups": {"open": fb_open, "closed": fb_closed, "overdue": fb_overdue},
        "materials": {"by_data_sharing": shared_n, "uploaded": uploaded_n,
                      "data_sharing_rate_percent": ratio(shared_n, shared_n + uploaded_n)},
        "archive": {"finished_cases": get("finished"), "archived": get("archived"),
                    "completeness_percent": ratio(get("archived"), get("finished"))},
        "calendar": {"known_years": cal.known_years(), "unknown_year_policy": cal.policy()},
    }))
}

/// Each region's figures, named.
fn regions_json(regions: &BTreeMap<String, Figures>) -> Vec<Value> {
    regions
        .iter()
        .map(|(region, d)| {
            let mut v = d.json();
            v["region"] = json!(region);
            v["region_name"] = json!(domain::idnum::Divisions::current().name(region));
            v
        })
        .collect()
}

/// The cases of each bundle (一件事) in the period: the bundles other than 出生 count their
/// own; 出生's are the rest (every case made before the catalogue was one).
fn bundle_figures(
    case: &std::collections::BTreeMap<String, i64>,
    ratio: &dyn Fn(i64, i64) -> Option<f64>,
) -> Vec<Value> {
    let get = |k: &str| case.get(k).copied().unwrap_or(0);
    let mut ids: Vec<&str> = case
        .keys()
        .filter_map(|k| k.strip_prefix("bundle.")?.strip_suffix(".total"))
        .collect();
    ids.sort_unstable();
    let figures = |id: &str, total: i64, completed: i64, on_time: i64| {
        json!({"bundle": id, "total": total, "completed": completed, "completed_on_time": on_time,
               "on_time_rate_percent": ratio(on_time, completed)})
    };
    let of = |id: &str, name: &str| get(&format!("bundle.{id}.{name}"));
    let others: Vec<Value> = ids
        .iter()
        .map(|id| {
            figures(
                id,
                of(id, "total"),
                of(id, "completed"),
                of(id, "completed_on_time"),
            )
        })
        .collect();
    let sum = |name: &str| ids.iter().map(|id| of(id, name)).sum::<i64>();
    let mut out = vec![figures(
        "birth",
        get("total") - sum("total"),
        get("completed") - sum("completed"),
        get("completed_on_time") - sum("completed_on_time"),
    )];
    out.extend(others);
    out
}

/// The report's figures summed from the aggregate cells of the period.
#[derive(Default)]
struct Sums {
    depts: BTreeMap<Dept, Figures>,
    regions: BTreeMap<String, Figures>,
    case: BTreeMap<String, i64>,
    by_status: BTreeMap<String, i64>,
    ratings: BTreeMap<String, i64>,
    fb_open: i64,
    fb_closed: i64,
    fb_overdue: i64,
}

impl Sums {
    /// Case figures count each case once, in the county that accepted it; department,
    /// region and follow-up figures count what was handled there (of `dept`, if asked).
    fn of(
        cells: &[domain::projection::TallyCell],
        from: NaiveDate,
        to: NaiveDate,
        dept_filter: Option<Dept>,
        now_utc: chrono::DateTime<Utc>,
    ) -> Sums {
        let mut s = Sums {
            ratings: (1..=5).map(|l: u8| (l.to_string(), 0)).collect(),
            ..Sums::default()
        };
        let (f_month, f_day) = (
            from.format("%Y%m").to_string(),
            from.format("%d").to_string(),
        );
        let (t_month, t_day) = (to.format("%Y%m").to_string(), to.format("%d").to_string());
        for (cell, name, n) in domain::projection::in_days(
            cells,
            (f_month.as_str(), f_day.as_str()),
            (t_month.as_str(), t_day.as_str()),
        ) {
            if cell.unit == domain::projection::CASE_UNIT {
                let (map, key) = if let Some(st) = name.strip_prefix("status.") {
                    (&mut s.by_status, st)
                } else if let Some(l) = name.strip_prefix("rating.") {
                    (&mut s.ratings, l)
                } else {
                    (&mut s.case, name)
                };
                *map.entry(key.to_string()).or_default() += n;
                continue;
            }
            let Some(dept) = Dept::parse(&cell.unit) else {
                continue;
            };
            if dept_filter.is_some_and(|d| d != dept) {
                continue;
            }
            match name {
                "fb_open" => s.fb_open += n,
                "fb_closed" => s.fb_closed += n,
                _ if name.starts_with("fb_due.") => {
                    if hour_passed(&name["fb_due.".len()..], now_utc) {
                        s.fb_overdue += n;
                    }
                }
                _ => {
                    s.depts.entry(dept).or_default().add(name, n);
                    s.regions
                        .entry(cell.county.clone())
                        .or_default()
                        .add(name, n);
                }
            }
        }
        s
    }
}
