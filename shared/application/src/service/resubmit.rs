//! `POST /v1/cases/{id}/resubmit`: the family's corrected form and materials after a
//! return or an incomplete notice.

use super::*;

/// `POST /v1/cases/{id}/resubmit`.
pub async fn resubmit(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<Case, ServiceError> {
    let case = load_changeable(
        app,
        actor,
        case_id,
        Changer::GuardianOrWindow,
        "只有申请人或受理窗口的工作人员可以重新提交",
    )
    .await?;
    let req: body::Resubmission = body::parse(body)?;
    let mut problems = vec![];
    let ids = req.materials;
    for id in &ids {
        if !case.materials().iter().any(|m| &m.material_id == id) {
            problems.push(Problem::new(
                format!("materials.{id}"),
                "unknown",
                "本申请没有这份材料",
            ));
        } else if let Err(p) = confirm_upload(app, case_id, id).await? {
            problems.push(p);
        }
    }
    // Any other upload that landed counts too (e.g. uploaded straight to the bucket).
    for m in case
        .materials()
        .iter()
        .filter(|m| m.status == MaterialStatus::AwaitingUpload && !ids.contains(&m.material_id))
    {
        let _ = confirm_upload(app, case_id, &m.material_id).await?;
    }
    let now = app.now();
    let form = req.corrections.and_then(|c| {
        let owner_stays = case.created_by().role == Role::Guardian;
        corrected_form(app, &case, c, now, owner_stays, &mut problems)
    });
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    // Data sharing is asked again with the corrected form.
    let facts = if case.accepted_at().is_some() {
        Some(crate::handlers::gather(app, form.as_ref().unwrap_or(case.form())).await?)
    } else {
        None
    };
    let (_, case) = app
        .repo()
        .update(case_id, |c| {
            let effects = c
                .resubmit(
                    form.clone(),
                    facts.clone(),
                    actor,
                    now,
                    &app.calendar,
                    &app.settings,
                )
                .map_err(domain_err)?;
            Ok::<_, ServiceError>(Change::Commit((), effects))
        })
        .await?;
    Ok(case)
}

/// The form with a correction (a JSON merge patch) applied, or `None` with its problems
/// (under `corrections.`): immutable fields, sites, and (`owner_stays`) the guardian who
/// owns the case still one of the parents.
pub(super) fn corrected_form(
    app: &App,
    case: &Case,
    patch: serde_json::Map<String, Value>,
    now: domain::case::Time,
    owner_stays: bool,
    problems: &mut Vec<Problem>,
) -> Option<Form> {
    match case.form().corrected(&Value::Object(patch), now) {
        Ok(mut f) => {
            problems.extend(resolve_sites(app, &mut f, "corrections."));
            let owner = case.owner();
            let still = f.mother.id_number.as_str() == owner
                || f.father
                    .as_ref()
                    .is_some_and(|p| p.id_number.as_str() == owner);
            if owner_stays && !still {
                problems.push(Problem::new(
                    "corrections.father",
                    "owner_removed",
                    "更正不能将申请人本人从新生儿父母中移除",
                ));
            }
            Some(f)
        }
        Err(mut p) => {
            for x in p.iter_mut() {
                if !x.field.starts_with("corrections.") {
                    x.field = format!("corrections.{}", x.field);
                }
            }
            problems.extend(p);
            None
        }
    }
}
