//! `POST /v1/cases/{id}/corrections`: a correction after completion, redoing the steps
//! it affects.

use super::*;

/// `POST /v1/cases/{id}/corrections`: the owner of a completed case corrects it (the
/// rules of resubmission corrections: immutable fields, the dependency table). The
/// departments whose results depend on the change review and reissue; the answer names
/// the correction and whether it is in review or (nothing depended on it) done; the
/// corrected form comes with it (what data sharing was asked about).
pub async fn correct_after_completion(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<(Value, Form), ServiceError> {
    let (case, _) = load_visible(app, actor, case_id).await?;
    if case.owner() != actor.sub || actor.role != Role::Guardian {
        return Err(ServiceError::Forbidden(
            "办结后的更正由申请人本人提出".into(),
        ));
    }
    correctable(&case)?;
    let req: body::CorrectionRequest = body::parse(body)?;
    let now = app.now();
    // The materials the correction names count once their upload is checked (where the
    // upload went straight to the bucket, this is where it is confirmed).
    let mut unconfirmed = vec![];
    for id in &req.materials {
        if case.materials().iter().any(|m| &m.material_id == id) {
            if let Err(p) = confirm_upload(app, case_id, id).await? {
                unconfirmed.push(p);
            }
        }
    }
    let read = read_correction(app, &case, &req, now);
    if !unconfirmed.is_empty() {
        // Every problem at once: the request's and the uploads'.
        let mut problems = match read {
            Err(ServiceError::Invalid(p)) => p,
            Err(other) => return Err(other),
            Ok(_) => vec![],
        };
        problems.extend(unconfirmed);
        return Err(ServiceError::Invalid(problems));
    }
    let (form, reason) = read?;
    let facts = crate::handlers::gather(app, &form).await?;
    let correction_id = new_id("CR", app);
    let (_, case) = app
        .repo()
        .update(case_id, |c| {
            let effects = c
                .request_correction(
                    correction_id.clone(),
                    form.clone(),
                    Some(facts.clone()),
                    reason.clone(),
                    req.materials.clone(),
                    actor,
                    now,
                    (&app.calendar, &app.settings),
                )
                .map_err(domain_err)?;
            Ok::<_, ServiceError>(Change::Commit((), effects))
        })
        .await?;
    let c = case
        .corrections()
        .iter()
        .find(|c| c.correction_id == correction_id)
        .expect("recorded");
    let answer = json!({
        "correction_id": c.correction_id,
        "status": c.status,
        "case_id": case.case_id(),
        "changes": c.changes,
        "from_step": c.from_step,
    });
    Ok((answer, case.form().clone()))
}

/// The corrected form and the reason, when the request holds no problem (every problem at once).
fn read_correction(
    app: &App,
    case: &Case,
    req: &body::CorrectionRequest,
    now: domain::case::Time,
) -> Result<(Form, String), ServiceError> {
    let mut problems = vec![];
    let reason = match req.reason.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() && free_text_problem(r, 500).is_none() => r.to_string(),
        _ => {
            problems.push(Problem::new(
                "reason",
                "required",
                "请填写更正原因（最多 500 个字符）",
            ));
            String::new()
        }
    };
    for id in &req.materials {
        if !case.materials().iter().any(|m| &m.material_id == id) {
            problems.push(Problem::new(
                format!("materials.{id}"),
                "unknown",
                "本申请没有这份材料",
            ));
        }
    }
    let form = match req.corrections.clone() {
        None => {
            problems.push(Problem::new(
                "corrections",
                "required",
                "请填写要更正的内容",
            ));
            None
        }
        Some(c) => corrected_form(app, case, c, now, true, &mut problems),
    };
    // The applicant's name and phone change only by resubmission (where the old number
    // is told), never by a correction after completion.
    if let Some(f) = &form {
        for field in case.form().changed_fields(f) {
            if field == "applicant.name" || field == "applicant.phone" {
                problems.push(Problem::new(
                    format!("corrections.{field}"),
                    "resubmission_only",
                    "申请人姓名和联系电话只能在补正或退回后重新提交时修改",
                ));
            }
        }
    }
    if form
        .as_ref()
        .is_some_and(|f| case.form().changed_fields(f).is_empty())
    {
        problems.push(Problem::new(
            "corrections",
            "no_change",
            "更正内容与原申请相同",
        ));
    }
    match form {
        Some(form) if problems.is_empty() => Ok((form, reason)),
        _ => Err(ServiceError::Invalid(problems)),
    }
}

/// A completed case with no correction in review.
fn correctable(case: &Case) -> Result<(), ServiceError> {
    if case.status() != domain::CaseStatus::Completed {
        return Err(ServiceError::ConflictCode {
            code: "not_completed",
            message: "办件尚未办结：办理中的更正请在退回后重新提交".into(),
        });
    }
    if case.open_correction().is_some() {
        return Err(ServiceError::ConflictCode {
            code: "correction_in_review",
            message: "已有一项更正正在审核，请待其办结后再申请".into(),
        });
    }
    Ok(())
}
