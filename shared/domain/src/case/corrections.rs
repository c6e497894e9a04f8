//! Resubmission after a return and corrections after completion: which steps run again
//! and what their redoing supersedes.

use super::*;

impl Case {
    /// The guardian (or the window officer) resubmits after `incomplete` or `returned`,
    /// with corrections applied and data sharing asked again (`facts`). A case never
    /// accepted goes back to acceptance. An accepted case is assessed again at once (one
    /// notice if anything is now missing); otherwise it resumes at the earliest of the
    /// returned step and the earliest step whose result depends on a corrected field, and
    /// that step and every later one are done again. The clock stopped while the case
    /// waited on the guardian; the remaining working days run on.
    #[allow(clippy::too_many_arguments)]
    pub fn resubmit(
        &mut self,
        form: Option<Form>,
        facts: Option<SharedFacts>,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
        settings: &crate::settings::Settings,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(
            matches!(self.status, CaseStatus::Incomplete | CaseStatus::Returned),
            "resubmission",
        )?;
        self.count_resubmission(now, settings)?;
        let changed = match &form {
            Some(f) => self.form.changed_fields(f),
            None => vec![],
        };
        let old_phone = self.form.applicant.phone.clone();
        if let Some(f) = form {
            self.form = f;
        }
        let mut told = self.applicant_changes(&changed, old_phone, actor, now);
        self.restart_clock(now, cal);
        let returned = self
            .steps
            .iter()
            .find(|s| s.status == StepStatus::Returned && s.step != Step::Acceptance)
            .map(|s| s.step);
        if self.accepted_at.is_none() {
            self.move_to(CaseEvent::Resubmitted)?;
            self.missing.clear();
            self.step_mut(Step::Acceptance).reasons.clear();
            self.log(now, actor.label(), "resubmitted", "重新提交，重新受理审查");
            told.extend(self.start_step(Step::Acceptance, now, cal)?);
            return Ok(told);
        }
        // Accepted before: everything acceptance decides is decided again now.
        if let Some(facts) = facts {
            self.shared = facts;
        }
        let missing = self.assess_again(settings);
        if !missing.is_empty() {
            self.move_to(CaseEvent::MaterialsMissing)?;
            self.clock_stopped_at = Some(now);
            self.count_record_mismatch(&missing);
            self.missing = missing;
            let list: Vec<String> = self.missing.iter().map(|m| m.name.clone()).collect();
            self.log(
                now,
                actor.label(),
                "incomplete",
                &format!("更正后仍需补充：{}", list.join("、")),
            );
            told.push(self.notify(NoticeKind::Incomplete));
            return Ok(told);
        }
        self.missing.clear();
        let affected = self
            .plan
            .earliest_affected(&changed)
            .filter(|s| self.step(*s).status != StepStatus::Pending);
        let resume = [returned, affected, self.current_step()]
            .into_iter()
            .flatten()
            .filter(|s| *s != Step::Acceptance)
            .min()
            .unwrap_or_else(|| self.plan.first_department_step());
        self.redo_from(resume, affected, now);
        self.move_to(CaseEvent::Resumed)?;
        self.step_mut(resume).reasons.clear();
        let detail = if changed.is_empty() {
            format!("从{}继续办理", resume.name_zh())
        } else {
            format!("更正 {} 项，从{}重新办理", changed.len(), resume.name_zh())
        };
        self.log(now, actor.label(), "resubmitted", &detail);
        told.extend(self.start_step(resume, now, cal)?);
        Ok(told)
    }

    /// One more resubmission, within the case's bounds (settings): at most
    /// `max_resubmissions_per_day` a (Beijing) day and `max_resubmissions` in all, so that
    /// no loop of resubmissions grows the case or floods the family's phone.
    fn count_resubmission(
        &mut self,
        now: Time,
        settings: &crate::settings::Settings,
    ) -> Result<(), DomainError> {
        let day = now.date_naive();
        let today = self
            .resubmitted_at
            .iter()
            .filter(|t| t.date_naive() == day)
            .count();
        let (all, per_day) = (
            settings.max_resubmissions,
            settings.max_resubmissions_per_day,
        );
        if self.resubmitted_at.len() >= all {
            return Err(DomainError::Limit(format!(
                "本申请已重新提交 {all} 次，已达上限；请撤回后重新申请，或到受理窗口办理"
            )));
        }
        if today >= per_day {
            return Err(DomainError::Limit(format!(
                "本申请今天已重新提交 {per_day} 次，请核对后明天再提交，或到受理窗口办理"
            )));
        }
        self.resubmitted_at.push(now);
        Ok(())
    }

    /// The applicant's name or phone changed by a resubmission: recorded in the timeline
    /// (the phone by its last four digits), and a changed phone's old number is told.
    fn applicant_changes(
        &mut self,
        changed: &[String],
        old_phone: String,
        actor: &Actor,
        now: Time,
    ) -> Vec<Effect> {
        if changed.iter().any(|f| f == "applicant.name") {
            self.log(now, actor.label(), "applicant_renamed", "申请人姓名已更正");
        }
        if !changed.iter().any(|f| f == "applicant.phone") {
            return vec![];
        }
        let tail = |p: &str| {
            p.chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<String>()
        };
        let detail = format!(
            "申请人联系电话由尾号 {} 变更为尾号 {}",
            tail(&old_phone),
            tail(&self.form.applicant.phone)
        );
        self.log(now, actor.label(), "phone_changed", &detail);
        self.previous_phone = Some(old_phone);
        vec![self.notify(NoticeKind::PhoneChanged)]
    }

    /// Acceptance's assessment of an accepted case, again: what is missing now (a policy
    /// reason is one more thing to correct on the form); none, and the received materials
    /// are brought up to date.
    fn assess_again(&mut self, settings: &crate::settings::Settings) -> Vec<Missing> {
        match crate::steps::acceptance::assess(self, &self.shared, settings) {
            AcceptanceOutcome::Accept { received } => {
                if let Some(n) = self.acceptance_notice.as_mut() {
                    n.received_materials = received;
                }
                vec![]
            }
            AcceptanceOutcome::Incomplete { missing } => missing,
            AcceptanceOutcome::NotAccepted { reasons } => reasons
                .into_iter()
                .map(crate::steps::acceptance::form_reason)
                .collect(),
        }
    }

    /// Every step after `resume` that already ran goes back to pending; if what `resume`
    /// certified changed, the numbers it certified are superseded (never reused).
    pub(super) fn redo_from(&mut self, resume: Step, affected: Option<Step>, now: Time) {
        for s in Step::ALL.into_iter().filter(|s| *s > resume) {
            let st = self.step_mut(s);
            if !matches!(st.status, StepStatus::Pending | StepStatus::NotApplicable) {
                st.status = StepStatus::Pending;
                st.task = None;
                st.reasons.clear();
                st.finished_at = None;
            }
        }
        // The certified content changed: what the step certified is reissued, never reused.
        if affected == Some(resume) && self.step(resume).status == StepStatus::Done {
            for (kind, value, reason) in crate::steps::of(resume).superseded_on_redo(self) {
                self.supersede(kind, value, now, reason);
            }
        }
    }

    /// The open correction (asked for after completion, not yet reissued), if any.
    pub fn open_correction(&self) -> Option<&Correction> {
        self.corrections
            .iter()
            .find(|c| c.status == CorrectionStatus::InReview)
    }

    pub fn corrections(&self) -> &[Correction] {
        &self.corrections
    }

    pub fn earlier_archives(&self) -> &[ArchiveRef] {
        &self.earlier_archives
    }

    /// A correction after completion: the corrected form (immutable fields already
    /// checked) replaces the old; the earliest step whose result depends on what changed
    /// and every later one are done again, each reviewed by its department's officer
    /// (see [`Case::open_correction`]); the case is archived again when it completes.
    /// A change no result depends on (a phone number) is recorded and done at once.
    #[allow(clippy::too_many_arguments)]
    pub fn request_correction(
        &mut self,
        correction_id: String,
        form: Form,
        facts: Option<SharedFacts>,
        reason: String,
        materials: Vec<String>,
        actor: &Actor,
        now: Time,
        (cal, settings): (&Calendar, &crate::settings::Settings),
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(
            self.status == CaseStatus::Completed && self.open_correction().is_none(),
            "correction after completion",
        )?;
        let changes = self.form.changed_fields(&form);
        let from = self
            .plan
            .earliest_affected(&changes)
            .filter(|s| *s != Step::Acceptance);
        self.form = form;
        if let Some(f) = facts {
            self.shared = f;
        }
        // Acceptance again on the corrected form: what it lacks is refused, all at once
        // (the departments never see a claim acceptance did not check); what it holds
        // brings the received materials up to date.
        let missing = self.assess_again(settings);
        if !missing.is_empty() {
            return Err(DomainError::Missing(missing));
        }
        let mut correction = Correction {
            correction_id,
            status: CorrectionStatus::InReview,
            requested_at: now,
            finished_at: None,
            changes,
            reason,
            materials,
            from_step: from,
        };
        let Some(resume) = from else {
            correction.status = CorrectionStatus::Completed;
            correction.finished_at = Some(now);
            let n = correction.changes.len();
            self.corrections.push(correction);
            self.log(
                now,
                actor.label(),
                "corrected",
                &format!("更正 {n} 项（不影响已出具的结果）"),
            );
            return Ok(vec![]);
        };
        let (due, w) =
            cal.deadline_after(now.with_timezone(&Utc), self.plan.promise_working_days)?;
        self.warn_calendar(w);
        self.redo_from(resume, Some(resume), now);
        self.move_to(CaseEvent::CorrectionOpened)?;
        self.finished_at = None;
        self.due_at = Some(due);
        self.overdue = false;
        if let Some(a) = self.archive.take() {
            self.earlier_archives.push(a);
        }
        let detail = format!(
            "办结后申请更正 {} 项（{}），从{}起由各部门审核后重新出具",
            correction.changes.len(),
            correction.reason,
            resume.name_zh()
        );
        self.corrections.push(correction);
        self.log(now, actor.label(), "correction_requested", &detail);
        self.start_step(resume, now, cal)
    }

    /// Record a result replaced by a correction (once per value).
    pub(super) fn supersede(
        &mut self,
        kind: SupersededKind,
        value: String,
        now: Time,
        reason: &str,
    ) {
        if self
            .superseded
            .iter()
            .any(|s| s.kind == kind && s.value == value)
        {
            return;
        }
        self.superseded.push(Superseded {
            kind,
            value,
            superseded_at: now,
            reason: reason.into(),
        });
    }

    /// The guardian is back: the case's working days that were left when it stopped run
    /// on from today; the days the guardian held it are counted apart.
    pub(super) fn restart_clock(&mut self, now: Time, cal: &Calendar) {
        let Some(stopped) = self.clock_stopped_at.take() else {
            return;
        };
        let held = cal.workdays_between(stopped.date_naive(), now.date_naive());
        self.guardian_working_days += held;
        if let Some(due) = self.due_at {
            let left = cal.workdays_between(stopped.date_naive(), due.date_naive());
            if let Ok((new_due, w)) = cal.deadline_after(now.with_timezone(&Utc), left) {
                self.warn_calendar(w);
                if new_due > due {
                    self.due_at = Some(new_due);
                    self.overdue = false;
                }
            }
        }
    }
}
