//! Electronic supervision (电子监察, 8.1.2): a step overdue by more than one working day is
//! escalated (督办) to the supervisors of its region, once per round, and the department
//! is told in the case's timeline.

use crate::calendar::{shanghai, Calendar};
use crate::case::{Case, StepStatus, Time};
use crate::flow::{Dept, Step};
use serde::Serialize;

/// A step overdue by more than one working day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Escalation {
    pub case_id: String,
    pub step: Step,
    pub dept: Dept,
    pub region: Option<String>,
    pub due_at: Time,
    pub overdue_working_days: u32,
}

impl Case {
    /// The case's open steps overdue by more than one working day now.
    pub fn escalations(&self, now: Time, cal: &Calendar) -> Vec<Escalation> {
        if self.status().is_finished() {
            return vec![];
        }
        let today = now.with_timezone(&shanghai()).date_naive();
        self.steps()
            .iter()
            .filter(|s| {
                matches!(
                    s.status,
                    StepStatus::InProgress | StepStatus::AwaitingReview
                )
            })
            .filter_map(|s| {
                let due = s.due_at?;
                let days = cal.workdays_between(due.with_timezone(&shanghai()).date_naive(), today);
                (now > due && days > 1).then(|| Escalation {
                    case_id: self.case_id().to_string(),
                    step: s.step,
                    dept: s.dept,
                    region: self.step_region(s.step),
                    due_at: due,
                    overdue_working_days: days,
                })
            })
            .collect()
    }

    /// Escalate what is newly overdue by more than a working day (once per round): true
    /// if the case changed.
    pub fn escalate_overdue(&mut self, now: Time, cal: &Calendar) -> bool {
        let due = self.escalations(now, cal);
        let mut changed = false;
        for e in due {
            let round = self.step(e.step).round;
            if self.step(e.step).escalated_round == round {
                continue;
            }
            self.mark_escalated(e.step, round);
            self.log(
                now,
                "system:sla-monitor",
                "escalated",
                &format!(
                    "督办：{}（{}）已超期 {} 个工作日，已报送监督人员并通知该部门",
                    e.step.name_zh(),
                    e.dept.name_zh(),
                    e.overdue_working_days
                ),
            );
            changed = true;
        }
        changed
    }
}

/// How long a case sits still before the SLA monitor looks at it (a step's message may
/// be lost, a notification undelivered, an archive missing).
pub const LOOK_AFTER: chrono::Duration = chrono::Duration::seconds(120);

impl Case {
    /// When the SLA monitor should look at the case next, as of its last commit: the
    /// stores index cases by it, so a monitor run reads only the cases due now, not every
    /// unfinished case. The earliest of: a step's or the case's deadline (to mark it
    /// overdue), the first moment a step is overdue by more than a working day (to
    /// escalate it), the moment the current step counts as stuck (to re-send it), the
    /// automatic withdrawal of an abandoned case, the premium reminder, and one look
    /// `look_after` after each change (lost notifications, a missing archive). Never
    /// sooner than `look_after` after the monitor's last look that found nothing to do.
    /// None for a settled case.
    pub fn compute_next_check(
        &self,
        look_after: chrono::Duration,
        settings: &crate::settings::Settings,
        cal: &Calendar,
    ) -> Option<Time> {
        if self.is_settled() {
            return None;
        }
        let ms = chrono::Duration::milliseconds(1);
        let mut at: Vec<Time> = vec![];
        let open = |s: &&crate::case::StepState| {
            matches!(
                s.status,
                StepStatus::InProgress | StepStatus::AwaitingReview
            )
        };
        for s in self.steps().iter().filter(open) {
            let Some(due) = s.due_at else { continue };
            if !s.overdue {
                at.push(due + ms);
            }
            if s.escalated_round != s.round {
                at.push(escalation_moment(due, cal));
            }
        }
        if !self.status().is_finished() && !self.overdue() {
            at.extend(self.due_at().map(|d| d + ms));
        }
        if let Some(step) = self.current_step().filter(|s| self.is_actionable(*s)) {
            at.push(self.updated_at() + stuck_wait(self.step(step), look_after) + ms);
        }
        if matches!(
            self.status(),
            crate::case::CaseStatus::Incomplete | crate::case::CaseStatus::Returned
        ) {
            at.push(self.updated_at() + chrono::Duration::days(settings.auto_withdraw_days));
        }
        if self.status() == crate::case::CaseStatus::AwaitingConfirmation {
            at.push(self.submitted_at() + chrono::Duration::days(settings.confirmation_days));
        }
        if let Some(pay_by) = self
            .premium_pay_by()
            .filter(|_| self.premium_reminder_owed())
        {
            let day = pay_by - chrono::Duration::days(settings.premium_reminder_days);
            // Midnight UTC: that day whichever offset the reminder's clock reads it in.
            at.extend(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc().fixed_offset()));
        }
        // One look after each change, for what a lost message leaves undone (a stalled
        // step, an undelivered notification, the archive); an archived case has nothing
        // of that left (it was archived once every notification was delivered).
        let look = self.updated_at() + look_after + ms;
        let archived = self.status().is_finished() && self.archive().is_some();
        if !archived && self.monitored_at.is_none_or(|t| t < look) {
            at.push(look);
        }
        let next = at.into_iter().min()?;
        Some(match self.monitored_at {
            Some(t) if next <= t => t + look_after,
            _ => next,
        })
    }

    /// The next check as of the last commit (or of the commit being prepared).
    pub fn next_check(&self) -> Option<Time> {
        self.next_check
    }

    /// The SLA monitor looked at the case at `now` and found nothing to do: its next look
    /// moves on (see [`Case::compute_next_check`]).
    pub fn monitored(&mut self, now: Time) {
        self.monitored_at = Some(now);
    }
}

/// The first moment a step due at `due` is overdue by more than one working day (as
/// [`Case::escalations`] counts): the start of the first such day, in Shanghai.
fn escalation_moment(due: Time, cal: &Calendar) -> Time {
    let due_day = due.with_timezone(&shanghai()).date_naive();
    let mut day = due_day;
    for _ in 0..60 {
        day = day.succ_opt().unwrap_or(day);
        if cal.workdays_between(due_day, day) > 1 {
            let start = day
                .and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(shanghai()).single())
                .map(|t| t.fixed_offset());
            if let Some(start) = start {
                return start.max(due + chrono::Duration::milliseconds(1));
            }
        }
    }
    due + chrono::Duration::days(60)
}

/// How often the step was re-sent in its current round.
fn redrives_this_round(s: &crate::case::StepState) -> u32 {
    if s.redrive_round == s.round {
        s.redrives
    } else {
        0
    }
}

/// How long a step may sit still before it counts as stuck: `stale_after`, doubled after
/// each re-send in its round (the SLA monitor's check and the due index use the same).
fn stuck_wait(s: &crate::case::StepState, stale_after: chrono::Duration) -> chrono::Duration {
    stale_after * 2i32.pow(redrives_this_round(s).min(10))
}

/// How many times the SLA monitor re-sends a step that stopped moving, in one round,
/// before it hands the step to an officer of its department.
pub const MAX_REDRIVES: u32 = 3;

impl Case {
    /// The current automatic step has not moved for `stale_after` (doubled after each
    /// re-send): re-send it, at most [`MAX_REDRIVES`] times in a round; after that the
    /// step waits in its department's queue with the reason, instead of failing again and
    /// again. None when nothing is due.
    pub fn nudge_if_stuck(
        &mut self,
        now: Time,
        stale_after: chrono::Duration,
        cal: &Calendar,
    ) -> Option<Vec<crate::case::Effect>> {
        let step = self.current_step()?;
        if !self.is_actionable(step) {
            return None;
        }
        let s = self.step(step);
        let done = redrives_this_round(s);
        if now - self.updated_at() <= stuck_wait(s, stale_after) {
            return None;
        }
        if done < MAX_REDRIVES {
            let round = s.round;
            let st = self.step_mut(step);
            st.redrive_round = round;
            st.redrives = done + 1;
            self.log(
                now,
                "system:sla-monitor",
                "redriven",
                &format!("{}：未见进展，第 {} 次重新派发", step.name_zh(), done + 1),
            );
            return Some(vec![crate::case::Effect::Dispatch { step }]);
        }
        self.await_review(
            step,
            vec![format!(
                "自动办理重新派发 {MAX_REDRIVES} 次后仍未完成，已转人工办理（原因见系统日志和死信队列）"
            )],
            now,
            cal,
        )
        .ok()
    }
}
