//! Who may see and change a case: every use case that reads one loads it through
//! [`load_visible`], and one that changes it on the family's behalf through
//! [`load_changeable`]. Which role or department may call an operation at all (only a
//! supervisor reads the report, only a hospital files births, ...) is the API's route
//! table's to say (`functions/api/src/route.rs`); a step's own rules on who decides are
//! the task's (`officer_dept`, `decide`).
//!
//! - Guardians: their own cases, in full.
//! - Window officers: the offline cases they entered, and those taken at their site
//!   (`site` claim; hospital windows also by `hospital`), in full.
//! - Department officers: cases that reached a step of their department, in full; the
//!   health unit (lead unit) sees every case masked.
//! - Supervisors: every case, masked.

use crate::{App, ServiceError};
use domain::case::{Actor, Case, Role};
use domain::flow::Dept;
use domain::view::Viewer;

/// How `actor` may see `case`, or None (then the case "does not exist" for them).
pub fn viewer(actor: &Actor, case: &Case) -> Option<Viewer> {
    match actor.role {
        // The owner in full; a parent the case names, with the other parent masked.
        Role::Guardian if case.owner() == actor.sub => Some(Viewer::Entitled),
        Role::Guardian => case.named_parent(&actor.sub).map(Viewer::Parent),
        Role::WindowOfficer => window_may_see(actor, case).then_some(Viewer::Entitled),
        Role::DeptOfficer => match actor.dept {
            Some(Dept::Health) => case.in_scope(&actor.scope).then_some(Viewer::Masked),
            // A department sees a case once a step of theirs, handled in their region
            // (and hospital), has started.
            Some(d) => case
                .steps()
                .iter()
                .any(|s| {
                    s.dept == d
                        && s.status != domain::StepStatus::Pending
                        && case.step_in_scope(s.step, &actor.scope)
                })
                .then_some(Viewer::Entitled),
            None => None,
        },
        Role::Supervisor => case.in_scope(&actor.scope).then_some(Viewer::Masked),
    }
}

/// A window officer sees the offline cases of their own unit taken at their own window's
/// site: the cases they entered themselves, and, with a `site` claim (hospital windows
/// also or instead a `hospital` claim), the cases taken at that site (and hospital). The
/// API refuses a window officer's token without either claim (scopes fail closed) and
/// names the site by its id when its claim names it by name.
fn window_may_see(actor: &Actor, case: &Case) -> bool {
    let channel_dept = case.channel().window_dept();
    if channel_dept.is_none() || channel_dept != actor.dept {
        return false;
    }
    let by = case.created_by();
    if by.role == Role::WindowOfficer && by.sub == actor.sub {
        return true;
    }
    let form = case.form();
    let site = actor.scope.site.as_ref().map(|s| {
        form.window
            .as_ref()
            .is_some_and(|w| w.site_id.as_deref() == Some(s.as_str()) || w.site.trim() == s.trim())
    });
    let hospital = actor
        .scope
        .hospital
        .as_ref()
        .map(|h| form.newborn.hospital_code == *h);
    (site.is_some() || hospital.is_some()) && site != Some(false) && hospital != Some(false)
}

pub async fn load_visible(
    app: &App,
    actor: &Actor,
    case_id: &str,
) -> Result<(Case, Viewer), ServiceError> {
    let case = load_unchecked(app, case_id).await?;
    let v = viewer(actor, &case).ok_or(ServiceError::NotFound)?;
    Ok((case, v))
}

/// The case `case_id`, or 404, for a use case that decides who may act on it itself
/// (the police void a case of their region before their step started).
pub async fn load_unchecked(app: &App, case_id: &str) -> Result<Case, ServiceError> {
    if !valid_identifier(case_id) {
        return Err(ServiceError::NotFound);
    }
    app.store.get(case_id).await?.ok_or(ServiceError::NotFound)
}

/// Identifiers are short ASCII alphanumerics with `.`, `-`, `_`: nothing else can name a
/// case, task or material (no path traversal through an identifier).
pub fn valid_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !s.contains("..")
}

/// Who may change a case on the family's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changer {
    /// Its guardian only.
    Guardian,
    /// Its guardian, or the window officer who took it.
    GuardianOrWindow,
}

/// The case `case_id` for `actor` to change as `who` allows, or 404 (not theirs to see)
/// or 403 with `refusal` (theirs to see, not to change).
pub async fn load_changeable(
    app: &App,
    actor: &Actor,
    case_id: &str,
    who: Changer,
    refusal: &'static str,
) -> Result<Case, ServiceError> {
    let (case, _) = load_visible(app, actor, case_id).await?;
    if !can_change(actor, &case, who == Changer::GuardianOrWindow) {
        return Err(ServiceError::Forbidden(refusal.into()));
    }
    Ok(case)
}

/// Whether `actor` may change the case as its guardian (or, with `window_too`, as the
/// window officer who entered it).
fn can_change(actor: &Actor, case: &Case, window_too: bool) -> bool {
    match actor.role {
        Role::Guardian => case.owner() == actor.sub,
        Role::WindowOfficer => window_too && viewer(actor, case).is_some(),
        _ => false,
    }
}

/// A window officer's own site: the one their `site` claim names (by id or name), or, for
/// a hospital window with only a `hospital` claim, that hospital's site.
pub fn own_site<'a>(app: &'a App, actor: &Actor) -> Option<&'a domain::sites::Site> {
    if actor.role != Role::WindowOfficer {
        return None;
    }
    match (&actor.scope.site, &actor.scope.hospital) {
        (Some(site), _) => app.sites.find(site),
        (None, Some(hospital)) => app.sites.find(hospital),
        (None, None) => None,
    }
}

/// The department of an officer who works tasks.
pub fn officer_dept(actor: &Actor) -> Result<Dept, ServiceError> {
    match (actor.role, actor.dept) {
        (Role::DeptOfficer, Some(d)) => Ok(d),
        _ => Err(ServiceError::Forbidden("任务仅供部门经办人员处理".into())),
    }
}
