//! A case's life outside its steps: creation, commit bookkeeping, the archive,
//! withdrawal, time limits.

use super::*;

impl StepState {
    /// A step not started yet. Acceptance and issuance belong to the unit that took the
    /// application; every other step to its department.
    fn pending(step: Step, channel: crate::flow::Channel) -> StepState {
        StepState {
            step,
            dept: match step {
                Step::Acceptance | Step::UnifiedIssuance => {
                    crate::steps::issuance::accepting_unit(channel)
                }
                _ => step.dept(),
            },
            status: StepStatus::Pending,
            started_at: None,
            due_at: None,
            finished_at: None,
            reasons: vec![],
            results: StepResults::default(),
            round: 0,
            task: None,
            approved_by: None,
            approval_data: ApprovalData::default(),
            overdue: false,
            escalated_round: 0,
            redrives: 0,
            redrive_round: 0,
        }
    }
}

/// Every step of the flow, pending; those the plan leaves out not applicable.
fn planned_steps(plan: &crate::catalogue::Plan, channel: flow::Channel) -> Vec<StepState> {
    flow::FLOW
        .iter()
        .map(|s| {
            let mut st = StepState::pending(s.step, channel);
            if !plan.includes(s.step) {
                st.status = StepStatus::NotApplicable;
            }
            st
        })
        .collect()
}

impl Case {
    /// A new case, as submitted. Acceptance starts at once, unless the father applied and
    /// no marriage record binds him to the mother: then the case awaits her confirmation
    /// (both are told) and holds nothing until she gives it. `parentage` None: the rules
    /// of consent are not applied (cases made by tests of other rules).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        case_id: String,
        now: Time,
        owner: String,
        created_by: Actor,
        form: Form,
        idempotency_key: String,
        request_hash: String,
        cal: &Calendar,
        parentage: Option<Parentage>,
        plan: crate::catalogue::Plan,
    ) -> Result<(Case, Vec<Effect>), DomainError> {
        let awaits_mother = parentage.as_ref().is_some_and(|p| p.awaits_mother(&form));
        let steps = planned_steps(&plan, form.channel);
        let mut case = Case {
            case_id,
            version: 0,
            status: if awaits_mother {
                CaseStatus::AwaitingConfirmation
            } else {
                CaseStatus::Submitted
            },
            channel: form.channel,
            owner,
            created_by: created_by.clone(),
            idempotency_key,
            request_hash,
            form,
            submitted_at: now,
            accepted_at: None,
            due_at: None,
            finished_at: None,
            updated_at: now,
            acceptance_notice: None,
            missing: vec![],
            steps,
            results: StepResults::default(),
            timeline: vec![],
            materials: vec![],
            shared: SharedFacts::default(),
            ratings: vec![],
            complaints: vec![],
            archive: None,
            warnings: vec![],
            notice_seq: 0,
            notices: vec![],
            overdue: false,
            newborn_released_in: None,
            newborn_claimed_in: None,
            previous_phone: None,
            record_mismatch_notices: 0,
            resubmitted_at: vec![],
            parentage,
            plan,
            grant_only_versions: vec![],
            deliveries: vec![],
            superseded: vec![],
            certificates: vec![],
            corrections: vec![],
            earlier_archives: vec![],
            clock_stopped_at: None,
            guardian_working_days: 0,
            premium_reminded: false,
            monitored_at: None,
            next_check: None,
            indexed: Default::default(),
            pending: Default::default(),
        };
        case.log(
            now,
            created_by.label(),
            "submitted",
            &format!("提交申请（{}）", case.channel.name_zh()),
        );
        let effects = case.begin(awaits_mother, now, cal)?;
        Ok((case, effects))
    }

    /// Before a commit: the next version, and the read models recomputed (see
    /// [`crate::projection`]). Returns the version the commit expects to replace.
    pub fn prepare_commit(
        &mut self,
        cal: &crate::calendar::Calendar,
        settings: &crate::settings::Settings,
    ) -> u64 {
        let expected = self.version;
        self.version = expected + 1;
        self.refresh_projections(cal);
        self.next_check = self.compute_next_check(crate::supervision::LOOK_AFTER, settings, cal);
        expected
    }

    /// Acceptance asked data sharing: keep what it found on the case (later steps read
    /// it instead of asking again) and assess the application against it.
    pub fn assess_acceptance(
        &mut self,
        facts: SharedFacts,
        settings: &crate::settings::Settings,
    ) -> AcceptanceOutcome {
        self.shared = facts;
        crate::steps::acceptance::assess(self, &self.shared, settings)
    }

    /// The finished case was archived.
    pub fn record_archive(&mut self, archive: ArchiveRef) -> Result<(), DomainError> {
        self.require(self.status.is_finished(), "archiving")?;
        let now = archive.archived_at;
        let files = archive.files;
        self.archive = Some(archive);
        self.log(
            now,
            "system:archive",
            "archived",
            &format!("已归档 {files} 个文件"),
        );
        Ok(())
    }

    /// Withdraw the application (by the guardian or the window officer, or by the system
    /// after the configured limit): the case ends and the newborn is free again.
    pub fn withdraw(
        &mut self,
        reason: String,
        actor: &Actor,
        now: Time,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(
            matches!(
                self.status,
                CaseStatus::AwaitingConfirmation
                    | CaseStatus::Submitted
                    | CaseStatus::Incomplete
                    | CaseStatus::Returned
            ),
            "withdrawal",
        )?;
        for s in self.steps.iter_mut() {
            if matches!(
                s.status,
                StepStatus::InProgress | StepStatus::AwaitingReview
            ) {
                s.status = StepStatus::Returned;
                s.task = None;
                s.reasons = vec![reason.clone()];
            }
        }
        self.move_to(CaseEvent::Withdrawn)?;
        self.finished_at = Some(now);
        self.clock_stopped_at = None;
        self.newborn_released_in = Some(self.version + 1);
        self.log(now, actor.label(), "withdrawn", &reason);
        Ok(vec![self.notify(NoticeKind::Withdrawn)])
    }

    /// A case left incomplete or returned longer than `days`: the system withdraws it.
    pub fn withdraw_if_abandoned(&mut self, now: Time, days: i64) -> Option<Vec<Effect>> {
        let waiting = matches!(self.status, CaseStatus::Incomplete | CaseStatus::Returned);
        if !waiting || now - self.updated_at < chrono::Duration::days(days) {
            return None;
        }
        let actor = Actor::system(Dept::ServiceCenter);
        self.withdraw(
            format!("超过 {days} 天未补正或更正，系统自动撤回"),
            &actor,
            now,
        )
        .ok()
    }

    /// Nothing more will happen to the case by itself: it is finished and archived. Until
    /// then the SLA monitor keeps an eye on it (stalled steps, lost notifications, a
    /// missing archive).
    pub fn is_settled(&self) -> bool {
        self.status.is_finished() && self.archive.is_some() && !self.premium_reminder_owed()
    }

    /// Mark overdue steps and the case; returns true if anything changed.
    pub fn mark_overdue(&mut self, now: Time) -> bool {
        let mut changed = false;
        let mut newly = vec![];
        for s in self.steps.iter_mut() {
            if matches!(
                s.status,
                StepStatus::InProgress | StepStatus::AwaitingReview
            ) && !s.overdue
                && s.due_at.is_some_and(|d| now > d)
            {
                s.overdue = true;
                changed = true;
                newly.push(s.step);
            }
        }
        for step in newly {
            self.log(now, "system:sla-monitor", "step_overdue", step.name_zh());
        }
        if !self.overdue && !self.status.is_finished() && self.due_at.is_some_and(|d| now > d) {
            self.overdue = true;
            changed = true;
            self.log(
                now,
                "system:sla-monitor",
                "case_overdue",
                "已超过 4 个工作日办结时限",
            );
        }
        changed
    }

    /// Completed within the time limit (None while unfinished or never accepted).
    pub fn on_time(&self) -> Option<bool> {
        match (self.status, self.finished_at, self.due_at) {
            (CaseStatus::Completed, Some(f), Some(d)) => Some(f <= d),
            _ => None,
        }
    }
}
