//! Application services behind the HTTP API: each checks who is asking, drives the
//! domain, and commits with a conditional write (retrying a lost race by re-reading,
//! unless the caller named a version, which makes a lost race a 409).

use crate::authz::{can_change, load_visible, officer_dept, valid_identifier};
use crate::body;
use crate::repo::Change;
use crate::response::{CaseList, Decided, TaskLine, TaskList, UploadTicket};
use crate::{App, ServiceError};
use chrono::{Duration, Utc};
use domain::case::{Actor, Case, Material, MaterialStatus, Role};
use domain::case::{Complaint, Rating};
use domain::feedback::FollowUp;
use domain::flow::{Dept, MaterialKind, Step};
use domain::problem::{Problem, Problems};
use domain::text::free_text_problem;
use domain::view::{CaseSummary, NotificationView, Shown, Viewer};
use domain::{Decision, Form};
use ports::{Created, StoreError};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Largest material upload.
pub const MAX_MATERIAL_BYTES: u64 = 10 * 1024 * 1024;
pub const MATERIAL_TYPES: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];
/// How long an upload URL stays valid.
pub const UPLOAD_URL_MINUTES: i64 = 15;

fn new_id(prefix: &str, app: &App) -> String {
    let day = app.now().format("%Y%m%d");
    let r = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{day}{}", &r[..12].to_uppercase())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn domain_err(e: domain::DomainError) -> ServiceError {
    match e {
        domain::DomainError::InvalidState { .. }
        | domain::DomainError::TaskNotOpen
        | domain::DomainError::Stale { .. } => ServiceError::Conflict(e.to_string()),
        domain::DomainError::Calendar(c) => ServiceError::Unavailable(c.to_string()),
        domain::DomainError::Rule(m) => ServiceError::Conflict(m),
        domain::DomainError::Limit(m) => ServiceError::Limit(m),
    }
}

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
    let key = match key {
        Some(k)
            if !k.is_empty() && k.len() <= 128 && k.bytes().all(|b| (0x21..0x7f).contains(&b)) =>
        {
            k
        }
        Some(_) => {
            return Err(ServiceError::Invalid(vec![Problem::new(
                "Idempotency-Key",
                "format",
                "应为 1 到 128 个可见的 ASCII 字符",
            )]))
        }
        None => {
            return Err(ServiceError::Invalid(vec![Problem::new(
                "Idempotency-Key",
                "required",
                "请求须带幂等键（Idempotency-Key）",
            )]))
        }
    };
    let now = app.now();
    let mut form = Form::parse(body, now).map_err(ServiceError::Invalid)?;
    let owner = match actor.role {
        Role::Guardian => {
            if form.channel.is_offline() {
                return Err(ServiceError::Forbidden(
                    "窗口渠道的申请由受理窗口工作人员录入".into(),
                ));
            }
            // Online, only a parent named in the form applies, as themselves (the form
            // reader already holds the relation to the parent it names).
            let sub = domain::idnum::normalise(&actor.sub);
            if form.applicant.id_number.as_str() != sub {
                return Err(ServiceError::Invalid(vec![Problem::new(
                    "applicant.id_number",
                    "not_caller",
                    "网上申请须由新生儿父亲或母亲本人提出：申请人身份证号码应为登录者本人的号码",
                )]));
            }
            sub
        }
        _ => {
            if form.channel.window_dept().is_none() || form.channel.window_dept() != actor.dept {
                return Err(ServiceError::Forbidden(
                    "受理窗口工作人员只能录入本窗口渠道的申请".into(),
                ));
            }
            form.applicant.id_number.as_str().to_string()
        }
    };
    let problems = resolve_sites(app, &mut form, "");
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let hash = sha256_hex(body.to_string().as_bytes());
    if let Some(replay) = within_limits(app, actor, &owner, key, &hash, now).await? {
        return Ok((replay, false));
    }
    // A new id on the (unlikely) collision; the idempotency key decides sameness.
    for _ in 0..3 {
        let (mut case, effects) = Case::new(
            new_id("BC", app),
            now,
            owner.clone(),
            actor.clone(),
            form.clone(),
            key.to_string(),
            hash.clone(),
            &app.calendar,
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
            Ok(Created::Existing(existing)) => {
                if existing.request_hash() == hash {
                    return Ok((*existing, false));
                }
                return Err(ServiceError::Conflict(
                    "该幂等键（Idempotency-Key）已用于另一份申请".into(),
                ));
            }
            Ok(Created::Duplicate { case_id }) => {
                tracing::info!(
                    existing_case_id = %case_id,
                    actor = %actor.label(),
                    "duplicate newborn refused",
                );
                let existing = app.store.get(&case_id).await?;
                let reveal = match actor.role {
                    Role::WindowOfficer => true,
                    _ => existing.is_some_and(|c| {
                        let sub = domain::idnum::normalise(&actor.sub);
                        c.owner() == sub
                            || c.form().mother.id_number.as_str() == sub
                            || c.form()
                                .father
                                .as_ref()
                                .is_some_and(|f| f.id_number.as_str() == sub)
                    }),
                };
                return Err(ServiceError::Duplicate {
                    existing_case_id: reveal.then_some(case_id),
                });
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::Unavailable("系统繁忙，请稍后再试".into()))
}

/// A guardian's limits: applications a day and unfinished cases (settings). A replay of an
/// application already made (same key and body) is answered with its case instead.
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
fn resolve_sites(app: &App, form: &mut Form, prefix: &str) -> Vec<Problem> {
    let mut problems = vec![];
    if let Some(w) = form.window.as_mut() {
        match app.sites.find(&w.site) {
            Some(site) => w.county = Some(site.county_code.clone()),
            None => problems.push(Problem::new(
                format!("{prefix}window.site"),
                "unknown_site",
                "受理窗口不在办理点位列表中（见 GET /v1/sites），请填写办理点位的编号或全称",
            )),
        }
    }
    if let Some(p) = form.delivery.as_ref().and_then(|d| d.pickup_site.as_ref()) {
        match app.sites.find(p) {
            Some(site) if site.pickup => {}
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

async fn within_limits(
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
            ),
            retry_after: wait,
        });
    }
    let unfinished = cases.iter().filter(|c| !c.status().is_finished()).count();
    if unfinished >= app.settings.max_unfinished_cases {
        return Err(ServiceError::Throttled {
            message: format!(
                "同一申请人最多同时办理 {} 件未办结的申请，请待已有申请办结或撤回后再试",
                app.settings.max_unfinished_cases
            ),
            retry_after: 3600,
        });
    }
    Ok(None)
}

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

/// `POST /v1/cases/{id}/materials`: register a material and hand out its upload URL.
pub async fn new_material(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
    base_url: &str,
) -> Result<UploadTicket, ServiceError> {
    let (case, _) = load_visible(app, actor, case_id).await?;
    if !can_change(actor, &case, true) {
        return Err(ServiceError::Forbidden(
            "只有申请人或受理窗口工作人员可以补充材料".into(),
        ));
    }
    let req: body::NewMaterial = body::parse(body)?;
    let mut p = Problems::default();
    let kind = MaterialKind::parse(&req.kind);
    if kind.is_none() {
        p.push("kind", "enum", "材料类型不在允许的范围内");
    }
    if !MATERIAL_TYPES.contains(&req.content_type.as_str()) {
        p.push("content_type", "enum", "文件类型应为 PDF、JPEG 或 PNG");
    }
    if !(1..=MAX_MATERIAL_BYTES).contains(&req.size) {
        p.push("size", "range", "文件大小应为 1 字节到 10 MiB");
    }
    let sha256 = req.sha256.map(|h| h.to_ascii_lowercase());
    if sha256
        .as_ref()
        .is_some_and(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        p.push("sha256", "format", "文件摘要应为 64 位十六进制 SHA-256");
    }
    let Some(kind) = kind.filter(|_| p.is_empty()) else {
        return Err(ServiceError::Invalid(p.0));
    };
    let (content_type, size) = (req.content_type, req.size);
    let now = app.now();
    let material_id = new_id("M", app);
    let blob_key = format!("materials/{case_id}/{material_id}");
    let expires = now + Duration::minutes(UPLOAD_URL_MINUTES);
    let pin = ports::UploadPin {
        content_type: content_type.clone(),
        size,
        sha256: sha256.clone(),
    };
    let upload = app
        .blobs
        .upload_url(&blob_key, &pin, expires.with_timezone(&Utc), base_url)
        .await?;
    let m = Material {
        material_id: material_id.clone(),
        kind,
        content_type: content_type.clone(),
        size,
        status: MaterialStatus::AwaitingUpload,
        created_at: now,
        expires_at: expires,
        uploaded_at: None,
        sha256: None,
        declared_sha256: sha256,
        blob_key,
    };
    app.repo()
        .update(case_id, |c| {
            c.register_material(m.clone(), actor, now)
                .map_err(domain_err)?;
            Ok::<_, ServiceError>(Change::Commit((), vec![]))
        })
        .await?;
    Ok(UploadTicket {
        content_type,
        expires_at: expires,
        kind,
        material_id,
        size,
        upload_method: "PUT",
        upload_url: upload.url,
        upload_headers: upload.headers,
    })
}

/// Whether the bytes start like the declared type.
/// How many of a file's first bytes [`magic_matches`] reads.
pub const MAGIC_BYTES: usize = 16;

pub fn magic_matches(content_type: &str, bytes: &[u8]) -> bool {
    match content_type {
        "application/pdf" => bytes.starts_with(b"%PDF-"),
        "image/jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/png" => bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
        _ => false,
    }
}

/// Check an uploaded material's bytes and mark it uploaded. Returns a problem if the bytes
/// are missing or do not match what was declared.
pub async fn confirm_upload(
    app: &App,
    case_id: &str,
    material_id: &str,
) -> Result<Result<(), Problem>, ServiceError> {
    let case = app
        .store
        .get(case_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let Some(m) = case
        .materials()
        .iter()
        .find(|m| m.material_id == material_id)
        .cloned()
    else {
        return Err(ServiceError::NotFound);
    };
    if m.status == MaterialStatus::Uploaded {
        return Ok(Ok(()));
    }
    let field = format!("materials.{material_id}");
    let Some(found) = app.blobs.inspect(&m.blob_key, MAGIC_BYTES).await? else {
        return Ok(Err(Problem::new(field, "not_uploaded", "材料尚未上传")));
    };
    if found.size != m.size {
        return Ok(Err(Problem::new(
            field,
            "size",
            "上传内容的大小与登记的大小不一致",
        )));
    }
    if !magic_matches(&m.content_type, &found.head) {
        return Ok(Err(Problem::new(
            field,
            "content",
            "上传内容不是登记的文件类型",
        )));
    }
    let digest = found.sha256;
    if m.declared_sha256.as_ref().is_some_and(|d| *d != digest) {
        return Ok(Err(Problem::new(
            field,
            "checksum",
            "上传内容与登记的文件摘要不一致",
        )));
    }
    let now = app.now();
    app.repo()
        .update(case_id, |c| {
            Ok::<_, ServiceError>(if c.confirm_material(material_id, digest.clone(), now) {
                Change::Commit((), vec![])
            } else {
                Change::Keep(())
            })
        })
        .await?;
    Ok(Ok(()))
}

/// `POST /v1/cases/{id}/resubmit`.
pub async fn resubmit(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<Case, ServiceError> {
    let (case, _) = load_visible(app, actor, case_id).await?;
    if !can_change(actor, &case, true) {
        return Err(ServiceError::Forbidden(
            "只有申请人或受理窗口的工作人员可以重新提交".into(),
        ));
    }
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
fn corrected_form(
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

/// `POST /v1/cases/{id}/corrections`: the owner of a completed case corrects it (the
/// rules of resubmission corrections: immutable fields, the dependency table). The
/// departments whose results depend on the change review and reissue; the answer names
/// the correction and whether it is in review or (nothing depended on it) done.
pub async fn correct_after_completion(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<Value, ServiceError> {
    let (case, _) = load_visible(app, actor, case_id).await?;
    if case.owner() != actor.sub || actor.role != Role::Guardian {
        return Err(ServiceError::Forbidden(
            "办结后的更正由申请人本人提出".into(),
        ));
    }
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
    let req: body::CorrectionRequest = body::parse(body)?;
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
    let now = app.now();
    let form = match req.corrections {
        None => {
            problems.push(Problem::new(
                "corrections",
                "required",
                "请填写要更正的内容",
            ));
            None
        }
        Some(c) => corrected_form(app, &case, c, now, true, &mut problems),
    };
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
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let form = form.expect("checked");
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
                    &app.calendar,
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
    Ok(json!({
        "correction_id": c.correction_id,
        "status": c.status,
        "case_id": case.case_id(),
        "changes": c.changes,
        "from_step": c.from_step,
    }))
}

/// `POST /v1/cases/{id}/withdraw`: the owner or the window officer withdraws while the
/// case waits (submitted, incomplete, returned).
pub async fn withdraw(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<Case, ServiceError> {
    let (case, _) = load_visible(app, actor, case_id).await?;
    if !can_change(actor, &case, true) {
        return Err(ServiceError::Forbidden(
            "只有申请人或受理窗口的工作人员可以撤回申请".into(),
        ));
    }
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

/// `POST /v1/cases/{id}/premium-payment`: medical security records that the newborn's
/// premium was paid.
pub async fn premium_payment(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<Case, ServiceError> {
    if officer_dept(actor)? != Dept::MedicalInsurance {
        return Err(ServiceError::Forbidden("缴费记录由医疗保障部门登记".into()));
    }
    let (_, _) = load_visible(app, actor, case_id).await?;
    let req: body::PremiumPaid = body::parse(body)?;
    let mut p = Problems::default();
    let now = app.now();
    let paid_at = match chrono::DateTime::parse_from_rfc3339(&req.paid_at) {
        Ok(t) if t <= now => Some(t),
        Ok(_) => {
            p.push("paid_at", "future", "缴费时间不能晚于现在");
            None
        }
        Err(_) => {
            p.push(
                "paid_at",
                "format",
                "时间格式应如 2026-12-01T10:00:00+08:00",
            );
            None
        }
    };
    let amount = u32::try_from(req.amount_cny)
        .ok()
        .filter(|a| (1..=100_000).contains(a));
    if amount.is_none() {
        p.push("amount_cny", "range", "缴费金额应为 1 到 100000 元");
    }
    let receipt = req.receipt.trim().to_string();
    if free_text_problem(&receipt, 64).is_some() || receipt.contains('\n') {
        p.push("receipt", "format", "缴费凭证号应为 1 到 64 个字符");
    }
    if !p.is_empty() {
        return Err(ServiceError::Invalid(p.0));
    }
    let payment = domain::case::PremiumPayment {
        paid_at: paid_at.expect("checked"),
        amount_cny: amount.expect("checked"),
        receipt,
        recorded_at: now,
    };
    let (_, case) = app
        .repo()
        .update(case_id, |c| {
            c.record_premium_payment(payment.clone(), actor)
                .map_err(domain_err)?;
            Ok::<_, ServiceError>(Change::Commit((), vec![]))
        })
        .await?;
    Ok(case)
}

/// `POST /v1/births`: a hospital's delivery record. `(birth_id, created)`.
pub async fn record_birth(
    app: &App,
    actor: &Actor,
    body: &Value,
) -> Result<(String, bool), ServiceError> {
    if officer_dept(actor)? != Dept::Hospital {
        return Err(ServiceError::Forbidden("分娩记录由助产机构登记".into()));
    }
    let req: body::Birth = body::parse(body)?;
    let now = app.now();
    let mut p = Problems::default();
    let code = req.institution_code.trim().to_string();
    if code.is_empty() || code.len() > 40 || !valid_identifier(&code) {
        p.push("institution_code", "format", "助产机构代码格式不正确");
    }
    let mother = match domain::idnum::IdNumber::parse(&req.mother_id_number, now.date_naive()) {
        Ok(id) if id.sex() == domain::idnum::Sex::Female => Some(id),
        Ok(_) => {
            p.push("mother_id_number", "sex", "该号码属于男性，与母亲不符");
            None
        }
        Err(e) => {
            p.push(
                "mother_id_number",
                e.code(),
                format!("不是有效的公民身份号码：{e}"),
            );
            None
        }
    };
    let birth_time = match chrono::DateTime::parse_from_rfc3339(&req.birth_time) {
        Ok(t) if t <= now => Some(t),
        Ok(_) => {
            p.push("birth_time", "future", "出生时间不能晚于现在");
            None
        }
        Err(_) => {
            p.push(
                "birth_time",
                "format",
                "出生时间格式应如 2026-11-28T08:30:00+08:00",
            );
            None
        }
    };
    let sex = match req.sex.as_str() {
        "male" => Some(domain::idnum::Sex::Male),
        "female" => Some(domain::idnum::Sex::Female),
        _ => {
            p.push("sex", "enum", "取值不在允许的范围内");
            None
        }
    };
    let mut int = |field: &str, v: i64, lo: i64, hi: i64| -> u32 {
        if !(lo..=hi).contains(&v) {
            p.push(field, "range", format!("应为 {lo} 到 {hi} 之间的整数"));
        }
        v.clamp(lo, hi) as u32
    };
    let birth_order = int("birth_order", req.birth_order.unwrap_or(1), 1, 9);
    let multiple_birth = int("multiple_birth", req.multiple_birth.unwrap_or(1), 1, 9);
    let weight_g = int("weight_g", req.weight_g, 300, 8000);
    let length_cm = int("length_cm", req.length_cm, 20, 75);
    let gestational_weeks = int("gestational_weeks", req.gestational_weeks, 20, 45);
    if birth_order > multiple_birth {
        p.push("birth_order", "range", "出生顺序不能大于同胎数");
    }
    if !p.is_empty() {
        return Err(ServiceError::Invalid(p.0));
    }
    let record = domain::sharing::BirthRecord {
        institution_code: code,
        mother_id_number: mother.expect("checked").as_str().to_string(),
        birth_time: birth_time.expect("checked"),
        sex: sex.expect("checked"),
        birth_order,
        multiple_birth,
        weight_g,
        length_cm,
        gestational_weeks,
    };
    let out = app.store.record_birth(&record).await.map_err(|e| match e {
        StoreError::Conflict(_) => ServiceError::Conflict("这次分娩已有一条内容不同的记录".into()),
        other => other.into(),
    })?;
    tracing::info!(birth_id = %out.0, created = out.1, actor = %actor.label(), "birth recorded");
    Ok(out)
}

/// `POST /v1/cases/{id}/rating`.
pub async fn rate(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<Rating, ServiceError> {
    let (case, _) = load_visible(app, actor, case_id).await?;
    if !can_change(actor, &case, false) {
        return Err(ServiceError::Forbidden("只有申请人本人可以评价".into()));
    }
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
    let (case, _) = load_visible(app, actor, case_id).await?;
    if !can_change(actor, &case, false) {
        return Err(ServiceError::Forbidden("只有申请人本人可以投诉".into()));
    }
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
                .map_err(domain_err)?;
            Ok::<_, ServiceError>(Change::Commit(x.clone(), vec![]))
        })
        .await?;
    Ok(v)
}

/// `GET /v1/tasks?status=open`.
pub async fn tasks(
    app: &App,
    actor: &Actor,
    filter: &TaskFilter,
    page: &crate::paging::PageRequest,
) -> Result<TaskList, ServiceError> {
    let dept = officer_dept(actor)?;
    match filter.status.as_deref() {
        None | Some("open") => {}
        Some(_) => {
            return Err(ServiceError::Invalid(vec![Problem::new(
                "status",
                "enum",
                "只能查询待办任务",
            )]))
        }
    }
    let step = match filter.step.as_deref() {
        None => None,
        Some(s) => Some(Step::parse(s).ok_or_else(|| {
            ServiceError::Invalid(vec![Problem::new("step", "enum", "环节名称不正确")])
        })?),
    };
    let overdue_only = match filter.overdue.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ServiceError::Invalid(vec![Problem::new(
                "overdue",
                "enum",
                "应为 true 或 false",
            )]))
        }
    };
    // The officer's own department and region from the index, a page at a time in queue
    // order (their region, oldest due first), then their hospital, the step and the
    // overdue filter: a first page reads about a page of the index however long the
    // queue is.
    if let Some(a) = &page.after {
        if domain::view::parse_queue_key(a).is_none() {
            return Err(ServiceError::Invalid(vec![Problem::new(
                "cursor",
                "format",
                "分页标记无效，请从第一页重新查询",
            )]));
        }
    }
    let filtered = step.is_some() || overdue_only || actor.scope.hospital.is_some();
    let mut tasks: Vec<TaskLine> = vec![];
    let mut after = page.after.clone();
    loop {
        let want = if filtered {
            crate::paging::MAX_LIMIT
        } else {
            page.limit + 1 - tasks.len()
        };
        let (batch, next) = app
            .store
            .open_tasks(dept, actor.scope.region.as_deref(), after.as_deref(), want)
            .await?;
        tasks.extend(batch.into_iter().filter(|t| {
            t.dept == dept
                && actor
                    .scope
                    .admits(t.region.as_deref(), t.dept, &t.hospital_code)
                && step.is_none_or(|x| x == t.step)
                && (!overdue_only || t.overdue)
        }));
        match next {
            Some(k) if tasks.len() <= page.limit => after = Some(k),
            _ => break,
        }
    }
    let next_cursor = if tasks.len() > page.limit {
        tasks.truncate(page.limit);
        tasks
            .last()
            .map(|t| crate::paging::cursor_for(&t.queue_key()))
    } else {
        None
    };
    Ok(TaskList { tasks, next_cursor })
}

/// `GET /v1/tasks` filters.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub status: Option<String>,
    pub step: Option<String>,
    pub overdue: Option<String>,
}

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
    let version = req.version;
    let data = req.data.unwrap_or_default();
    if !p.is_empty() {
        return Err(ServiceError::Invalid(p.0));
    }
    let case = app
        .store
        .get(case_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    // Task ids are `{case_id}.{step}.{round}`: a task of another department is "not
    // found"; one of ours that is no longer open was decided already (409).
    let mut seg = task_id.split('.');
    let step = seg
        .nth(1)
        .and_then(Step::parse)
        .ok_or(ServiceError::NotFound)?;
    let round: u32 = seg
        .next()
        .and_then(|r| r.parse().ok())
        .ok_or(ServiceError::NotFound)?;
    // Another department's, region's or hospital's task does not exist for this officer.
    if case.step(step).dept != dept
        || !case.step_in_scope(step, &actor.scope)
        || round == 0
        || round > case.step(step).round
    {
        return Err(ServiceError::NotFound);
    }
    let now = app.now();
    let decision = decision.expect("checked above");
    if decision == Decision::Approve {
        let problems = domain::steps::approval_problems(step, &case, &data, &app.settings);
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
    }
    // A rejection still hands over what was issued: its tracking number or pick-up code
    // first (allocated once per case, so a retry gets the same).
    let handover_numbers = if decision == Decision::Reject {
        crate::handlers::allocate(
            app,
            &case,
            domain::steps::issuance::rejection_allocations(&case),
        )
        .await?
    } else {
        domain::steps::Numbers::default()
    };
    let (_, case) = app
        .repo()
        .update(case_id, |c| {
            let effects = c
                .decide(
                    domain::case::OfficerDecision {
                        task_id: task_id.to_string(),
                        decision,
                        reasons: reasons.clone(),
                        data: data.clone(),
                        version,
                        handover: match decision {
                            Decision::Reject => rejection_handover(c, &handover_numbers, now)?,
                            _ => None,
                        },
                    },
                    actor,
                    now,
                    &app.calendar,
                )
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

/// The hand-over of results issued before a rejection, by the unit that took the
/// application (online units already handed over their own documents).
fn rejection_handover(
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

/// The simple guide of Table A.1.
pub fn guide() -> Value {
    let steps: Vec<Value> = domain::flow::FLOW
        .iter()
        .map(|s| {
            json!({
                "step": s.name,
                "dept": s.dept,
                "dept_name": s.dept.name_zh(),
                "matters": s.matters,
            })
        })
        .collect();
    json!({
        "name": "出生“一件事”",
        "scope": "全省各级助产机构内出生且符合落户政策的新生儿",
        "matters": ["出生医学证明办理", "预防接种证办理", "户口登记", "医保参保登记", "社保卡办理", "生育保险待遇审核"],
        "materials": [
            {"material": "registration_form", "name": "出生“一件事”办理登记表",
             "data_sharing": false},
            {"material": "parents_id_cards", "name": "新生儿父母双方居民身份证",
             "data_sharing": true,
             "kinds": [MaterialKind::MotherIdCard.as_str(), MaterialKind::FatherIdCard.as_str()]},
            {"material": MaterialKind::HouseholdRegister.as_str(),
             "name": "新生儿拟落户方居民户口簿", "data_sharing": true},
            {"material": MaterialKind::MarriageCertificate.as_str(), "name": "新生儿父母结婚证",
             "data_sharing": true}
        ],
        "time_limit": {"working_days": domain::flow::CASE_TIME_LIMIT_WORKING_DAYS, "text": "应在 4 个工作日内办结"},
        "fees": "不收费（不包括参保费用）",
        "delivery": ["mail", "pickup"],
        "delivery_text": "可邮寄送达或自行到指定地点领取",
        "consultation": {"phone": "12345", "online": "浙里办 APP / 浙江政务服务网", "onsite": "各级行政服务中心综合窗口、助产机构出生“一件事”专窗"},
        "address_and_hours": {"address": "各级行政服务中心综合窗口；分娩量较大的助产机构出生“一件事”办事专窗", "hours": "工作日 09:00-12:00, 13:30-17:00（法定节假日除外）"},
        "channels": ["zlb_app", "zj_web", "service_center", "hospital"],
        "steps": steps,
        "lead_unit": Dept::Health.as_str(),
        "first_step": Step::Acceptance.as_str(),
    })
}

/// Whether a complaint or bad rating routed to `dept` (about `step`) is this department
/// officer's to follow up: their department, the step handled in their region.
fn routed_to(actor: &Actor, case: &Case, dept: domain::Dept, step: Option<Step>) -> bool {
    actor.role == Role::DeptOfficer
        && actor.dept == Some(dept)
        && case.step_in_scope(step.unwrap_or(Step::Acceptance), &actor.scope)
}

/// The optional `step` of a rating or complaint.
fn feedback_step(step: Option<&str>, p: &mut Problems) -> Option<Step> {
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
        .store
        .feedback_entries(
            dept,
            actor.scope.region.as_deref(),
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
        .filter(|f| status == "all" || f.status == status)
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
            Ok::<_, ServiceError>(Change::Commit(x, vec![]))
        })
        .await?;
    Ok((item, case_id))
}

/// How long a material download URL lives.
const DOWNLOAD_URL_MINUTES: i64 = 5;

/// `GET /v1/cases/{id}/materials/{mid}`: a short-lived download URL for the owner, the
/// offline window and the departments with a step on the case; every grant to an officer
/// goes into the case's timeline.
pub async fn material_download(
    app: &App,
    actor: &Actor,
    case_id: &str,
    material_id: &str,
    base_url: &str,
) -> Result<crate::response::MaterialDownload, ServiceError> {
    let (case, v) = load_visible(app, actor, case_id).await?;
    let allowed = v == Viewer::Entitled
        && match actor.role {
            Role::Guardian | Role::WindowOfficer => true,
            Role::DeptOfficer => actor.dept != Some(domain::Dept::Health),
            Role::Supervisor => false,
        };
    if !allowed {
        return Err(ServiceError::Forbidden("您无权查看该材料".into()));
    }
    let m = case
        .materials()
        .iter()
        .find(|m| m.material_id == material_id)
        .cloned()
        .ok_or(ServiceError::NotFound)?;
    if m.status != MaterialStatus::Uploaded {
        return Err(ServiceError::Conflict("该材料尚未上传".into()));
    }
    if actor.role != Role::Guardian {
        // No URL once the case's record of grants is full (checked again in the commit).
        case.check_material_grant().map_err(domain_err)?;
    }
    let now = app.now();
    let expires = now + Duration::minutes(DOWNLOAD_URL_MINUTES);
    let ext = match m.content_type.as_str() {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        _ => "png",
    };
    let url = app
        .blobs
        .download_url(
            &m.blob_key,
            &m.content_type,
            &format!("{material_id}.{ext}"),
            expires.with_timezone(&Utc),
            base_url,
        )
        .await?;
    if actor.role != Role::Guardian {
        app.repo()
            .update(case_id, |c| {
                c.record_material_grant(material_id, actor, now)
                    .map_err(domain_err)?;
                Ok::<_, ServiceError>(Change::Commit((), vec![]))
            })
            .await?;
    }
    Ok(crate::response::MaterialDownload {
        material_id: m.material_id,
        kind: m.kind,
        content_type: m.content_type,
        size: m.size,
        sha256: m.sha256,
        download_url: url,
        expires_at: expires,
    })
}

/// `GET /v1/supervision/escalations`: the steps the SLA monitor escalated (overdue by more
/// than one working day, still open) in the supervisor's region, oldest due first, paged.
pub async fn escalations(
    app: &App,
    actor: &Actor,
    page: &crate::paging::PageRequest,
) -> Result<crate::response::EscalationList, ServiceError> {
    if actor.role != Role::Supervisor {
        return Err(ServiceError::Forbidden("督办清单仅供监督人员查看".into()));
    }
    let now = app.now();
    // The steps the SLA monitor escalated, from the escalation index (no case read).
    let items: Vec<domain::supervision::Escalation> = app
        .store
        .escalated(actor.scope.region.as_deref())
        .await?
        .iter()
        .filter_map(|e| e.at(now, &app.calendar))
        .collect();
    let (items, next_cursor) = page.page(items, |e| {
        crate::paging::time_key(
            e.due_at,
            &format!("{}.{}", e.case_id, e.step.as_str()),
            false,
        )
    });
    Ok(crate::response::EscalationList { items, next_cursor })
}
