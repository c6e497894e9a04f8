//! The step machine: a step starts, waits for review, completes, is returned or
//! rejected, and the next one starts; officers' decisions go through [`Case::decide`].

use super::*;

impl Case {
    pub fn step(&self, step: Step) -> &StepState {
        &self.steps[step.index()]
    }

    /// Where a step is handled: a county code (A.5.1, 8.1.1). The hospital: the birth
    /// hospital's county. The police, medical security and HR&SS: the registering
    /// household's county (the code a police officer supplied, if any). The service
    /// centre: its window's county (named in the site), or online the household's. Until
    /// the household is known, the hospital's county stands in; None when nothing says.
    pub fn step_region(&self, step: Step) -> Option<String> {
        let divisions = crate::idnum::Divisions::current();
        let hospital = self
            .shared
            .institution
            .as_ref()
            .map(|i| i.county_code.clone())
            .or_else(|| {
                let code = self.form.newborn.hospital_code.get(1..7)?;
                code.bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| code.to_string())
            });
        let household = self
            .step(Step::HouseholdRegistration)
            .approval_data
            .address_code
            .clone()
            .or_else(|| {
                self.shared
                    .household
                    .as_ref()
                    .map(|h| h.address_code.clone())
            });
        let window = self.form.window.as_ref().and_then(|w| {
            w.county
                .clone()
                .or_else(|| divisions.county_named_in(&w.site).map(str::to_string))
        });
        match self.step(step).dept {
            Dept::Hospital => hospital,
            Dept::Police | Dept::MedicalInsurance | Dept::Hrss => household.or(hospital),
            Dept::ServiceCenter => window.or(household).or(hospital),
            Dept::Health => None,
        }
    }

    /// Whether a step is handled within `scope` (a region prefix; for hospital steps also
    /// the `hospital` institution code). No region claim means the whole province.
    pub fn step_in_scope(&self, step: Step, scope: &Scope) -> bool {
        scope.admits(
            self.step_region(step).as_deref(),
            self.step(step).dept,
            &self.form.newborn.hospital_code,
        )
    }

    /// Whether any step of the case is handled within `scope` (supervisors).
    pub fn in_scope(&self, scope: &Scope) -> bool {
        scope.region_filter().is_none()
            || self.steps.iter().any(|s| self.step_in_scope(s.step, scope))
    }

    /// True when `version` is the case's version, or every change after it only recorded
    /// a material given to an officer.
    pub(super) fn current_for_decision(&self, version: u64) -> bool {
        version == self.version
            || (version < self.version
                && (version + 1..=self.version).all(|v| self.grant_only_versions.contains(&v)))
    }

    /// The step the case is at: the first one that is not done.
    pub fn current_step(&self) -> Option<Step> {
        self.steps
            .iter()
            .find(|s| !matches!(s.status, StepStatus::Done | StepStatus::NotApplicable))
            .map(|s| s.step)
    }

    /// The open manual-review task, if any.
    pub fn open_task(&self) -> Option<(&StepState, &Task)> {
        self.steps
            .iter()
            .find(|s| s.status == StepStatus::AwaitingReview)
            .and_then(|s| s.task.as_ref().map(|t| (s, t)))
    }

    pub(crate) fn notify(&mut self, kind: NoticeKind) -> Effect {
        self.notice_seq += 1;
        self.notices.push(kind);
        Effect::Notify {
            kind,
            seq: self.notice_seq,
        }
    }

    pub(super) fn warn_calendar(&mut self, warnings: Vec<crate::calendar::CalendarWarning>) {
        for w in warnings {
            if !self.warnings.contains(&w.message) {
                self.warnings.push(w.message);
            }
        }
    }

    pub(super) fn step_deadline(
        &mut self,
        step: Step,
        now: Time,
        cal: &Calendar,
    ) -> Result<Time, DomainError> {
        match self.plan.time_limit(step, self.channel) {
            TimeLimit::Immediate => Ok(crate::calendar::end_of_day(now.date_naive())),
            TimeLimit::CaseLimit => match self.due_at {
                Some(d) => Ok(d),
                None => {
                    let (due, w) = cal
                        .deadline_after(now.with_timezone(&Utc), self.plan.promise_working_days)?;
                    self.warn_calendar(w);
                    Ok(due)
                }
            },
            TimeLimit::WorkingDays(n) => {
                let (due, w) = cal.deadline_after(now.with_timezone(&Utc), n)?;
                self.warn_calendar(w);
                Ok(due)
            }
        }
    }

    /// Start (or restart) a step: in progress, with its deadline; dispatch it.
    pub(super) fn start_step(
        &mut self,
        step: Step,
        now: Time,
        cal: &Calendar,
    ) -> Result<Vec<Effect>, DomainError> {
        let due = self.step_deadline(step, now, cal)?;
        let s = self.step_mut(step);
        s.status = StepStatus::InProgress;
        s.started_at = Some(now);
        s.due_at = Some(due);
        s.finished_at = None;
        s.round += 1;
        s.task = None;
        s.approved_by = None;
        s.approval_data = ApprovalData::default();
        s.overdue = false;
        Ok(vec![Effect::Dispatch { step }])
    }

    pub(super) fn require(&self, ok: bool, action: &'static str) -> Result<(), DomainError> {
        if ok {
            Ok(())
        } else {
            Err(DomainError::InvalidState {
                status: self.status.as_str(),
                action,
            })
        }
    }

    /// Whether a message for `step` should be worked on now.
    pub fn is_actionable(&self, step: Step) -> bool {
        let s = self.step(step);
        !self.status.is_finished()
            && s.status == StepStatus::InProgress
            && self.current_step() == Some(step)
    }

    /// Acceptance concluded (by rules, or an officer's approval at the window).
    pub fn conclude_acceptance(
        &mut self,
        outcome: AcceptanceOutcome,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(self.is_actionable(Step::Acceptance), "acceptance")?;
        let who = actor.label();
        let mut effects = vec![];
        match outcome {
            AcceptanceOutcome::Accept { received } => {
                let (due, w) =
                    cal.deadline_after(now.with_timezone(&Utc), self.plan.promise_working_days)?;
                self.warn_calendar(w);
                self.accepted_at = Some(now);
                self.due_at = Some(due);
                self.missing.clear();
                let accepted_by = self.accepted_by(actor);
                self.acceptance_notice = Some(AcceptanceNotice {
                    notice_number: format!("SL{}", &self.case_id),
                    received_materials: received,
                    accepted_by,
                    window: self.form.window.clone(),
                    time_limit_working_days: self.plan.promise_working_days,
                    accepted_at: now,
                    due_at: due,
                    delivery: self.delivery_summary(),
                });
                self.move_to(CaseEvent::Accepted)?;
                let s = self.step_mut(Step::Acceptance);
                s.status = StepStatus::Done;
                s.finished_at = Some(now);
                s.reasons.clear();
                self.log(
                    now,
                    &who,
                    "accepted",
                    &format!("已受理，应于 {} 前办结", due.format("%Y-%m-%d")),
                );
                effects.push(self.notify(NoticeKind::Accepted));
                effects.extend(self.start_step(self.plan.first_department_step(), now, cal)?);
            }
            AcceptanceOutcome::Incomplete { missing } => {
                let list: Vec<String> = missing.iter().map(|m| m.name.clone()).collect();
                self.move_to(CaseEvent::MaterialsMissing)?;
                self.count_record_mismatch(&missing);
                let s = self.step_mut(Step::Acceptance);
                s.status = StepStatus::Returned;
                s.reasons = missing.iter().map(|m| m.reason.clone()).collect();
                self.missing = missing;
                self.log(
                    now,
                    &who,
                    "incomplete",
                    &format!("需补充：{}", list.join("、")),
                );
                effects.push(self.notify(NoticeKind::Incomplete));
            }
            AcceptanceOutcome::NotAccepted { reasons } => {
                self.move_to(CaseEvent::NotAccepted)?;
                self.finished_at = Some(now);
                self.newborn_released_in = Some(self.version + 1);
                let s = self.step_mut(Step::Acceptance);
                s.status = StepStatus::Rejected;
                s.finished_at = Some(now);
                s.reasons = reasons.clone();
                self.log(now, &who, "not_accepted", &reasons.join("; "));
                effects.push(self.notify(NoticeKind::NotAccepted));
            }
        }
        Ok(effects)
    }

    /// Who the acceptance notice says accepted the case: the window by name and number and
    /// the officer by staff number, the system, or the officer who approved it.
    fn accepted_by(&self, actor: &Actor) -> String {
        match (self.channel.is_offline(), &self.created_by) {
            (true, officer) if officer.role == Role::WindowOfficer => match &self.form.window {
                Some(w) => format!("{} 工作人员（工号 {}）", w.name_zh(), officer.sub),
                None => format!("窗口工作人员（工号 {}）", officer.sub),
            },
            _ if actor.is_system() => "联办系统自动受理".to_string(),
            _ => actor.name_zh(),
        }
    }

    pub(super) fn delivery_summary(&self) -> DeliverySummary {
        use crate::form::DeliveryMethod;
        match (&self.form.window, &self.form.delivery) {
            (Some(w), Some(d)) if d.method == DeliveryMethod::Window => DeliverySummary::Window {
                site: w.site.clone(),
                window: w.number.clone(),
            },
            (_, Some(d)) => DeliverySummary::AsAsked {
                method: d.method,
                address: d.address.as_deref().map(crate::idnum::mask_address),
                pickup_site: d.pickup_site.clone(),
            },
            (Some(w), None) => DeliverySummary::Window {
                site: w.site.clone(),
                window: w.number.clone(),
            },
            (None, None) => DeliverySummary::Pickup,
        }
    }

    /// The rules want an officer to look (or the department is on manual review).
    pub fn await_review(
        &mut self,
        step: Step,
        findings: Vec<String>,
        now: Time,
        cal: &Calendar,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(self.is_actionable(step), "review")?;
        let due = match self.step(step).due_at {
            Some(d) => d,
            None => self.step_deadline(step, now, cal)?,
        };
        let task_id = format!(
            "{}.{}.{}",
            self.case_id,
            step.as_str(),
            self.step(step).round
        );
        let s = self.step_mut(step);
        s.status = StepStatus::AwaitingReview;
        s.task = Some(Task {
            task_id,
            created_at: now,
            due_at: due,
            findings: findings.clone(),
        });
        let detail = if findings.is_empty() {
            "人工审核".to_string()
        } else {
            findings.join("；")
        };
        self.log(
            now,
            format!("system:{}", self.step(step).dept.as_str()),
            "awaiting_review",
            &format!("{}：{detail}", step.name_zh()),
        );
        Ok(vec![])
    }

    /// The step is done with these results; the next step starts (or the case completes).
    pub fn complete_step(
        &mut self,
        step: Step,
        results: StepResults,
        delivery: Option<crate::steps::issuance::DeliveryRecord>,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(
            self.is_actionable(step) && step != Step::Acceptance,
            "completing a step",
        )?;
        let mut effects = vec![];
        for (kind, old, new) in crate::steps::numbers_replaced(&self.results, &results) {
            self.supersede(kind, old, now, "更正后重新出具");
            let _ = new;
        }
        if let Some(d) = delivery {
            let online = !self.channel.is_offline() && step != Step::UnifiedIssuance;
            self.log(
                now,
                actor.label(),
                "delivered",
                &format!("{}：{}", d.method.name_zh(), d.items.join("、")),
            );
            self.deliveries.push(d);
            if online {
                effects.push(self.notify(NoticeKind::Delivered));
            }
        }
        {
            let s = self.step_mut(step);
            s.status = StepStatus::Done;
            s.finished_at = Some(now);
            s.reasons.clear();
            s.results.merge(results.clone());
        }
        let told = crate::steps::of(step).notices(&results);
        self.results.merge(results);
        self.log(now, actor.label(), "step_done", step.name_zh());
        for kind in told {
            effects.push(self.notify(kind));
        }
        match self.plan.next_after(step) {
            Some(next) => effects.extend(self.start_step(next, now, cal)?),
            None => {
                self.move_to(CaseEvent::AllStepsDone)?;
                self.finished_at = Some(now);
                if let Some(c) = self
                    .corrections
                    .iter_mut()
                    .find(|c| c.status == CorrectionStatus::InReview)
                {
                    c.status = CorrectionStatus::Completed;
                    c.finished_at = Some(now);
                }
                self.log(now, actor.label(), "completed", "全部结果已出具，办结");
                effects.push(self.notify(NoticeKind::Completed));
            }
        }
        Ok(effects)
    }

    /// Return for correction: the guardian fixes what the reasons name and resubmits.
    pub fn return_step(
        &mut self,
        step: Step,
        reasons: Vec<String>,
        actor: &Actor,
        now: Time,
    ) -> Result<Vec<Effect>, DomainError> {
        let s = self.step(step);
        self.require(
            !self.status.is_finished()
                && matches!(
                    s.status,
                    StepStatus::InProgress | StepStatus::AwaitingReview
                ),
            "return",
        )?;
        let s = self.step_mut(step);
        s.status = StepStatus::Returned;
        s.reasons = reasons.clone();
        s.task = None;
        self.move_to(CaseEvent::StepReturned)?;
        self.clock_stopped_at = Some(now);
        self.log(
            now,
            actor.label(),
            "returned",
            &format!("{}：{}", step.name_zh(), reasons.join("；")),
        );
        Ok(vec![self.notify(NoticeKind::Returned)])
    }

    /// Not pass: the case ends with reasons; results already issued stay valid.
    pub fn reject_step(
        &mut self,
        step: Step,
        reasons: Vec<String>,
        handover: Option<crate::steps::issuance::DeliveryRecord>,
        actor: &Actor,
        now: Time,
    ) -> Result<Vec<Effect>, DomainError> {
        let s = self.step(step);
        self.require(
            !self.status.is_finished()
                && matches!(
                    s.status,
                    StepStatus::InProgress | StepStatus::AwaitingReview
                ),
            "reject",
        )?;
        let s = self.step_mut(step);
        s.status = StepStatus::Rejected;
        s.reasons = reasons.clone();
        s.finished_at = Some(now);
        s.task = None;
        self.finished_at = Some(now);
        self.newborn_released_in = Some(self.version + 1);
        if let Some(d) = handover {
            self.log(
                now,
                actor.label(),
                "delivered",
                &format!(
                    "已出具的结果照常交付（{}）：{}",
                    d.method.name_zh(),
                    d.items.join("、")
                ),
            );
            self.deliveries.push(d);
        }
        if step == Step::Acceptance {
            self.move_to(CaseEvent::StepRejected)?;
            self.log(now, actor.label(), "not_accepted", &reasons.join("；"));
            Ok(vec![self.notify(NoticeKind::NotAccepted)])
        } else {
            self.move_to(CaseEvent::StepRejected)?;
            self.log(
                now,
                actor.label(),
                "rejected",
                &format!("{}：{}", step.name_zh(), reasons.join("；")),
            );
            Ok(vec![self.notify(NoticeKind::Rejected)])
        }
    }

    /// An officer's decision on the open task. `version` must be the case's version.
    /// Approval puts the step back in progress with the approval recorded; the step
    /// function then issues its results.
    pub fn decide(
        &mut self,
        d: OfficerDecision,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
    ) -> Result<Vec<Effect>, DomainError> {
        let OfficerDecision {
            task_id,
            decision,
            reasons,
            data,
            version,
            checked,
            handover,
        } = d;
        let task_id = task_id.as_str();

        let Some((s, _)) = self.open_task().filter(|(_, t)| t.task_id == task_id) else {
            return Err(DomainError::TaskNotOpen);
        };
        let step = s.step;
        if !self.current_for_decision(version) {
            return Err(DomainError::Stale {
                current: self.version,
            });
        }
        self.log_checked(step, &checked, actor, now);
        match decision {
            Decision::Approve => {
                if step == Step::Acceptance {
                    // The acceptance officer approved: accept with what rules collected.
                    let received = self.received_materials();
                    let st = self.step_mut(step);
                    st.status = StepStatus::InProgress;
                    st.task = None;
                    return self.conclude_acceptance(
                        AcceptanceOutcome::Accept { received },
                        actor,
                        now,
                        cal,
                    );
                }
                let st = self.step_mut(step);
                st.status = StepStatus::InProgress;
                st.task = None;
                st.approved_by = Some(actor.label());
                let moved = data.move_reason.clone().zip(data.address_code.clone());
                st.approval_data = data;
                self.log(now, actor.label(), "approved", step.name_zh());
                if let Some((reason, code)) = moved {
                    let place = crate::idnum::region_name(&code);
                    let detail = format!("跨县落户，新生儿在{place}登记：{reason}");
                    self.log(now, actor.label(), "county_move", &detail);
                }
                Ok(vec![Effect::Dispatch { step }])
            }
            Decision::Return => {
                if step == Step::Acceptance {
                    let missing: Vec<Missing> = reasons
                        .iter()
                        .map(|r| crate::steps::acceptance::form_reason(r.clone()))
                        .collect();
                    let st = self.step_mut(step);
                    st.status = StepStatus::InProgress;
                    st.task = None;
                    return self.conclude_acceptance(
                        AcceptanceOutcome::Incomplete { missing },
                        actor,
                        now,
                        cal,
                    );
                }
                self.return_step(step, reasons, actor, now)
            }
            Decision::Reject => self.reject_step(step, reasons, handover, actor, now),
        }
    }

    /// What the officer confirmed of the step's checklist, in the timeline.
    fn log_checked(&mut self, step: Step, checked: &[String], actor: &Actor, now: Time) {
        if !checked.is_empty() {
            let detail = format!("{}，已核验：{}", step.name_zh(), checked.join("；"));
            self.log(now, actor.label(), "checked", &detail);
        }
    }

    pub(crate) fn step_mut(&mut self, step: Step) -> &mut StepState {
        &mut self.steps[step.index()]
    }

    pub(crate) fn log(
        &mut self,
        at: Time,
        actor: impl Into<ActorLabel>,
        action: &str,
        detail: &str,
    ) {
        self.timeline.push(Event {
            at,
            actor: actor.into(),
            action: action.into(),
            detail: detail.into(),
        });
        self.updated_at = at;
    }

    pub(crate) fn mark_escalated(&mut self, step: Step, round: u32) {
        self.step_mut(step).escalated_round = round;
    }
}
