//! `POST /v1/cases/{id}/withdraw`: the family withdraws an unfinished case.

use super::*;

/// `POST /v1/cases/{id}/withdraw`: the owner or the window officer withdraws while the
/// case waits (submitted, incomplete, returned).
pub async fn withdraw(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<Case, ServiceError> {
    load_changeable(
        app,
        actor,
        case_id,
        Changer::GuardianOrWindow,
        "只有申请人或受理窗口的工作人员可以撤回申请",
    )
    .await?;
    let req: body::Withdrawal = body::parse(body)?;
    let reason = match req.reason.as_deref().map(str::trim) {
        None | Some("") => "申请人撤回申请".to_string(),
        Some(r) if free_text_problem(r, 500).is_none() => r.to_string(),
        Some(_) => {
            return Err(ServiceError::Invalid(vec![Problem::new(
                "reason",
                "format",
                "撤回原因最多 500 个字符，且不能包含控制字符",
            )]))
        }
    };
    let now = app.now();
    let (_, case) = app
        .repo()
        .update(case_id, |c| {
            let effects = c.withdraw(reason.clone(), actor, now).map_err(domain_err)?;
            Ok::<_, ServiceError>(Change::Commit((), effects))
        })
        .await?;
    tracing::info!(case_id, actor = %actor.label(), "case withdrawn");
    Ok(case)
}
