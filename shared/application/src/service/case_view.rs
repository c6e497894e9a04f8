//! `GET /v1/cases/{id}` and `GET /v1/cases`: what each reader may see of a case, every
//! read of personal data audited.

use super::*;

/// Why a supervisor opens one case in full ("break-glass"): the only way past the masked
/// view, and always recorded in the audit trail with the reason.
pub const BREAK_GLASS_REASONS: [&str; 4] = [
    "complaint_investigation",
    "overdue_investigation",
    "legal_request",
    "data_subject_request",
];

/// `GET /v1/cases/{id}[?break_glass=REASON]`: the case as the caller may see it; a
/// supervisor may open it in full with a reason code.
pub async fn case_view(
    app: &App,
    actor: &Actor,
    case_id: &str,
    break_glass: Option<&str>,
) -> Result<Shown, ServiceError> {
    let (case, mut v) = load_visible(app, actor, case_id).await?;
    if let Some(reason) = break_glass {
        if actor.role != Role::Supervisor {
            return Err(ServiceError::Forbidden(
                "仅监督人员可因监督事由查看完整信息".into(),
            ));
        }
        if !BREAK_GLASS_REASONS.contains(&reason) {
            return Err(ServiceError::Invalid(vec![Problem::new(
                "break_glass",
                "enum",
                "查看完整信息须注明有效的事由代码（见接口文档）",
            )]));
        }
        tracing::warn!(case_id, reason, actor = %actor.label(), "break-glass read of a case");
        v = Viewer::Entitled;
    }
    let mut out = match Shown::of(&case, v) {
        Shown::Full(full) => *full,
        masked => return Ok(masked),
    };
    if v == Viewer::Entitled {
        let sent = app.notifier.sent(case_id).await?;
        out.notifications = Some(
            sent.into_iter()
                .map(|d| NotificationView {
                    body: d.notification.body,
                    channel: d.channel,
                    kind: d.notification.kind,
                    sent_at: d.sent_at,
                    seq: d.notification.seq,
                    title: d.notification.title,
                })
                .collect(),
        );
    }
    Ok(Shown::Full(Box::new(out)))
}

/// `GET /v1/cases`.
pub async fn my_cases(
    app: &App,
    actor: &Actor,
    page: &crate::paging::PageRequest,
) -> Result<CaseList, ServiceError> {
    if actor.role != Role::Guardian {
        return Err(ServiceError::Forbidden(
            "此列表仅供申请人查看本人的申请".into(),
        ));
    }
    let cases = app
        .store
        .by_owner(&domain::idnum::normalise(&actor.sub))
        .await?;
    let (cases, next_cursor) = page.page(cases.iter().map(CaseSummary::of).collect(), |c| {
        crate::paging::time_key(c.submitted_at, &c.case_id, true)
    });
    Ok(CaseList { cases, next_cursor })
}
