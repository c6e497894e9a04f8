//! Parents and consent: `POST /v1/cases/{id}/confirm-parent`, `/decline`, `/object`
//! (a parent the case names, in their own account) and `/void` (the police of the case's
//! region, or a window of the site that accepted it). See `domain::case::parentage`.

use super::*;
use domain::case::Parentage;
use domain::form::ParentRole;

/// The parents' consent an application starts with: whether a marriage record binds the
/// named father to the mother (婚生推定), and the phones data sharing holds for them (where
/// the parent who did not apply is told). With it, the cases that already name the mother
/// for this newborn (one read, used again once the application is made).
pub(super) async fn at_application(
    app: &App,
    form: &Form,
    now: domain::case::Time,
) -> Result<(Parentage, Vec<Case>), ServiceError> {
    let mother = form.mother.id_number.as_str();
    // Without consent to data sharing no marriage record is looked up: the mother
    // confirms the father's application herself.
    let married = match &form.father {
        Some(f) if form.shares_data() => app
            .sharing
            .marriage(f.id_number.as_str(), mother)
            .await?
            .is_some(),
        _ => false,
    };
    let mut p = Parentage::at_application(form, married, now);
    // Voided cases of this newborn: their numbers are never issued again.
    let siblings = app
        .store
        .naming_newborn(mother, &form.newborn_claim())
        .await?;
    p.prior_voids = siblings
        .iter()
        .filter(|c| c.status() == domain::CaseStatus::Voided)
        .count() as u32;
    p.mother_phone = app.sharing.person(mother).await?.and_then(|m| m.phone);
    if let Some(f) = &form.father {
        p.father_phone = app
            .sharing
            .person(f.id_number.as_str())
            .await?
            .and_then(|x| x.phone);
    }
    Ok((p, siblings))
}

/// The case `case_id` for a guardian it names as a parent, and which parent; 404 for
/// anyone else (never reveal that someone else's case exists).
async fn named(
    app: &App,
    actor: &Actor,
    case_id: &str,
) -> Result<(Case, ParentRole), ServiceError> {
    if actor.role != Role::Guardian {
        return Err(ServiceError::Forbidden(
            "只有申请中列明的新生儿父母本人可以确认、不同意或提出异议".into(),
        ));
    }
    let (case, _) = load_visible(app, actor, case_id).await?;
    let parent = case
        .named_parent(&actor.sub)
        .ok_or(ServiceError::NotFound)?;
    Ok((case, parent))
}

/// `POST /v1/cases/{id}/confirm-parent`: the mother (or the named father) confirms in
/// their own account. The mother's confirmation of a case awaiting it starts acceptance
/// and claims the newborn (409 `duplicate_newborn` if another live case holds it), and
/// ends every other unconfirmed case naming her for this newborn.
pub async fn confirm_parent(app: &App, actor: &Actor, case_id: &str) -> Result<Case, ServiceError> {
    let (_, parent) = named(app, actor, case_id).await?;
    let now = app.now();
    let cal = app.calendar.clone();
    let done = app
        .repo()
        .update(case_id, |c| {
            let effects = c
                .confirm_parent(parent, actor, now, &cal)
                .map_err(|e| Confirming::Service(domain_err(e)))?;
            if effects.is_empty() {
                return Ok::<_, Confirming>(Change::Keep(()));
            }
            Ok(Change::Commit((), effects))
        })
        .await;
    let case = match done {
        Ok(((), case)) => case,
        Err(Confirming::Taken(holder)) => return Err(duplicate(app, actor, holder).await),
        Err(Confirming::Service(e)) => return Err(e),
    };
    tracing::info!(case_id, parent = ?parent, actor = %actor.label(), "parent confirmed");
    if parent == ParentRole::Mother {
        end_unconfirmed_siblings(app, &case).await?;
    }
    Ok(case)
}

/// A confirmation's failure: the newborn held by another case (whose id only its own
/// parties are told), or anything else.
enum Confirming {
    Taken(String),
    Service(ServiceError),
}

impl From<crate::repo::RepoError> for Confirming {
    fn from(e: crate::repo::RepoError) -> Self {
        match e {
            crate::repo::RepoError::Store(StoreError::Taken { holder: case_id }) => {
                Confirming::Taken(case_id)
            }
            other => Confirming::Service(other.into()),
        }
    }
}

/// Every other case awaiting confirmation for `case`'s newborn (same mother, birth date and
/// order) is withdrawn, and its applicant told: the mother applied herself or confirmed
/// this one.
pub(super) async fn end_unconfirmed_siblings(app: &App, case: &Case) -> Result<(), ServiceError> {
    let mother = case.form().mother.id_number.as_str();
    let others = app
        .store
        .naming_newborn(mother, &case.newborn_claim())
        .await?;
    withdraw_unconfirmed(app, case, others).await;
    Ok(())
}

/// Of `others` (cases naming `case`'s mother for its newborn), those awaiting
/// confirmation are withdrawn and their applicants told.
pub(super) async fn withdraw_unconfirmed(app: &App, case: &Case, others: Vec<Case>) {
    let system = Actor::system(domain::Dept::ServiceCenter);
    for other in others {
        if other.case_id() == case.case_id()
            || other.status() != domain::CaseStatus::AwaitingConfirmation
        {
            continue;
        }
        let now = app.now();
        let reason = "新生儿母亲已本人提出或确认同一新生儿的申请，本申请撤回".to_string();
        let id = other.case_id().to_string();
        let r = app
            .repo()
            .update(&id, |c| {
                if c.status() != domain::CaseStatus::AwaitingConfirmation {
                    return Ok::<_, ServiceError>(Change::Keep(()));
                }
                let effects = c
                    .withdraw(reason.clone(), &system, now)
                    .map_err(domain_err)?;
                Ok(Change::Commit((), effects))
            })
            .await;
        match r {
            Ok(_) => {
                tracing::info!(case_id = %id, "unconfirmed case withdrawn for the mother's own")
            }
            Err(e) => {
                tracing::warn!(case_id = %id, error = %e, "an unconfirmed case was not withdrawn")
            }
        }
    }
}

/// A parent's reason (required for an objection and a void; optional to decline).
pub(super) fn reason_of(
    body: &Value,
    required: bool,
    default: &str,
) -> Result<String, ServiceError> {
    let req: body::Withdrawal = body::parse(body)?;
    match req.reason.as_deref().map(str::trim) {
        None | Some("") if !required => Ok(default.to_string()),
        r => match free_text_problem(r.unwrap_or(""), 500) {
            None => Ok(r.unwrap_or("").to_string()),
            Some((code, message)) => Err(ServiceError::Invalid(vec![Problem::new(
                "reason", code, message,
            )])),
        },
    }
}

/// `POST /v1/cases/{id}/decline`: the named parent who did not apply refuses a case
/// awaiting their confirmation; it is withdrawn.
pub async fn decline(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<Case, ServiceError> {
    let (case, parent) = named(app, actor, case_id).await?;
    if case.owner() == domain::idnum::normalise(&actor.sub) {
        return Err(ServiceError::Forbidden("申请人本人请使用撤回申请".into()));
    }
    let reason = reason_of(body, false, "新生儿母亲不同意该申请")?;
    let now = app.now();
    let (_, case) = app
        .repo()
        .update(case_id, |c| {
            let effects = c.decline(parent, actor, now).map_err(|e| match e {
                domain::DomainError::InvalidState { .. } => ServiceError::ConflictCode {
                    code: "not_awaiting_confirmation",
                    message: "该申请不在等待您确认的状态，不能选择不同意；如有异议请提出异议"
                        .into(),
                },
                other => domain_err(other),
            })?;
            Ok::<_, ServiceError>(Change::Commit((), effects))
        })
        .await?;
    tracing::info!(
        case_id,
        reason_len = reason.chars().count(),
        "parent declined"
    );
    Ok(case)
}

/// `POST /v1/cases/{id}/object`: a named parent objects before completion; the police
/// review the case with the objection as its reason.
pub async fn object(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<Case, ServiceError> {
    let (_, parent) = named(app, actor, case_id).await?;
    let reason = reason_of(body, true, "")?;
    let now = app.now();
    let cal = app.calendar.clone();
    let finished = || ServiceError::ConflictCode {
        code: "finished",
        message: "该申请已办结或已终止，不能再提出异议；如有疑问请到受理窗口或公安机关咨询".into(),
    };
    let (_, case) = app
        .repo()
        .update(case_id, |c| {
            let effects =
                c.object(parent, reason.clone(), actor, now, &cal)
                    .map_err(|e| match e {
                        domain::DomainError::InvalidState { .. } => finished(),
                        other => domain_err(other),
                    })?;
            Ok::<_, ServiceError>(Change::Commit((), effects))
        })
        .await?;
    tracing::info!(case_id, parent = ?parent, "parent objected");
    Ok(case)
}

/// `POST /v1/cases/{id}/void`: the police of the case's region (where its household
/// registration is handled), or a window officer of the site that accepted it, void a
/// fraudulent case.
pub async fn void(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<Case, ServiceError> {
    let case = crate::authz::load_unchecked(app, case_id).await?;
    // The police of the region, even before their step started (an unconfirmed case
    // never reaches it); a window of the site that took an offline case.
    let police = actor.role == Role::DeptOfficer
        && actor.dept == Some(domain::Dept::Police)
        && case.step_in_scope(domain::Step::HouseholdRegistration, &actor.scope);
    let sees = crate::authz::viewer(actor, &case).is_some();
    let window = actor.role == Role::WindowOfficer && sees && case.channel().is_offline();
    if !(police || window) {
        if !sees {
            return Err(ServiceError::NotFound);
        }
        return Err(ServiceError::Forbidden(
            "只有案件所在地公安机关或受理窗口的工作人员可以作废申请".into(),
        ));
    }
    let reason = reason_of(body, true, "")?;
    let now = app.now();
    let (_, case) = app
        .repo()
        .update(case_id, |c| {
            let effects = c.void(reason.clone(), actor, now).map_err(|e| match e {
                domain::DomainError::InvalidState { .. } => ServiceError::ConflictCode {
                    code: "already_voided",
                    message: "该申请已作废".into(),
                },
                other => domain_err(other),
            })?;
            Ok::<_, ServiceError>(Change::Commit((), effects))
        })
        .await?;
    tracing::warn!(case_id, actor = %actor.label(), "case voided");
    Ok(case)
}
