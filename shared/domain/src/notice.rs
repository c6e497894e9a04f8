//! What the guardian is told, for every event they must act on or learn of.

use crate::case::{Case, NoticeKind};
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

pub fn compose(case: &Case, kind: NoticeKind, seq: u32) -> Notification {
    let id = &case.case_id;
    let (title, body) = match kind {
        NoticeKind::Accepted => {
            let due = case
                .due_at
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default();
            (
                "出生一件事已受理".to_string(),
                format!("您的出生“一件事”申请（{id}）已受理，将于 {due} 前办结。"),
            )
        }
        NoticeKind::Incomplete => {
            let list: Vec<String> = case
                .missing
                .iter()
                .map(|m| format!("{}：{}", m.name, m.reason))
                .collect();
            (
                "请补充材料（一次告知）".to_string(),
                format!(
                    "您的申请（{id}）需补充以下全部材料后重新提交：{}",
                    list.join("；")
                ),
            )
        }
        NoticeKind::NotAccepted => {
            let r = case.step(crate::flow::Step::Acceptance).reasons.join("；");
            (
                "申请不予受理".to_string(),
                format!("您的申请（{id}）不予受理，原因：{r}"),
            )
        }
        NoticeKind::Returned => {
            let r: Vec<String> = case
                .steps
                .iter()
                .filter(|x| x.status == crate::case::StepStatus::Returned)
                .flat_map(|x| x.reasons.clone())
                .collect();
            (
                "申请退回修改".to_string(),
                format!(
                    "您的申请（{id}）被退回修改，请按以下原因更正后重新提交：{}",
                    r.join("；")
                ),
            )
        }
        NoticeKind::Rejected => {
            let r: Vec<String> = case
                .steps
                .iter()
                .filter(|x| x.status == crate::case::StepStatus::Rejected)
                .flat_map(|x| x.reasons.clone())
                .collect();
            (
                "申请审查不通过".to_string(),
                format!(
                    "您的申请（{id}）审查不通过，原因：{}。已出具的结果继续有效。",
                    r.join("；")
                ),
            )
        }
        NoticeKind::PremiumDue => {
            let p = case
                .results
                .insurance
                .as_ref()
                .and_then(|i| i.medical_insurance.premium_notice.as_ref());
            let amount = p.map(|p| p.amount_cny).unwrap_or(0);
            let by = p.map(|p| p.pay_by.to_string()).unwrap_or_default();
            (
                "请缴纳新生儿医保费".to_string(),
                format!("新生儿已参保登记（{id}），请于 {by} 前缴纳医保费 {amount} 元。"),
            )
        }
        NoticeKind::Withdrawn => {
            let r = case
                .timeline
                .iter()
                .rev()
                .find(|e| e.action == "withdrawn")
                .map(|e| e.detail.clone())
                .unwrap_or_default();
            (
                "申请已撤回".to_string(),
                format!("您的出生“一件事”申请（{id}）已撤回：{r}。如需办理，请重新申请。"),
            )
        }
        NoticeKind::PremiumReminder => {
            let p = case
                .results
                .insurance
                .as_ref()
                .and_then(|i| i.medical_insurance.premium_notice.as_ref());
            let amount = p.map(|p| p.amount_cny).unwrap_or(0);
            let by = p.map(|p| p.pay_by.to_string()).unwrap_or_default();
            (
                "新生儿医保费缴纳提醒".to_string(),
                format!(
                    "新生儿医保费（{id}）尚未缴纳，请于 {by} 前缴纳 {amount} 元，逾期将影响参保待遇。"
                ),
            )
        }
        // Sent by the appointment reminder with its own text; never composed from a case.
        NoticeKind::AppointmentReminder => (
            "预约提醒".to_string(),
            format!("您的出生“一件事”（{id}）有一个预约将于下一个工作日办理，请按时前往。"),
        ),
        NoticeKind::Delivered => {
            // The n-th "delivered" notice is about the n-th hand-over of a unit.
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
            let body = match d {
                Some(d) => {
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
                None => format!("您的出生“一件事”（{id}）有结果已出具。"),
            };
            ("办理结果已出具".to_string(), body)
        }
        NoticeKind::Completed => {
            let how = match case.results.issuance.as_ref().map(|i| &i.issuance) {
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
                    "请到{}{}号窗口领取",
                    site.as_deref().unwrap_or("受理"),
                    window.as_deref().unwrap_or("")
                ),
                None => "请到受理窗口领取".to_string(),
            };
            (
                "出生一件事已办结".to_string(),
                format!("您的出生“一件事”（{id}）已办结，{how}。"),
            )
        }
    };
    Notification {
        case_id: id.clone(),
        seq,
        kind,
        title,
        body,
        phone: case.form.applicant.phone.clone(),
    }
}
