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
        let done = if s.redrive_round == s.round {
            s.redrives
        } else {
            0
        };
        let wait = stale_after * 2i32.pow(done.min(10));
        if now - self.updated_at() <= wait {
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
