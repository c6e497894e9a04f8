//! What the guardian is told, for every event they must act on or learn of.

use crate::case::{Case, NoticeKind, StepStatus};
use crate::steps::issuance::Handover;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub case_id: String,
    pub seq: u32,
    pub kind: NoticeKind,
    pub title: String,
    pub body: String,
    /// The guardian's phone (sensitive: the adapter masks it in logs).
    pub phone: String,
}

/// The notice of `kind` about `case`, the `seq`-th sent for it.
pub fn compose(case: &Case, kind: NoticeKind, seq: u32) -> Notification {
    let id = &case.case_id;
    let (title, body) = match kind {
        NoticeKind::Accepted => {
            let due = case.due_at.map(|d| d.format("%Y-%m-%d").to_string());
            let due = due.unwrap_or_default();
            let body = format!("您的出生“一件事”申请（{id}）已受理，将于 {due} 前办结。");
            ("出生一件事已受理", body)
        }
        NoticeKind::Incomplete => {
            let list = case
                .missing
                .iter()
                .map(|m| format!("{}：{}", m.name, m.reason));
            let list = list.collect::<Vec<_>>().join("；");
            let body = format!("您的申请（{id}）需补充以下全部材料后重新提交：{list}");
            ("请补充材料（一次告知）", body)
        }
        NoticeKind::NotAccepted => {
            let r = case.step(crate::flow::Step::Acceptance).reasons.join("；");
            (
                "申请不予受理",
                format!("您的申请（{id}）不予受理，原因：{r}"),
            )
        }
        NoticeKind::Returned => {
            let r = reasons(case, StepStatus::Returned);
            let body = format!("您的申请（{id}）被退回修改，请按以下原因更正后重新提交：{r}");
            ("申请退回修改", body)
        }
        NoticeKind::Rejected => {
            let r = reasons(case, StepStatus::Rejected);
            let body = format!("您的申请（{id}）审查不通过，原因：{r}。已出具的结果继续有效。");
            ("申请审查不通过", body)
        }
        NoticeKind::PremiumDue => premium_due(case, id),
        NoticeKind::Withdrawn => ("申请已撤回", withdrawn(case)),
        NoticeKind::PremiumReminder => {
            let (amount, by) = premium(case);
            let body = format!(
                "新生儿医保费（{id}）尚未缴纳，请于 {by} 前缴纳 {amount} 元，逾期将影响参保待遇。"
            );
            ("新生儿医保费缴纳提醒", body)
        }
        NoticeKind::FeedbackFollowedUp => feedback_followed_up(id),
        // Sent by the appointment reminder with its own text; never composed from a case.
        NoticeKind::AppointmentReminder => (
            "预约提醒",
            format!("您的出生“一件事”（{id}）有一个预约将于下一个工作日办理，请按时前往。"),
        ),
        NoticeKind::ConflictingBirthRecord
        | NoticeKind::BreakGlassAlert
        | NoticeKind::HeldSummary
        | NoticeKind::AwaitingConfirmation
        | NoticeKind::ConfirmationRequested
        | NoticeKind::Declined
        | NoticeKind::Voided
        | NoticeKind::VoidedToParent
        | NoticeKind::PhoneChanged => consent_or_alert(case, kind),
        NoticeKind::Delivered => ("办理结果已出具", delivered(case, seq)),
        NoticeKind::Completed => {
            let how = handover(case.results.issuance.as_ref().map(|i| &i.issuance));
            let body = format!("您的出生“一件事”（{id}）已办结，{how}。");
            ("出生一件事已办结", body)
        }
    };
    Notification {
        case_id: id.clone(),
        seq,
        kind,
        title: title.to_string(),
        body,
        phone: recipient(case, kind),
    }
}

/// The key under which stores count a phone's messages (no phone number in a key).
pub fn phone_digest(phone: &str) -> String {
    crate::sharing::hex_sha256(&format!("phone|{phone}"))
}

/// The one message a phone gets the day after some of its messages were held by the daily
/// caps (API.md "Notifications"): how many, and where to read them; no case's details.
pub fn held_summary(day: chrono::NaiveDate, phone: &str, held: u32) -> Notification {
    use chrono::Datelike;
    let key = phone_digest(phone);
    Notification {
        case_id: format!("HELD-{}-{}", day.format("%Y%m%d"), &key[..16]),
        seq: 1,
        kind: NoticeKind::HeldSummary,
        title: "出生一件事通知汇总".into(),
        body: format!(
            "{}月{}日另有 {held} 条出生“一件事”通知因当日发送条数已达上限未逐条发送，请登录浙里办“我的办件”查看。",
            day.month(),
            day.day()
        ),
        phone: phone.to_string(),
    }
}

/// The withdrawal notice. Only the system's own words: a reason someone typed (the
/// applicant's, a window officer's) never goes out in an official message.
fn withdrawn(case: &Case) -> String {
    let id = &case.case_id;
    let e = case.timeline.iter().rev().find(|e| e.action == "withdrawn");
    let why = match e {
        Some(e) if e.actor.is_system() => format!("：{}", e.detail),
        _ => String::new(),
    };
    format!("您的出生“一件事”申请（{id}）已撤回{why}。如需办理，请重新申请。")
}

/// The fixed texts about who may act on a case (the parents' consent, a void, a changed
/// phone) and the staff alerts that name a case: no text anyone typed, only the case id.
fn consent_or_alert(case: &Case, kind: NoticeKind) -> (&'static str, String) {
    let id = &case.case_id;
    match kind {
    // Sent by the API to the supervision lead; never composed from a case.
    NoticeKind::ConflictingBirthRecord => (
        "分娩记录冲突提醒",
        format!("出生“一件事”申请（{id}）涉及的分娩记录存在冲突，请核查。"),
    ),
    // Sent by the break-glass read itself to the supervision lead; never composed
    // from a case.
    NoticeKind::BreakGlassAlert => (
        "监督查阅提醒",
        format!("出生“一件事”申请（{id}）的完整信息已被监督人员查阅。"),
    ),
    // Sent by the SLA monitor for a phone's held messages; never composed from a case.
    NoticeKind::HeldSummary => (
        "出生一件事通知汇总",
        format!("您的出生“一件事”申请（{id}）有新的办理进展，请登录浙里办查看。"),
    ),
    NoticeKind::AwaitingConfirmation => (
        "待新生儿母亲确认",
        format!(
            "您提交的出生“一件事”申请（{id}）须经新生儿母亲本人登录浙里办确认后受理；30 日内未确认的将自动撤回。"
        ),
    ),
    NoticeKind::ConfirmationRequested => (
        "请确认出生一件事申请",
        format!(
            "有一份将您列为新生儿{}的出生“一件事”申请（{id}），请登录浙里办本人账户查看并确认；如不知情或有异议，请在账户中选择不同意或提出异议。",
            case.other_parent().map_or("父母", |p| match p {
                crate::form::ParentRole::Mother => "母亲",
                crate::form::ParentRole::Father => "父亲",
            })
        ),
    ),
    NoticeKind::Declined => (
        "申请已撤回",
        format!("您提交的出生“一件事”申请（{id}）未获新生儿母亲本人同意，已撤回。"),
    ),
    NoticeKind::Voided => (
        "申请已作废",
        format!(
            "您的出生“一件事”申请（{id}）经核查已作废，已出具的证照和号码均已注销。如有疑问，请携带身份证件到受理窗口咨询。"
        ),
    ),
    NoticeKind::VoidedToParent => (
        "申请已作废",
        format!(
            "将您列为新生儿父母的出生“一件事”申请（{id}）经核查已作废，已出具的证照和号码均已注销。"
        ),
    ),
    NoticeKind::PhoneChanged => (
        "联系电话变更提醒",
        format!(
            "出生“一件事”申请（{id}）的联系电话已变更，今后的通知将发送到新的号码。如非本人操作，请联系受理窗口。"
        ),
    ),
        other => unreachable!("{other:?} is composed by `compose`"),
    }
}

/// Whom a notice of `kind` goes to: the applicant, or for what concerns the named parent
/// who did not apply, that parent at the phone data sharing holds (empty when it holds
/// none: the notice is recorded, not sent).
fn recipient(case: &Case, kind: NoticeKind) -> String {
    match kind {
        NoticeKind::PhoneChanged => case.previous_phone.clone().unwrap_or_default(),
        NoticeKind::ConfirmationRequested | NoticeKind::VoidedToParent => case
            .other_parent()
            .and_then(|p| case.parent_phone(p))
            .unwrap_or_default()
            .to_string(),
        _ => case.form.applicant.phone.clone(),
    }
}

/// The reasons of every step in `status`, joined.
fn reasons(case: &Case, status: StepStatus) -> String {
    let r: Vec<String> = case
        .steps
        .iter()
        .filter(|x| x.status == status)
        .flat_map(|x| x.reasons.clone())
        .collect();
    r.join("；")
}

/// The premium notice's amount and pay-by day.
fn premium(case: &Case) -> (u32, String) {
    let p = case
        .results
        .insurance
        .as_ref()
        .and_then(|i| i.medical_insurance.premium_notice.as_ref());
    let amount = p.map(|p| p.amount_cny).unwrap_or(0);
    let by = p.map(|p| p.pay_by.to_string()).unwrap_or_default();
    (amount, by)
}

/// The `seq`-th notice's text when it tells of a unit's hand-over: the n-th "delivered"
/// notice is about the n-th hand-over.
fn delivered(case: &Case, seq: u32) -> String {
    let id = &case.case_id;
    let nth = case.notices[..(seq as usize).min(case.notices.len())]
        .iter()
        .filter(|k| **k == NoticeKind::Delivered)
        .count()
        .saturating_sub(1);
    let d = case
        .deliveries
        .iter()
        .filter(|d| d.step != crate::flow::Step::UnifiedIssuance)
        .nth(nth);
    let Some(d) = d else {
        return format!("您的出生“一件事”（{id}）有结果已出具。");
    };
    let how = match (&d.tracking_number, &d.pickup_code) {
        (Some(t), _) => format!("已邮寄，运单号 {t}"),
        (None, Some(c)) => format!(
            "请凭取件码 {c} 到 {} 领取",
            d.pickup_site.as_deref().unwrap_or("指定地点")
        ),
        _ => "请到受理窗口领取".to_string(),
    };
    format!(
        "您的{}（{id}）已由{}出具，{how}。",
        d.items.join("、"),
        d.by.name_zh()
    )
}

/// The premium to pay, by when, and when cover starts.
fn premium_due(case: &Case, id: &str) -> (&'static str, String) {
    let (amount, by) = premium(case);
    let body = format!(
        "新生儿已参保登记（{id}），请于 {by} 前缴纳医保费 {amount} 元。\
         在此期限前缴费的，自出生之日起享受医保待遇；逾期缴费的，自缴费次日起享受。"
    );
    ("请缴纳新生儿医保费", body)
}

/// A department followed up the family's rating or complaint. Its words stay in the case
/// (they may name people): the family is told there is an answer, and where to read it.
fn feedback_followed_up(id: &str) -> (&'static str, String) {
    (
        "您的评价或投诉已有回复",
        format!(
            "您对出生“一件事”（{id}）的评价或投诉，承办部门已答复、回访或整改，\
             请在“我的申请”中查看。"
        ),
    )
}

/// How the results reach the family.
fn handover(h: Option<&Handover>) -> String {
    match h {
        Some(Handover::Mail {
            tracking_number, ..
        }) => format!("已邮寄，运单号 {tracking_number}"),
        Some(Handover::Pickup {
            pickup_code,
            pickup_site,
            ..
        }) => format!(
            "请凭取件码 {pickup_code} 到{}领取",
            pickup_site.as_deref().unwrap_or("指定地点")
        ),
        Some(Handover::Window { site, window, .. }) => format!(
            "请到{} {}号窗口领取",
            site.as_deref().unwrap_or("受理点"),
            window.as_deref().unwrap_or("")
        ),
        None => "请到受理窗口领取".to_string(),
    }
}
