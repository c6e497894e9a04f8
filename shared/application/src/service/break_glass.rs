//! Break-glass: a supervisor opens one case in full (past the masked view) with a reason
//! code from the settings' list; at most `break_glass_per_day` a day each; every one is
//! recorded, told to the region's supervision lead and listed by
//! `GET /v1/supervision/break-glass`.

use super::*;
use domain::audit::BreakGlassRead;
use domain::notice::Notification;

/// Let `actor` (a supervisor who may see `case` masked) read it in full for `reason`, or
/// refuse: not a supervisor (403), a reason not on the list (400), the day's reads used
/// up (429 until the next Beijing day).
pub(super) async fn open_in_full(
    app: &App,
    actor: &Actor,
    case: &Case,
    reason: &str,
) -> Result<(), ServiceError> {
    if actor.role != Role::Supervisor {
        return Err(ServiceError::Forbidden(
            "仅监督人员可因监督事由查看完整信息".into(),
        ));
    }
    if !app.settings.break_glass_reasons.iter().any(|r| r == reason) {
        return Err(ServiceError::Invalid(vec![Problem::new(
            "break_glass",
            "enum",
            "查看完整信息须注明有效的事由代码（见接口文档）",
        )]));
    }
    let read = BreakGlassRead {
        entry_id: new_id("BG", app),
        supervisor: actor.label(),
        case_id: case.case_id().to_string(),
        region: case.home_region(),
        reason_code: reason.to_string(),
        at: app.now().to_utc(),
    };
    if !app
        .reads
        .record_break_glass(&read, app.settings.break_glass_per_day)
        .await?
    {
        return Err(ServiceError::Throttled {
            message: format!(
                "今日已查阅 {} 件案件的完整信息，已达上限，请明日再查阅",
                app.settings.break_glass_per_day
            )
            .into(),
            retry_after: seconds_to_next_beijing_day(app.now().to_utc()),
        });
    }
    tracing::warn!(
        case_id = %read.case_id,
        reason,
        actor = %read.supervisor,
        "break-glass read of a case",
    );
    alert_lead(app, &read).await
}

/// The region's supervision lead is told of the read (by SMS when one is configured;
/// always in the log, where the alarm on break-glass reads watches).
async fn alert_lead(app: &App, read: &BreakGlassRead) -> Result<(), ServiceError> {
    let Some(lead) = app.settings.supervision_lead(&read.region) else {
        tracing::warn!(entry_id = %read.entry_id, "no supervision lead configured for the region");
        return Ok(());
    };
    let at = read.at.with_timezone(&domain::calendar::shanghai());
    app.deliver(&Notification {
        case_id: read.entry_id.clone(),
        seq: 1,
        kind: domain::case::NoticeKind::BreakGlassAlert,
        title: "监督查阅提醒".into(),
        body: format!(
            "监督人员 {} 于 {} 因“{}”查阅了申请（{}）的完整信息。",
            read.supervisor,
            at.format("%Y-%m-%d %H:%M"),
            reason_name(&read.reason_code),
            read.case_id
        ),
        phone: lead.phone.clone(),
    })
    .await?;
    Ok(())
}

/// A reason code's Chinese name (the code itself for an operator's own code).
pub fn reason_name(code: &str) -> &str {
    match code {
        "complaint_investigation" => "投诉调查",
        "fraud_investigation" => "欺诈调查",
        "legal_request" => "依法调取",
        other => other,
    }
}

fn seconds_to_next_beijing_day(now: chrono::DateTime<chrono::Utc>) -> u64 {
    let local = now.with_timezone(&domain::calendar::shanghai());
    let next = local.date_naive() + chrono::Days::new(1);
    let midnight = next
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(domain::calendar::shanghai()).single());
    midnight.map_or(3600, |m| (m - local).num_seconds().max(1) as u64)
}

/// `GET /v1/supervision/break-glass`: the break-glass reads of cases in the supervisor's
/// region, newest first, paged.
pub async fn break_glass_reads(
    app: &App,
    actor: &Actor,
    page: &crate::paging::PageRequest,
) -> Result<Value, ServiceError> {
    let (items, next) = app
        .reads
        .break_glass_reads(
            actor.scope.region_filter(),
            page.after.as_deref(),
            page.limit,
        )
        .await?;
    let items: Vec<Value> = items
        .iter()
        .map(|r| {
            json!({
                "entry_id": r.entry_id,
                "supervisor": r.supervisor,
                "case_id": r.case_id,
                "reason_code": r.reason_code,
                "reason": reason_name(&r.reason_code),
                "region": r.region,
                "at": r.at.with_timezone(&domain::calendar::shanghai()).to_rfc3339(),
            })
        })
        .collect();
    Ok(json!({
        "items": items,
        "next_cursor": next.map(|k| crate::paging::cursor_for(&k)),
    }))
}
