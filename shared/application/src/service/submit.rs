//! `POST /v1/applications` (and a window's entry): a family's application, checked, sized and
//! created once per idempotency key; `GET /v1/sites`.

use super::*;

/// `POST /v1/applications`.
pub async fn submit(
    app: &App,
    actor: &Actor,
    key: Option<&str>,
    body: &Value,
) -> Result<(Case, bool), ServiceError> {
    if !matches!(actor.role, Role::Guardian | Role::WindowOfficer) {
        return Err(ServiceError::Forbidden(
            "申请由新生儿父母或受理窗口工作人员提交".into(),
        ));
    }
    let key = application_key(key)?;
    let now = app.now();
    let catalogue = app.catalogue().await?;
    let bundle = bundle_of(&catalogue, body)?;
    let mut form = Form::parse(body, now).map_err(ServiceError::Invalid)?;
    let owner = owner_of(app, actor, &form)?;
    let problems = resolve_sites(app, &mut form, "");
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let hash = sha256_hex(body.to_string().as_bytes());
    if let Some(replay) = within_limits(app, actor, &owner, key, &hash, now).await? {
        return Ok((replay, false));
    }
    let (parentage, siblings) = super::parentage::at_application(app, &form, now).await?;
    let plan = catalogue
        .catalogue
        .plan(catalogue.version, bundle, &form.condition_view())
        .ok_or_else(|| {
            // The catalogue's check requires a fallback situation: only a damaged store
            // gets here.
            ServiceError::Unavailable("暂时无法受理该申请，请稍后再试或拨打 12345 咨询".into())
        })?;
    let made = Application {
        owner,
        form,
        key,
        hash,
        now,
        parentage,
        plan,
    };
    let (case, created) = create(app, actor, made).await?;
    // The mother's own application ends every unconfirmed one naming her for this newborn.
    if created && case.form().applicant.relation == domain::form::Relation::Mother {
        super::parentage::withdraw_unconfirmed(app, &case, siblings).await;
    }
    Ok((case, created))
}

/// The bundle applied for (`"bundle"`, default `"birth"`): one the catalogue in force
/// lists and an engine runs.
fn bundle_of<'c>(
    catalogue: &'c domain::catalogue::Version,
    body: &Value,
) -> Result<&'c str, ServiceError> {
    let named = match body.get("bundle") {
        None | Some(Value::Null) => "birth",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(ServiceError::Invalid(vec![Problem::new(
                "bundle",
                "type",
                "应为一件事的编号（如 birth）",
            )]))
        }
    };
    let Some(b) = catalogue.catalogue.bundle(named) else {
        return Err(ServiceError::Invalid(vec![Problem::new(
            "bundle",
            "unknown_bundle",
            "办事目录中没有这项一件事",
        )]));
    };
    if !b.runs_on_engine() {
        return Err(ServiceError::Invalid(vec![Problem::new(
            "bundle",
            "bundle_not_open",
            format!("“{}”暂未开通网上申请，请到行政服务中心窗口咨询办理", b.name),
        )]));
    }
    Ok(&b.bundle_id)
}

/// The application's required `Idempotency-Key`.
fn application_key(key: Option<&str>) -> Result<&str, ServiceError> {
    match key {
        Some(k)
            if !k.is_empty() && k.len() <= 128 && k.bytes().all(|b| (0x21..0x7f).contains(&b)) =>
        {
            Ok(k)
        }
        Some(_) => Err(ServiceError::Invalid(vec![Problem::new(
            "Idempotency-Key",
            "format",
            "应为 1 到 128 个可见的 ASCII 字符",
        )])),
        None => Err(ServiceError::Invalid(vec![Problem::new(
            "Idempotency-Key",
            "required",
            "请求须带幂等键（Idempotency-Key）",
        )])),
    }
}

/// Whose case it will be: online, the parent applying as themselves (the form reader
/// already holds the relation to the parent it names); at a window of the officer's own
/// channel, the applicant.
fn owner_of(app: &App, actor: &Actor, form: &Form) -> Result<String, ServiceError> {
    if actor.role == Role::Guardian {
        if form.channel.is_offline() {
            return Err(ServiceError::Forbidden(
                "窗口渠道的申请由受理窗口工作人员录入".into(),
            ));
        }
        let sub = domain::idnum::normalise(&actor.sub);
        if form.applicant.id_number.as_str() != sub {
            return Err(ServiceError::Invalid(vec![Problem::new(
                "applicant.id_number",
                "not_caller",
                "网上申请须由新生儿父亲或母亲本人提出：申请人身份证号码应为登录者本人的号码",
            )]));
        }
        return Ok(sub);
    }
    if form.channel.window_dept().is_none() || form.channel.window_dept() != actor.dept {
        return Err(ServiceError::Forbidden(
            "受理窗口工作人员只能录入本窗口渠道的申请".into(),
        ));
    }
    // A window files only under its own site (an unknown site is the form's problem).
    if let Some(named) = form.window.as_ref().and_then(|w| app.sites.find(&w.site)) {
        if crate::authz::own_site(app, actor).map(|s| &s.site_id) != Some(&named.site_id) {
            return Err(ServiceError::Forbidden(
                "受理窗口工作人员只能以本人所在的受理点位录入申请".into(),
            ));
        }
    }
    Ok(form.applicant.id_number.as_str().to_string())
}

/// An application checked and ready to create.
struct Application<'k> {
    owner: String,
    form: Form,
    key: &'k str,
    /// The request body's digest: the same key with another body is a conflict.
    hash: String,
    now: domain::case::Time,
    /// The parents' consent as the application finds it.
    parentage: domain::case::Parentage,
    /// The catalogue version in force, the situation the form meets and its limits.
    plan: domain::catalogue::Plan,
}

/// Create the case once: a new id on the (unlikely) collision; the idempotency key
/// decides sameness, the newborn's claim refuses a second case.
async fn create(
    app: &App,
    actor: &Actor,
    a: Application<'_>,
) -> Result<(Case, bool), ServiceError> {
    for _ in 0..3 {
        let (mut case, effects) = Case::new(
            new_id("BC", app),
            a.now,
            a.owner.clone(),
            actor.clone(),
            a.form.clone(),
            a.key.to_string(),
            a.hash.clone(),
            &app.calendar,
            Some(a.parentage.clone()),
            a.plan.clone(),
        )
        .map_err(domain_err)?;
        match app.repo().create(&mut case, &actor.sub, &effects).await {
            Ok(Created::New) => {
                tracing::info!(
                    case_id = %case.case_id(),
                    channel = case.channel().as_str(),
                    actor = %actor.label(),
                    "case submitted",
                );
                return Ok((case, true));
            }
            Ok(Created::Existing(existing)) if existing.request_hash() == a.hash => {
                return Ok((*existing, false))
            }
            Ok(Created::Existing(_)) => {
                return Err(ServiceError::Conflict(
                    "该幂等键（Idempotency-Key）已用于另一份申请".into(),
                ))
            }
            Ok(Created::Duplicate { case_id }) => return Err(duplicate(app, actor, case_id).await),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::Unavailable("系统繁忙，请稍后再试".into()))
}

/// `409 duplicate_newborn`: the existing case is named only to a window officer or to a
/// caller who owns it or is a parent named in it.
pub(super) async fn duplicate(app: &App, actor: &Actor, case_id: String) -> ServiceError {
    tracing::info!(
        existing_case_id = %case_id,
        actor = %actor.label(),
        "duplicate newborn refused",
    );
    let reveal = match actor.role {
        Role::WindowOfficer => true,
        _ => match app.store.get(&case_id).await {
            Ok(existing) => existing.is_some_and(|c| {
                let sub = domain::idnum::normalise(&actor.sub);
                c.owner() == sub
                    || c.form().mother.id_number.as_str() == sub
                    || c.form()
                        .father
                        .as_ref()
                        .is_some_and(|f| f.id_number.as_str() == sub)
            }),
            Err(e) => return e.into(),
        },
    };
    ServiceError::Duplicate {
        existing_case_id: reveal.then_some(case_id),
    }
}

/// `GET /v1/sites?county=`: the operator's sites, within a division prefix if asked.
pub fn sites(app: &App, county: Option<&str>) -> Result<Value, ServiceError> {
    let prefix = county.unwrap_or("");
    let ok = county.is_none()
        || (!prefix.is_empty()
            && prefix.len().is_multiple_of(2)
            && prefix.len() <= 6
            && prefix.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return Err(ServiceError::Invalid(vec![Problem::new(
            "county",
            "format",
            "应为行政区划代码或其前缀（如 33、3301、330106）",
        )]));
    }
    Ok(json!({ "sites": app.sites.within(prefix) }))
}

/// `window.site` and `delivery.pickup_site` must name a site of the operator's list (by
/// id or exact name; a pick-up site must take pick-ups). The window's site gives the
/// service centre's region. Problems are reported under `prefix` + the field.
pub(super) fn resolve_sites(app: &App, form: &mut Form, prefix: &str) -> Vec<Problem> {
    let mut problems = vec![];
    if let Some(w) = form.window.as_mut() {
        match app.sites.find(&w.site) {
            Some(site) => {
                w.county = Some(site.county_code.clone());
                w.site_id = Some(site.site_id.clone());
                w.site_name = Some(site.name.clone());
            }
            None => problems.push(Problem::new(
                format!("{prefix}window.site"),
                "unknown_site",
                "受理窗口不在办理点位列表中（见 GET /v1/sites），请填写办理点位的编号或全称",
            )),
        }
    }
    if let Some(d) = form.delivery.as_mut() {
        d.pickup_site_name = None;
    }
    let pickup = form.delivery.as_ref().and_then(|d| d.pickup_site.clone());
    if let Some(p) = pickup {
        match app.sites.find(&p) {
            Some(site) if site.pickup => {
                if let Some(d) = form.delivery.as_mut() {
                    d.pickup_site_name = Some(site.name.clone());
                }
            }
            Some(_) => problems.push(Problem::new(
                format!("{prefix}delivery.pickup_site"),
                "not_a_pickup_site",
                "该办理点位不提供证件领取，请另选领取点",
            )),
            None => problems.push(Problem::new(
                format!("{prefix}delivery.pickup_site"),
                "unknown_site",
                "领取点不在办理点位列表中（见 GET /v1/sites），请填写办理点位的编号或全称",
            )),
        }
    }
    problems
}

/// A guardian's limits: applications a day and unfinished cases (settings). A replay of an
/// application already made (same key and body) is answered with its case instead.
pub(super) async fn within_limits(
    app: &App,
    actor: &Actor,
    owner: &str,
    key: &str,
    hash: &str,
    now: domain::case::Time,
) -> Result<Option<Case>, ServiceError> {
    let cases = app.store.by_owner(owner).await?;
    if let Some(c) = cases.iter().find(|c| {
        c.idempotency_key() == key && c.created_by().sub == actor.sub && c.request_hash() == hash
    }) {
        return Ok(Some(c.clone()));
    }
    let today = now.date_naive();
    let submitted_today = cases
        .iter()
        .filter(|c| c.submitted_at().date_naive() == today)
        .count();
    if submitted_today >= app.settings.max_applications_per_day {
        let midnight = domain::calendar::end_of_day(today) + Duration::seconds(1);
        let wait = (midnight - now).num_seconds().max(1) as u64;
        return Err(ServiceError::Throttled {
            message: format!(
                "同一申请人每天最多提交 {} 份申请，请明天再试",
                app.settings.max_applications_per_day
            )
            .into(),
            retry_after: wait,
        });
    }
    let unfinished = cases.iter().filter(|c| !c.status().is_finished()).count();
    if unfinished >= app.settings.max_unfinished_cases {
        return Err(ServiceError::Throttled {
            message: format!(
                "同一申请人最多同时办理 {} 件未办结的申请，请待已有申请办结或撤回后再试",
                app.settings.max_unfinished_cases
            )
            .into(),
            retry_after: 3600,
        });
    }
    Ok(None)
}
