//! Sites' slots and appointments (6.1.2 预约): what the API calls, and the reminder the
//! SLA monitor sends on the working day before.

use crate::{App, ServiceError};
use chrono::{NaiveDate, Timelike};
use domain::appointment::{Appointment, AppointmentStatus, Purpose};
use domain::case::{Actor, NoticeKind, Role};
use domain::notice::Notification;
use domain::sites::Site;
use domain::Problem;
use ports::Booking;
use serde_json::{json, Value};

fn site<'a>(app: &'a App, site_id: &str) -> Result<&'a Site, ServiceError> {
    app.sites.find(site_id).ok_or(ServiceError::NotFound)
}

fn date(s: Option<&str>) -> Result<NaiveDate, ServiceError> {
    s.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| {
            ServiceError::Invalid(vec![Problem::new(
                "date",
                "format",
                "请以 YYYY-MM-DD 格式填写日期",
            )])
        })
}

/// `GET /v1/sites/{site_id}/slots?date=`: the day's slots (none on a day off) with what
/// is booked.
pub async fn slots(app: &App, site_id: &str, day: Option<&str>) -> Result<Value, ServiceError> {
    let site = site(app, site_id)?;
    let day = date(day)?;
    let slots = site.slots(day, &app.calendar);
    let booked = if slots.is_empty() {
        vec![]
    } else {
        app.appointments.at_site(&site.site_id, day).await?
    };
    let rows: Vec<Value> = slots
        .iter()
        .map(|s| {
            let n = booked
                .iter()
                .filter(|a| a.is_active() && a.start == s.start)
                .count();
            json!({"start": s.start, "end": s.end, "capacity": s.capacity, "booked": n})
        })
        .collect();
    Ok(json!({"site_id": site.site_id, "date": day, "slots": rows}))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BookingRequest {
    site_id: Option<String>,
    start: Option<String>,
    purpose: Option<String>,
    #[serde(default)]
    case_id: Option<String>,
}

/// `POST /v1/appointments` (guardian).
pub async fn book(app: &App, actor: &Actor, body: &Value) -> Result<Value, ServiceError> {
    let req: BookingRequest = crate::body::parse(body)?;
    let now = app.now();
    let mut problems = vec![];
    let chosen = choice(app, &req, now, &mut problems);
    let phone = reminder_phone(app, actor, req.case_id.as_deref(), &mut problems).await?;
    let Some((site, slot, purpose)) = chosen.filter(|_| problems.is_empty()) else {
        return Err(ServiceError::Invalid(problems));
    };
    // Booking and cancelling over and over would hold slots from everyone else.
    let today = now.date_naive();
    let booked_today = app
        .appointments
        .of_guardian(&actor.sub)
        .await?
        .iter()
        .filter(|a| a.created_at.date_naive() == today)
        .count();
    if booked_today >= app.settings.bookings_per_day {
        return Err(ServiceError::ConflictCode {
            code: "limit_reached",
            message: format!(
                "每人每天最多预约 {} 次（含已取消的预约），请明天再试",
                app.settings.bookings_per_day
            )
            .into(),
        });
    }
    let r = uuid::Uuid::new_v4().as_u128();
    let a = Appointment {
        appointment_id: format!("AP{}{}", now.format("%Y%m%d"), &format!("{r:032X}")[..12]),
        code: format!("{:06}", (r >> 64) % 1_000_000),
        guardian: actor.sub.clone(),
        phone,
        site_id: site.site_id.clone(),
        start: slot.start,
        end: slot.end,
        purpose,
        case_id: req.case_id.clone(),
        status: AppointmentStatus::Active,
        created_at: now,
        cancelled_at: None,
        reminded: false,
    };
    match app.appointments.book(&a, slot.capacity).await? {
        Booking::Booked => Ok(a.view(false)),
        Booking::SlotFull => Err(ServiceError::ConflictCode {
            code: "slot_full",
            message: "该时段已约满，请另选时段".into(),
        }),
        Booking::AlreadyBooked(existing) => Err(ServiceError::ConflictCode {
            code: "already_booked",
            message: format!(
                "您已有一个{}预约（{}），请先取消再预约",
                purpose.name_zh(),
                existing.start.format("%Y-%m-%d %H:%M")
            )
            .into(),
        }),
    }
}

/// The site, the slot (of that site, still ahead) and the purpose the request chose, or
/// None with every problem pushed.
fn choice<'s>(
    app: &'s App,
    req: &BookingRequest,
    now: domain::case::Time,
    problems: &mut Vec<Problem>,
) -> Option<(&'s Site, domain::sites::Slot, Purpose)> {
    let found = match req.site_id.as_deref() {
        None => {
            problems.push(Problem::new("site_id", "required", "请选择办理点位"));
            None
        }
        Some(id) => {
            let s = app.sites.find(id);
            if s.is_none() {
                problems.push(Problem::new(
                    "site_id",
                    "unknown_site",
                    "办理点位不在列表中（见 GET /v1/sites）",
                ));
            }
            s
        }
    };
    let start = start_of(req.start.as_deref(), problems);
    let purpose = purpose_of(req.purpose.as_deref(), problems);
    let site = found?;
    let slot = match site.slot_at(start?, &app.calendar) {
        None => {
            problems.push(Problem::new(
                "start",
                "not_a_slot",
                "该时间不是此办理点位的预约时段（见 GET /v1/sites/{site_id}/slots）",
            ));
            return None;
        }
        Some(s) if s.start <= now => {
            problems.push(Problem::new("start", "past", "该时段已过，请另选时段"));
            return None;
        }
        Some(s) if s.start > now + chrono::Duration::days(app.settings.booking_horizon_days) => {
            problems.push(Problem::new(
                "start",
                "too_far",
                format!("只能预约 {} 日内的时段", app.settings.booking_horizon_days),
            ));
            return None;
        }
        Some(s) => s,
    };
    Some((site, slot, purpose?))
}

/// The slot's start the request names, or None with the problem pushed.
fn start_of(
    start: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    match start.map(chrono::DateTime::parse_from_rfc3339) {
        None => {
            problems.push(Problem::new("start", "required", "请选择预约时段"));
            None
        }
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => {
            problems.push(Problem::new(
                "start",
                "format",
                "预约时段开始时间应为带时区的时间，如 2026-12-03T09:00:00+08:00",
            ));
            None
        }
    }
}

/// The purpose the request names, or None with the problem pushed.
fn purpose_of(purpose: Option<&str>, problems: &mut Vec<Problem>) -> Option<Purpose> {
    let Some(p) = purpose else {
        problems.push(Problem::new("purpose", "required", "请选择预约事项"));
        return None;
    };
    let x = Purpose::parse(p);
    if x.is_none() {
        problems.push(Problem::new(
            "purpose",
            "enum",
            "预约事项应为 apply（窗口申请）或 pickup（领取证件）",
        ));
    }
    x
}

/// The phone the reminder goes to: the named case's (which must be the guardian's own),
/// or the guardian's latest case's.
async fn reminder_phone(
    app: &App,
    actor: &Actor,
    case_id: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Result<Option<String>, ServiceError> {
    if let Some(id) = case_id {
        return Ok(match app.store.get(id).await? {
            Some(c) if c.owner() == actor.sub => Some(c.form().applicant.phone.clone()),
            _ => {
                problems.push(Problem::new(
                    "case_id",
                    "unknown_case",
                    "未找到您名下的该申请",
                ));
                None
            }
        });
    }
    let latest = app
        .store
        .by_owner(&actor.sub)
        .await?
        .into_iter()
        .max_by_key(|c| c.submitted_at());
    Ok(latest.map(|c| c.form().applicant.phone.clone()))
}

/// `GET /v1/appointments`: the guardian's own.
pub async fn mine(app: &App, actor: &Actor) -> Result<Value, ServiceError> {
    let list = app.appointments.of_guardian(&actor.sub).await?;
    let items: Vec<Value> = list.iter().map(|a| a.view(false)).collect();
    Ok(json!({"appointments": items, "next_cursor": null}))
}

/// `DELETE /v1/appointments/{id}`: the guardian cancels their own (again: the same).
pub async fn cancel(app: &App, actor: &Actor, id: &str) -> Result<Value, ServiceError> {
    match app.appointments.appointment(id).await? {
        Some(a) if a.guardian == actor.sub => {}
        _ => return Err(ServiceError::NotFound),
    }
    let a = app
        .appointments
        .cancel(id, app.now())
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(a.view(false))
}

/// `GET /v1/sites/{site_id}/appointments?date=`: a window officer's site's day (their
/// `site` claim, if any, must name this site); guardians' numbers masked.
pub async fn site_day(
    app: &App,
    actor: &Actor,
    site_id: &str,
    day: Option<&str>,
) -> Result<Value, ServiceError> {
    if actor.role != Role::WindowOfficer {
        return Err(ServiceError::Forbidden(
            "仅受理窗口工作人员可查看点位预约".into(),
        ));
    }
    let site = site(app, site_id)?;
    if crate::authz::own_site(app, actor).map(|s| &s.site_id) != Some(&site.site_id) {
        return Err(ServiceError::Forbidden("只能查看本点位的预约".into()));
    }
    if let Some(region) = actor.scope.region.as_deref() {
        if !site.county_code.starts_with(region) {
            return Err(ServiceError::Forbidden("只能查看本辖区点位的预约".into()));
        }
    }
    let day = date(day)?;
    let list = app.appointments.at_site(&site.site_id, day).await?;
    let items: Vec<Value> = list.iter().map(|a| a.view(true)).collect();
    Ok(json!({"site_id": site.site_id, "date": day, "appointments": items}))
}

/// The reminders of the working day before: run by the SLA monitor; acts during the
/// 09:00 hour (Beijing time), for appointments on the next working day not yet reminded.
/// Returns how many were sent.
pub async fn remind(app: &App, force: bool) -> Result<usize, ServiceError> {
    let now = app.now();
    if !force && now.hour() != 9 {
        return Ok(0);
    }
    let today = now.date_naive();
    let Ok(next) = app.calendar.add_workdays(today, 1) else {
        return Ok(0);
    };
    let next = next.date;
    let mut sent = 0;
    for site in app.sites.all() {
        for a in app.appointments.at_site(&site.site_id, next).await? {
            if !a.is_active() || a.reminded {
                continue;
            }
            if let Some(phone) = &a.phone {
                app.deliver(&Notification {
                    case_id: a.appointment_id.clone(),
                    seq: 1,
                    kind: NoticeKind::AppointmentReminder,
                    title: "预约提醒".into(),
                    body: a.reminder_text(&site.name),
                    phone: phone.clone(),
                })
                .await?;
                sent += 1;
            }
            app.appointments.mark_reminded(&a.appointment_id).await?;
        }
    }
    Ok(sent)
}
