//! `POST /v1/births`: a hospital files a birth record (its own births only; one record per
//! birth, whichever institution); `PUT /v1/births/{id}`: it corrects its own record until
//! a case uses it.

use super::*;

/// `POST /v1/births`: a hospital's delivery record. `(birth_id, created)`.
pub async fn record_birth(
    app: &App,
    actor: &Actor,
    body: &Value,
) -> Result<(String, bool), ServiceError> {
    let record = own_record(app, actor, body).await?;
    let out = match app.births.record_birth(&record).await {
        Ok(out) => out,
        Err(StoreError::Conflict(_)) => {
            return Err(ServiceError::Conflict(
                "这次分娩已有一条内容不同的记录".into(),
            ))
        }
        Err(StoreError::Taken { holder }) => return Err(conflicting(app, &record, &holder).await),
        Err(e) => return Err(e.into()),
    };
    tracing::info!(birth_id = %out.0, created = out.1, actor = %actor.label(), "birth recorded");
    Ok(out)
}

/// `PUT /v1/births/{birth_id}`: the institution corrects its own record (sex, weight,
/// length, gestational weeks, multiple birth) until a case uses it; what identifies the
/// birth (institution, mother, birth time, birth order) is not changed this way.
pub async fn replace_birth(
    app: &App,
    actor: &Actor,
    birth_id: &str,
    body: &Value,
) -> Result<String, ServiceError> {
    let record = own_record(app, actor, body).await?;
    let stored = match valid_identifier(birth_id) {
        true => app.births.birth_by_id(birth_id).await?,
        false => None,
    };
    // Another institution's record "does not exist" for this one.
    let Some(stored) = stored.filter(|s| s.institution_code == record.institution_code) else {
        return Err(ServiceError::NotFound);
    };
    if record.id() != birth_id {
        return Err(ServiceError::Invalid(vec![Problem::new(
            "birth_time",
            "immutable",
            "助产机构、母亲身份号码、出生时间和胎次不能修改；登记有误的请联系卫生健康部门处理",
        )]));
    }
    if app
        .births
        .newborn_holder(&stored.newborn_claim())
        .await?
        .is_some()
    {
        return Err(ServiceError::ConflictCode {
            code: "in_use",
            message: "已有申请使用该分娩记录，不能再修改；请由申请人或受理窗口发起更正".into(),
        });
    }
    if !app.births.replace_birth(&record).await? {
        return Err(ServiceError::NotFound);
    }
    tracing::info!(birth_id, actor = %actor.label(), "birth record corrected");
    Ok(birth_id.to_string())
}

/// The record the request describes, if the caller's institution files it: the
/// caller's `hospital` claim is the record's institution (403 otherwise; an account
/// bound to no institution files nothing), an institution data sharing knows (400).
async fn own_record(
    app: &App,
    actor: &Actor,
    body: &Value,
) -> Result<domain::sharing::BirthRecord, ServiceError> {
    let req: body::Birth = body::parse(body)?;
    let record = read_record(&req, app.now())?;
    match actor.scope.hospital.as_deref() {
        Some(h) if h == record.institution_code => {}
        Some(_) => return Err(ServiceError::Forbidden("只能登记本机构的分娩记录".into())),
        None => {
            return Err(ServiceError::Forbidden(
                "该账号未绑定助产机构，不能登记分娩记录".into(),
            ))
        }
    }
    if app
        .sharing
        .institution(&record.institution_code)
        .await?
        .is_none()
    {
        return Err(ServiceError::Invalid(vec![Problem::new(
            "institution_code",
            "unknown",
            "未找到该助产机构",
        )]));
    }
    Ok(record)
}

/// A second record of one birth (the same mother, birth minute and order) from another
/// institution: refused, and raised to the supervision lead of the institution's region
/// (the health unit leads the birth bundle) — with no personal data in the alert.
async fn conflicting(
    app: &App,
    record: &domain::sharing::BirthRecord,
    holder: &str,
) -> ServiceError {
    let county = match app.sharing.institution(&record.institution_code).await {
        Ok(Some(i)) => i.county_code,
        _ => String::new(),
    };
    tracing::warn!(
        refused = %record.id(),
        holder,
        institution = %record.institution_code,
        "a second delivery record of one birth was refused",
    );
    if let Some(lead) = app.settings.supervision_lead(&county) {
        let alert = domain::notice::Notification {
            case_id: record.id(),
            seq: 1,
            kind: domain::case::NoticeKind::ConflictingBirthRecord,
            title: "分娩记录冲突提醒".into(),
            body: format!(
                "助产机构 {} 登记的分娩记录（{}）与已有记录（{holder}）为同一母亲、同一出生时间和胎次，已拒收，请核查。",
                record.institution_code,
                record.id()
            ),
            phone: lead.phone.clone(),
        };
        if let Err(e) = app.deliver(&alert).await {
            tracing::warn!(error = %e, "the conflicting record's alert was not sent");
        }
    }
    ServiceError::ConflictCode {
        code: "conflicting_record",
        message: "同一母亲、同一出生时间和胎次已有分娩记录，本记录未登记，已报卫生健康部门核查"
            .into(),
    }
}

/// The delivery record the request describes, with every problem at once.
fn read_record(
    req: &body::Birth,
    now: domain::case::Time,
) -> Result<domain::sharing::BirthRecord, ServiceError> {
    let mut p = Problems::default();
    let code = req.institution_code.trim().to_string();
    if code.is_empty() || code.len() > 40 || !valid_identifier(&code) {
        p.push("institution_code", "format", "助产机构代码格式不正确");
    }
    let mother = mother_of(&req.mother_id_number, now, &mut p);
    let birth_time = match chrono::DateTime::parse_from_rfc3339(&req.birth_time) {
        // Kept in Beijing time, whatever offset the hospital's system sent.
        Ok(t) if t <= now => Some(t.with_timezone(&domain::calendar::shanghai())),
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
    match (mother, birth_time, sex) {
        (Some(mother), Some(birth_time), Some(sex)) if p.is_empty() => {
            Ok(domain::sharing::BirthRecord {
                institution_code: code,
                mother_id_number: mother.as_str().to_string(),
                birth_time,
                sex,
                birth_order,
                multiple_birth,
                weight_g,
                length_cm,
                gestational_weeks,
            })
        }
        _ => Err(ServiceError::Invalid(p.0)),
    }
}

/// The mother's citizen ID number: valid, and a woman's.
fn mother_of(
    id: &str,
    now: domain::case::Time,
    p: &mut Problems,
) -> Option<domain::idnum::IdNumber> {
    match domain::idnum::IdNumber::parse(id, now.date_naive()) {
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
    }
}
