//! `GET /v1/cases/{id}` and `GET /v1/cases`: what each reader may see of a case, every
//! read of personal data audited.

use super::*;

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
        super::break_glass::open_in_full(app, actor, &case, reason).await?;
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
    let me = domain::idnum::normalise(&actor.sub);
    let cases = app.store.by_person(&me).await?;
    let lines = cases
        .iter()
        .filter_map(|c| Some(CaseSummary::of(c, CaseRole::of(c, &me)?)))
        .collect();
    let (cases, next_cursor) = page.page(lines, |c| {
        crate::paging::time_key(c.submitted_at, &c.case_id, true)
    });
    Ok(CaseList { cases, next_cursor })
}
