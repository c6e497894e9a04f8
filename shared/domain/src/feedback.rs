//! Feedback inboxes (8.1): bad ratings (差评) and complaints (投诉) land in the inbox of the
//! department of the step they concern; that department answers, visits the citizen back
//! and rectifies. A complaint is closed once answered; a bad rating once visited back and
//! rectified. Supervision counts the open and overdue ones.

use crate::case::{Actor, Case, DomainError, Time};
use crate::flow::{Dept, Step};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    Rating,
    Complaint,
}

/// One inbox item, as the department sees it (no free text of the citizen's here: the
/// case view, which the department may read, holds it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackItem {
    pub feedback_id: String,
    pub kind: FeedbackKind,
    pub case_id: String,
    pub step: Option<Step>,
    pub dept: Dept,
    pub created_at: Time,
    pub return_visit_due: Option<Time>,
    pub rectify_due: Option<Time>,
    pub answered_at: Option<Time>,
    pub return_visit_at: Option<Time>,
    pub rectified_at: Option<Time>,
    pub status: FeedbackStatus,
    /// An open item past a deadline.
    pub overdue: bool,
}

/// Whether a feedback item still needs the department (shown as `open` or `closed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackStatus {
    Open,
    Closed,
}

impl FeedbackStatus {
    pub fn of(closed: bool) -> FeedbackStatus {
        if closed {
            FeedbackStatus::Closed
        } else {
            FeedbackStatus::Open
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackStatus::Open => "open",
            FeedbackStatus::Closed => "closed",
        }
    }
}

/// What a department records on an item.
#[derive(Debug, Clone, PartialEq)]
pub enum FollowUp {
    Answer(String),
    ReturnVisit { visited_at: Time, summary: String },
    Rectification(String),
}

impl FeedbackItem {
    /// The deadlines still to meet: a complaint's return visit until it is answered; a
    /// bad rating's return visit and rectification until each is done.
    fn open_deadlines(&self) -> Vec<Time> {
        if self.status == FeedbackStatus::Closed {
            return vec![];
        }
        match self.kind {
            FeedbackKind::Complaint => self.return_visit_due.into_iter().collect(),
            FeedbackKind::Rating => [
                self.return_visit_due
                    .filter(|_| self.return_visit_at.is_none()),
                self.rectify_due.filter(|_| self.rectified_at.is_none()),
            ]
            .into_iter()
            .flatten()
            .collect(),
        }
    }
    /// An open item past a deadline at `now`.
    pub fn overdue_at(&self, now: Time) -> bool {
        self.open_deadlines().iter().any(|d| now > *d)
    }
    /// The earliest deadline still to meet.
    pub fn first_open_deadline(&self) -> Option<Time> {
        self.open_deadlines().into_iter().min()
    }
}

impl Case {
    /// The case's feedback items (bad ratings and complaints), open or closed, as of
    /// `now` (which are overdue).
    pub fn feedback(&self, now: Time) -> Vec<FeedbackItem> {
        let mut out = self.feedback_items();
        for item in &mut out {
            item.overdue = item.overdue_at(now);
        }
        out
    }

    /// The case's feedback items with `overdue` unset (it depends on the time of reading).
    pub(crate) fn feedback_items(&self) -> Vec<FeedbackItem> {
        let mut out = vec![];
        for (i, r) in self.ratings().iter().enumerate() {
            let Some(b) = &r.bad else { continue };
            let closed = b.return_visit_at.is_some() && b.rectified_at.is_some();
            out.push(FeedbackItem {
                feedback_id: format!("{}.R{}", self.case_id(), i + 1),
                kind: FeedbackKind::Rating,
                case_id: self.case_id().to_string(),
                step: b.step,
                dept: b.responsible_dept,
                created_at: r.at,
                return_visit_due: Some(b.return_visit_due),
                rectify_due: Some(b.rectify_due),
                answered_at: None,
                return_visit_at: b.return_visit_at,
                rectified_at: b.rectified_at,
                status: FeedbackStatus::of(closed),
                overdue: false,
            });
        }
        for c in self.complaints() {
            let closed = c.answered_at.is_some();
            out.push(FeedbackItem {
                feedback_id: format!("{}.{}", self.case_id(), c.complaint_id),
                kind: FeedbackKind::Complaint,
                case_id: self.case_id().to_string(),
                step: c.step,
                dept: c.dept,
                created_at: c.at,
                return_visit_due: c.return_visit_due,
                rectify_due: c.rectify_due,
                answered_at: c.answered_at,
                return_visit_at: c.return_visit_at,
                rectified_at: c.rectified_at,
                status: FeedbackStatus::of(closed),
                overdue: false,
            });
        }
        out
    }

    /// The family told of a follow-up on their rating or complaint (an answer, a return
    /// visit, a rectification): the effect to send with the commit that records it.
    pub fn tell_follow_up(&mut self) -> crate::case::Effect {
        self.notify(crate::case::NoticeKind::FeedbackFollowedUp)
    }

    /// Record a department's follow-up on one of the case's items.
    pub fn follow_up(
        &mut self,
        feedback_id: &str,
        action: FollowUp,
        actor: &Actor,
        now: Time,
    ) -> Result<FeedbackItem, DomainError> {
        let label = actor.label();
        let local = feedback_id
            .strip_prefix(self.case_id())
            .and_then(|r| r.strip_prefix('.'))
            .ok_or_else(|| DomainError::Rule("未找到该评价或投诉".into()))?
            .to_string();
        let (what, detail) = if let Some(n) = local.strip_prefix('R') {
            let i: usize = n
                .parse()
                .map_err(|_| DomainError::Rule("未找到该评价或投诉".into()))?;
            let b = self
                .ratings
                .get_mut(i.wrapping_sub(1))
                .and_then(|r| r.bad.as_mut())
                .ok_or_else(|| DomainError::Rule("未找到该评价或投诉".into()))?;
            on_bad_rating(b, action, now)
        } else {
            let c = self
                .complaints
                .iter_mut()
                .find(|c| c.complaint_id == local)
                .ok_or_else(|| DomainError::Rule("未找到该评价或投诉".into()))?;
            on_complaint(c, action, &label, now)?
        };
        self.log(now, &label, what, detail);
        self.feedback(now)
            .into_iter()
            .find(|f| f.feedback_id == feedback_id)
            .ok_or_else(|| DomainError::Rule("未找到该评价或投诉".into()))
    }
}

/// A follow-up on a bad rating: `(action, detail)` for the timeline.
fn on_bad_rating(
    b: &mut crate::case::BadRatingFollowUp,
    action: FollowUp,
    now: Time,
) -> (&'static str, &'static str) {
    match action {
        FollowUp::Answer(text) => {
            b.answer = Some(text);
            ("bad_rating_answered", "差评已答复")
        }
        FollowUp::ReturnVisit {
            visited_at,
            summary,
        } => {
            b.return_visit_at = Some(visited_at);
            b.return_visit_summary = Some(summary);
            ("bad_rating_visited", "差评已回访")
        }
        FollowUp::Rectification(summary) => {
            b.rectified_at = Some(now);
            b.rectification = Some(summary);
            ("bad_rating_rectified", "差评已整改反馈")
        }
    }
}

/// A follow-up on a complaint (answered once): `(action, detail)` for the timeline.
fn on_complaint(
    c: &mut crate::case::Complaint,
    action: FollowUp,
    label: &str,
    now: Time,
) -> Result<(&'static str, &'static str), DomainError> {
    Ok(match action {
        FollowUp::Answer(text) => {
            if c.answered_at.is_some() {
                return Err(DomainError::InvalidState {
                    status: "answered",
                    action: "answering again",
                });
            }
            c.status = crate::case::ComplaintStatus::Answered;
            c.answer = Some(text);
            c.answered_at = Some(now);
            c.answered_by = Some(label.to_string());
            ("complaint_answered", "投诉已答复")
        }
        FollowUp::ReturnVisit {
            visited_at,
            summary,
        } => {
            c.return_visit_at = Some(visited_at);
            c.return_visit_summary = Some(summary);
            ("complaint_visited", "投诉已回访")
        }
        FollowUp::Rectification(summary) => {
            c.rectified_at = Some(now);
            c.rectification = Some(summary);
            ("complaint_rectified", "投诉已整改反馈")
        }
    })
}
