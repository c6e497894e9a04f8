//! `POST /v1/tasks/{task_id}/decision`: an officer approves, returns or rejects a step.

use super::*;

/// `POST /v1/tasks/{task_id}/decision`.
pub async fn decide(
    app: &App,
    actor: &Actor,
    task_id: &str,
    body: &Value,
) -> Result<Decided, ServiceError> {
    let dept = officer_dept(actor)?;
    if !valid_identifier(task_id) {
        return Err(ServiceError::NotFound);
    }
    let case_id = task_id.split('.').next().unwrap_or_default();
    let req: body::TaskDecision = body::parse(body)?;
    let (decision, reasons) = read_decision(&req)?;
    let version = req.version;
    let data = req.data.unwrap_or_default();
    let case = app
        .store
        .get(case_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let step = task_step(&case, task_id, dept, actor)?;
    let checked = checked_items(step, &req.checked)?;
    let now = app.now();
    if decision == Decision::Approve {
        let problems = domain::steps::approval_problems(step, &case, &data, &app.settings);
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
    }
    // A rejection still hands over what was issued: its tracking number or pick-up code
    // first (allocated once per case, so a retry gets the same).
    let handover_numbers = if decision == Decision::Reject {
        let wanted = domain::steps::issuance::rejection_allocations(&case);
        crate::handlers::allocate(app, &case, wanted).await?
    } else {
        domain::steps::Numbers::default()
    };
    let (_, case) = app
        .repo()
        .update(case_id, |c| {
            let handover = match decision {
                Decision::Reject => rejection_handover(c, &handover_numbers, now)?,
                _ => None,
            };
            let d = domain::case::OfficerDecision {
                task_id: task_id.to_string(),
                decision,
                reasons: reasons.clone(),
                data: data.clone(),
                version,
                checked: checked.clone(),
                handover,
            };
            let effects = c
                .decide(d, actor, now, &app.calendar)
                .map_err(|e| match e {
                    domain::DomainError::TaskNotOpen => {
                        ServiceError::Conflict("该任务已处理".into())
                    }
                    other => domain_err(other),
                })?;
            Ok::<_, ServiceError>(Change::Commit((), effects))
        })
        .await?;
    tracing::info!(task_id, decision = ?decision, actor = %actor.label(), "task decided");
    Ok(Decided {
        case_id: case.case_id().to_string(),
        decision,
        status: case.status(),
        task_id: task_id.to_string(),
        version: case.version(),
    })
}

/// The decision and its reasons (required to return or reject), with every problem.
fn read_decision(req: &body::TaskDecision) -> Result<(Decision, Vec<String>), ServiceError> {
    let mut p = Problems::default();
    let decision = match req.decision.as_str() {
        "approve" => Some(Decision::Approve),
        "return" => Some(Decision::Return),
        "reject" => Some(Decision::Reject),
        _ => {
            p.push("decision", "enum", "决定应为批准、退回或不通过");
            None
        }
    };
    let reasons: Vec<String> = req
        .reasons
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .map(String::from)
        .collect();
    if matches!(decision, Some(Decision::Return | Decision::Reject)) && reasons.is_empty() {
        p.push("reasons", "required", "退回或不通过须至少填写一条理由");
    }
    if reasons.len() > 20 {
        p.push("reasons", "too_many", "理由最多 20 条");
    }
    for (i, r) in reasons.iter().enumerate() {
        if let Some((code, message)) = free_text_problem(r, 500) {
            p.push(&format!("reasons[{i}]"), code, message);
        }
    }
    match decision {
        Some(d) if p.is_empty() => Ok((d, reasons)),
        _ => Err(ServiceError::Invalid(p.0)),
    }
}

/// The texts of the checklist items a decision says were confirmed, in the checklist's
/// order; an item the step's checklist does not hold is refused.
fn checked_items(step: Step, ids: &[String]) -> Result<Vec<String>, ServiceError> {
    let list = domain::steps::of(step).checklist();
    let mut p = Problems::default();
    for (i, id) in ids.iter().enumerate() {
        if !list.iter().any(|c| c.item_id == id) {
            p.push(
                &format!("checked[{i}]"),
                "enum",
                "核验项不属于该环节的核验清单",
            );
        }
    }
    if !p.is_empty() {
        return Err(ServiceError::Invalid(p.0));
    }
    Ok(list
        .iter()
        .filter(|c| ids.iter().any(|id| id == c.item_id))
        .map(|c| c.text.to_string())
        .collect())
}

/// The step of task `{case_id}.{step}.{round}` when it is this officer's to decide: a task
/// of another department, region or hospital, or a round that never was, is "not found";
/// one of theirs that is no longer open was decided already (409, from the case).
pub(super) fn task_step(
    case: &Case,
    task_id: &str,
    dept: Dept,
    actor: &Actor,
) -> Result<Step, ServiceError> {
    let mut seg = task_id.split('.');
    let step = seg
        .nth(1)
        .and_then(Step::parse)
        .ok_or(ServiceError::NotFound)?;
    let round: u32 = seg
        .next()
        .and_then(|r| r.parse().ok())
        .ok_or(ServiceError::NotFound)?;
    if case.step(step).dept != dept
        || !case.step_in_scope(step, &actor.scope)
        || round == 0
        || round > case.step(step).round
    {
        return Err(ServiceError::NotFound);
    }
    Ok(step)
}

/// The hand-over of results issued before a rejection, by the unit that took the
/// application (online units already handed over their own documents).
pub(super) fn rejection_handover(
    case: &Case,
    numbers: &domain::steps::Numbers,
    now: domain::case::Time,
) -> Result<Option<domain::steps::issuance::DeliveryRecord>, ServiceError> {
    use domain::steps::issuance;
    let items = issuance::undelivered_items(case);
    if items.is_empty() {
        return Ok(None);
    }
    issuance::delivery_record(
        case,
        Step::UnifiedIssuance,
        issuance::accepting_unit(case.channel()),
        items,
        numbers,
        now,
    )
    .map(Some)
    .map_err(ServiceError::Internal)
}
