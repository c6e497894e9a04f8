//! `POST /v1/cases/{id}/premium-payment`: the newborn's insurance premium paid.

use super::*;

/// `POST /v1/cases/{id}/premium-payment`: medical security records that the newborn's
/// premium was paid.
pub async fn premium_payment(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<Case, ServiceError> {
    let (case, _) = load_visible(app, actor, case_id).await?;
    let req: body::PremiumPaid = body::parse(body)?;
    let mut p = Problems::default();
    let now = app.now();
    // The payment answers the premium notice: its amount, after the enrolment that sent it.
    let notice = case
        .results()
        .insurance
        .as_ref()
        .and_then(|i| i.medical_insurance.premium_notice.clone());
    let enrolled_at = case.step(Step::MedicalInsurance).finished_at;
    let paid_at = match chrono::DateTime::parse_from_rfc3339(&req.paid_at) {
        Ok(t) if t > now => {
            p.push("paid_at", "future", "缴费时间不能晚于现在");
            None
        }
        Ok(t) if enrolled_at.is_some_and(|e| t < e) => {
            p.push(
                "paid_at",
                "before_notice",
                "缴费时间早于参保登记和缴费通知，请核对",
            );
            None
        }
        Ok(t) => Some(t),
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
    if let (Some(a), Some(n)) = (amount, notice.as_ref()) {
        if a != n.amount_cny {
            p.push(
                "amount_cny",
                "mismatch",
                format!("缴费金额应与缴费通知一致（{} 元）", n.amount_cny),
            );
        }
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

/// `POST /v1/cases/{id}/premium-payment/reversal`: a medical-security supervisor of the
/// case's region reverses a payment recorded by mistake, with a reason; the premium is due
/// again and the family is told.
pub async fn reverse_premium_payment(
    app: &App,
    actor: &Actor,
    case_id: &str,
    body: &Value,
) -> Result<Case, ServiceError> {
    let case = crate::authz::load_unchecked(app, case_id).await?;
    if crate::authz::viewer(actor, &case).is_none() {
        return Err(ServiceError::NotFound);
    }
    if actor.role != Role::Supervisor || actor.dept != Some(domain::Dept::MedicalInsurance) {
        return Err(ServiceError::Forbidden(
            "只有医疗保障部门的监督人员可以撤销缴费记录".into(),
        ));
    }
    let reason = super::parentage::reason_of(body, true, "")?;
    let now = app.now();
    let (_, case) = app
        .repo()
        .update(case_id, |c| {
            let effects = c
                .reverse_premium_payment(&reason, actor, now)
                .map_err(|e| match e {
                    domain::DomainError::Rule(m) => ServiceError::ConflictCode {
                        code: "not_paid",
                        message: m.into(),
                    },
                    other => domain_err(other),
                })?;
            Ok::<_, ServiceError>(Change::Commit((), effects))
        })
        .await?;
    tracing::warn!(case_id, actor = %actor.label(), "premium payment reversed");
    Ok(case)
}
