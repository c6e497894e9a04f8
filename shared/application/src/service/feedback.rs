//! Ratings (好差评), complaints and the departments' follow-up (inbox, answers, return
//! visits, rectifications).

use super::*;

/// `POST /v1/cases/{id}/rating`.
pub async fn rate(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<Rating, ServiceError> {
    load_changeable(
        app,
        actor,
        case_id,
        Changer::Guardian,
        "只有申请人本人可以评价",
    )
    .await?;
    let req: body::NewRating = body::parse(body)?;
    let mut p = Problems::default();
    let step = feedback_step(req.step.as_deref(), &mut p);
    let level = u8::try_from(req.level).ok().filter(|l| (1..=5).contains(l));
    if level.is_none() {
        p.push(
            "level",
            "range",
            "评价等级应为 1（非常不满意）到 5（非常满意）",
        );
    }
    let comment = match req.comment {
        None => None,
        Some(s) if s.trim().is_empty() => None,
        Some(s) if free_text_problem(&s, 500).is_none() => Some(s.trim().to_string()),
        Some(_) => {
            p.push(
                "comment",
                "format",
                "评价内容最多 500 个字符，且不能包含控制字符或不可见的格式字符",
            );
            None
        }
    };
    if !p.is_empty() {
        return Err(ServiceError::Invalid(p.0));
    }
    let now = app.now();
    let (rating, _) = app
        .repo()
        .update(case_id, |c| {
            let r = c
                .rate(
                    level.unwrap(),
                    comment.clone(),
                    step,
                    actor,
                    now,
                    &app.calendar,
                    &app.settings,
                )
                .map_err(domain_err)?;
            Ok::<_, ServiceError>(Change::Commit(r.clone(), vec![]))
        })
        .await?;
    Ok(rating)
}

/// `POST /v1/cases/{id}/complaints`.
pub async fn complain(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<Complaint, ServiceError> {
    load_changeable(
        app,
        actor,
        case_id,
        Changer::Guardian,
        "只有申请人本人可以投诉",
    )
    .await?;
    let req: body::NewComplaint = body::parse(body)?;
    let mut p = Problems::default();
    let step = feedback_step(req.step.as_deref(), &mut p);
    if !p.is_empty() {
        return Err(ServiceError::Invalid(p.0));
    }
    let text = match Some(req.text.trim()) {
        Some(t) if free_text_problem(t, 2000).is_none() => t.to_string(),
        _ => {
            return Err(ServiceError::Invalid(vec![Problem::new(
                "text",
                "required",
                "投诉内容应为 1 到 2000 个字符，且不能包含控制字符",
            )]))
        }
    };
    let now = app.now();
    let id = new_id("CP", app);
    let (complaint, _) = app
        .repo()
        .update(case_id, |c| {
            let x = c
                .complain(
                    id.clone(),
                    text.clone(),
                    step,
                    actor,
                    now,
                    &app.calendar,
                    &app.settings,
                )
                .map_err(domain_err)?;
            Ok::<_, ServiceError>(Change::Commit(x.clone(), vec![]))
        })
        .await?;
    Ok(complaint)
}

/// `POST /v1/cases/{id}/complaints/{complaint_id}/answer`: the responsible department
/// (or a supervisor) answers a complaint.
pub async fn answer_complaint(
    app: &App,
    actor: &Actor,
    case_id: &str,
    complaint_id: &str,
    body: &Value,
) -> Result<Complaint, ServiceError> {
    let (case, _) = load_visible(app, actor, case_id).await?;
    let Some(c) = case
        .complaints()
        .iter()
        .find(|c| c.complaint_id == complaint_id)
    else {
        return Err(ServiceError::NotFound);
    };
    // The responsible department's officers (or a supervisor) answer; a window officer
    // never answers a complaint, which may be about a window.
    let allowed = actor.role == Role::Supervisor || routed_to(actor, &case, c.dept, c.step);
    if !allowed {
        return Err(ServiceError::Forbidden("该投诉已转其他部门处理".into()));
    }
    let req: body::ComplaintAnswer = body::parse(body)?;
    let answer = match free_text_problem(&req.answer, 2000) {
        None => req.answer.trim().to_string(),
        Some((code, message)) => {
            return Err(ServiceError::Invalid(vec![Problem::new(
                "answer", code, message,
            )]))
        }
    };
    let now = app.now();
    let (v, _) = app
        .repo()
        .update(case_id, |c| {
            let x = c
                .answer_complaint(complaint_id, answer.clone(), actor, now)
                .map_err(domain_err)?
                .clone();
            let told = c.tell_follow_up();
            Ok::<_, ServiceError>(Change::Commit(x, vec![told]))
        })
        .await?;
    Ok(v)
}

/// Whether a complaint or bad rating routed to `dept` (about `step`) is this department
/// officer's to follow up: their department, the step handled in their region.
pub(super) fn routed_to(
    actor: &Actor,
    case: &Case,
    dept: domain::Dept,
    step: Option<Step>,
) -> bool {
    actor.role == Role::DeptOfficer
        && actor.dept == Some(dept)
        && case.step_in_scope(step.unwrap_or(Step::Acceptance), &actor.scope)
}

/// The optional `step` of a rating or complaint.
pub(super) fn feedback_step(step: Option<&str>, p: &mut Problems) -> Option<Step> {
    let s = step?;
    let parsed = Step::parse(s);
    if parsed.is_none() {
        p.push("step", "enum", "环节名称不正确");
    }
    parsed
}

/// `GET /v1/feedback[?status=open|closed|all]`: the bad ratings and complaints routed to
/// the officer's department, in their region (and hospital), oldest first, paged.
pub async fn feedback_inbox(
    app: &App,
    actor: &Actor,
    status: Option<&str>,
    page: &crate::paging::PageRequest,
) -> Result<crate::response::FeedbackList, ServiceError> {
    let dept = officer_dept(actor)?;
    let status = match status.unwrap_or("open") {
        s @ ("open" | "closed" | "all") => s,
        _ => {
            return Err(ServiceError::Invalid(vec![Problem::new(
                "status",
                "enum",
                "状态应为 open、closed 或 all",
            )]))
        }
    };
    let now = app.now();
    let items: Vec<domain::feedback::FeedbackItem> = app
        .reads
        .feedback_entries(
            dept,
            actor.scope.region_filter(),
            match status {
                "open" => Some(true),
                "closed" => Some(false),
                _ => None,
            },
        )
        .await?
        .into_iter()
        .filter(|e| e.routed_to(dept, &actor.scope))
        .map(|e| e.at(now))
        .filter(|f| status == "all" || f.status.as_str() == status)
        .collect();
    let (items, next_cursor) = page.page(items, |f| {
        crate::paging::time_key(f.created_at, &f.feedback_id, false)
    });
    Ok(crate::response::FeedbackList { items, next_cursor })
}

/// `POST /v1/feedback/{id}/answer | return-visit | rectification`: the department the item
/// is routed to records its follow-up.
pub async fn follow_up(
    app: &App,
    actor: &Actor,
    feedback_id: &str,
    action: &str,
    body: &Value,
) -> Result<(domain::feedback::FeedbackItem, String), ServiceError> {
    officer_dept(actor)?;
    let case_id = feedback_id
        .split('.')
        .next()
        .unwrap_or_default()
        .to_string();
    if !valid_identifier(feedback_id) || case_id.is_empty() {
        return Err(ServiceError::NotFound);
    }
    let now = app.now();
    let case = app
        .store
        .get(&case_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let item = case
        .feedback(now)
        .into_iter()
        .find(|f| f.feedback_id == feedback_id)
        .ok_or(ServiceError::NotFound)?;
    if !routed_to(actor, &case, item.dept, item.step) {
        return Err(ServiceError::NotFound);
    }
    let text = |field: &str, v: &str, max: usize| match free_text_problem(v, max) {
        None => Ok(v.trim().to_string()),
        Some((code, message)) => Err(ServiceError::Invalid(vec![Problem::new(
            field, code, message,
        )])),
    };
    let follow = match action {
        "answer" => {
            let req: body::FeedbackAnswer = body::parse(body)?;
            FollowUp::Answer(text("text", &req.text, 2000)?)
        }
        "return-visit" => {
            let req: body::ReturnVisit = body::parse(body)?;
            let visited_at = chrono::DateTime::parse_from_rfc3339(&req.visited_at)
                .ok()
                .filter(|t| *t <= now + Duration::minutes(5))
                .ok_or_else(|| {
                    ServiceError::Invalid(vec![Problem::new(
                        "visited_at",
                        "format",
                        "回访时间应为不晚于现在的 RFC 3339 时间",
                    )])
                })?;
            FollowUp::ReturnVisit {
                visited_at,
                summary: text("summary", &req.summary, 2000)?,
            }
        }
        "rectification" => {
            let req: body::Rectification = body::parse(body)?;
            FollowUp::Rectification(text("summary", &req.summary, 2000)?)
        }
        _ => return Err(ServiceError::NotFound),
    };
    let (item, _) = app
        .repo()
        .update(&case_id, |c| {
            let x = c
                .follow_up(feedback_id, follow.clone(), actor, now)
                .map_err(domain_err)?;
            let told = c.tell_follow_up();
            Ok::<_, ServiceError>(Change::Commit(x, vec![told]))
        })
        .await?;
    Ok((item, case_id))
}
