//! Parents and consent (API.md "Parents, consent and who may act"): the mother is who the
//! delivery record names; a father is presumed only from a marriage record binding him to
//! her (婚生推定). An application by the father waits for the mother's confirmation in her
//! own account unless a marriage record binds them; until then the case allocates nothing
//! and holds no claim on the newborn. Every parent named in a case may read it, decline
//! it while it awaits them, or object to it before it completes; the police or the
//! accepting window void a fraudulent case.

use super::*;
use crate::form::ParentRole;

/// What the case knows of its parents' consent. Cases stored before these rules have
/// none (and are treated as confirmed: they were created under the old rules).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Parentage {
    /// A marriage record in data sharing binds the named father to the mother.
    #[serde(default)]
    pub married: bool,
    /// When the mother confirmed in her own account (or applied herself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mother_confirmed_at: Option<Time>,
    /// When the named father confirmed in his own account (or applied himself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub father_confirmed_at: Option<Time>,
    /// The phones data sharing holds for the parents (never the applicant's text): the
    /// parent who did not apply is told at this number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mother_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub father_phone: Option<String>,
    /// Objections by a named parent, each sent to the police.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objections: Vec<Objection>,
    /// The case was voided as fraudulent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voided: Option<Voided>,
    /// Cases for the same newborn voided before this one was made: the numbers they
    /// were issued are never issued again, so this case's come from a later generation.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub prior_voids: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A named parent's objection to the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objection {
    pub by: ParentRole,
    pub reason: String,
    pub at: Time,
}

/// Who voided the case, why and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Voided {
    pub by: String,
    pub reason: String,
    pub at: Time,
}

impl Parentage {
    /// The consent an application starts with: the applicant's own, and the marriage
    /// record's presumption of the father.
    pub fn at_application(form: &Form, married: bool, now: Time) -> Parentage {
        let mut p = Parentage {
            married,
            ..Parentage::default()
        };
        match form.applicant.relation {
            crate::form::Relation::Mother => p.mother_confirmed_at = Some(now),
            crate::form::Relation::Father => p.father_confirmed_at = Some(now),
            crate::form::Relation::Guardian => {}
        }
        p
    }
}

impl Parentage {
    /// Whether an application made with this consent waits for the mother: the father
    /// applied and no marriage record binds him to her.
    pub fn awaits_mother(&self, form: &Form) -> bool {
        self.mother_confirmed_at.is_none()
            && !self.married
            && form.applicant.relation == crate::form::Relation::Father
    }
}

impl Case {
    /// A new case's first effects: waiting for the mother (both told), or acceptance at
    /// once — and a father no marriage record binds, named by the mother, is told.
    pub(super) fn begin(
        &mut self,
        awaits_mother: bool,
        now: Time,
        cal: &Calendar,
    ) -> Result<Vec<Effect>, DomainError> {
        if awaits_mother {
            self.log(
                now,
                "system:service_center",
                "awaiting_confirmation",
                "新生儿父亲提出的申请须经新生儿母亲本人在其账户中确认后受理",
            );
            return Ok(vec![
                self.notify(NoticeKind::AwaitingConfirmation),
                self.notify(NoticeKind::ConfirmationRequested),
            ]);
        }
        let mut effects = self.start_step(Step::Acceptance, now, cal)?;
        let father_unbound = self.parentage.as_ref().is_some_and(|p| !p.married)
            && self.form.father.is_some()
            && self.form.applicant.relation == crate::form::Relation::Mother;
        if father_unbound {
            effects.push(self.notify(NoticeKind::ConfirmationRequested));
        }
        Ok(effects)
    }

    /// The case's parentage record (None: created before these rules).
    pub fn parentage(&self) -> Option<&Parentage> {
        self.parentage.as_ref()
    }

    /// The citizen ID numbers of the parents the form names (a store indexes the case
    /// under each, so a parent who did not apply finds it).
    pub fn parties(&self) -> Vec<String> {
        let mut out = vec![self.form.mother.id_number.as_str().to_string()];
        if let Some(f) = &self.form.father {
            out.push(f.id_number.as_str().to_string());
        }
        out
    }

    /// Which parent the form names with this citizen ID number.
    pub fn named_parent(&self, id_number: &str) -> Option<ParentRole> {
        let id = crate::idnum::normalise(id_number);
        if self.form.mother.id_number.as_str() == id {
            return Some(ParentRole::Mother);
        }
        match &self.form.father {
            Some(f) if f.id_number.as_str() == id => Some(ParentRole::Father),
            _ => None,
        }
    }

    /// The named parent who did not apply (the mother when a guardian applied), if any.
    pub fn other_parent(&self) -> Option<ParentRole> {
        match self.form.applicant.relation {
            crate::form::Relation::Father => Some(ParentRole::Mother),
            crate::form::Relation::Mother => self.form.father.as_ref().map(|_| ParentRole::Father),
            crate::form::Relation::Guardian => Some(ParentRole::Mother),
        }
    }

    /// The phone data sharing holds for `parent`.
    pub fn parent_phone(&self, parent: ParentRole) -> Option<&str> {
        let p = self.parentage.as_ref()?;
        match parent {
            ParentRole::Mother => p.mother_phone.as_deref(),
            ParentRole::Father => p.father_phone.as_deref(),
        }
    }

    /// Whether the named father is confirmed: bound to the mother by a marriage record,
    /// or confirmed (or applied) in his own account.
    pub fn father_confirmed(&self) -> bool {
        match &self.parentage {
            None => true,
            Some(p) => p.married || p.father_confirmed_at.is_some(),
        }
    }

    /// Whether the case holds its newborn's claim ("One newborn, one case" applies from
    /// the mother's confirmation).
    pub fn holds_newborn_claim(&self) -> bool {
        self.status != CaseStatus::AwaitingConfirmation && !self.status.releases_newborn()
    }

    /// This commit takes the newborn's claim (the mother has just confirmed).
    pub fn claims_newborn_now(&self) -> bool {
        self.newborn_claimed_in == Some(self.version)
    }

    /// The generation of the newborn's numbers of `kind` this case takes: one more for
    /// each such number a correction superseded, and for each earlier voided case of the
    /// newborn (a superseded number is never issued again).
    pub fn number_generation(&self, kind: SupersededKind) -> usize {
        let superseded = self.superseded.iter().filter(|s| s.kind == kind).count();
        let voids = self
            .parentage
            .as_ref()
            .map_or(0, |p| p.prior_voids as usize);
        superseded + voids
    }

    /// The objections of the named parents.
    pub fn objections(&self) -> &[Objection] {
        self.parentage.as_ref().map_or(&[], |p| &p.objections)
    }

    /// A named parent confirms the case in their own account. The mother's confirmation
    /// of a case awaiting it starts acceptance (the case then claims its newborn); the
    /// father's records his consent. Confirming again changes nothing.
    pub fn confirm_parent(
        &mut self,
        parent: ParentRole,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(
            !self.status.is_finished() || self.status == CaseStatus::Completed,
            "confirmation",
        )?;
        let p = self.parentage.get_or_insert_with(Parentage::default);
        let slot = match parent {
            ParentRole::Mother => &mut p.mother_confirmed_at,
            ParentRole::Father => &mut p.father_confirmed_at,
        };
        if slot.is_some() {
            return Ok(vec![]);
        }
        *slot = Some(now);
        let who = parent_name_zh(parent);
        self.log(
            now,
            actor.label(),
            "parent_confirmed",
            &format!("{who}本人确认申请"),
        );
        if parent == ParentRole::Mother && self.status == CaseStatus::AwaitingConfirmation {
            self.move_to(CaseEvent::Confirmed)?;
            self.newborn_claimed_in = Some(self.version + 1);
            self.updated_at = now;
            return self.start_step(Step::Acceptance, now, cal);
        }
        Ok(vec![])
    }

    /// A named parent who did not apply declines the case while it awaits their
    /// confirmation: it is withdrawn (it held no claim), and the applicant is told.
    pub fn decline(
        &mut self,
        parent: ParentRole,
        actor: &Actor,
        now: Time,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(
            self.status == CaseStatus::AwaitingConfirmation && self.other_parent() == Some(parent),
            "declining",
        )?;
        self.move_to(CaseEvent::Withdrawn)?;
        self.finished_at = Some(now);
        self.updated_at = now;
        let who = parent_name_zh(parent);
        self.log(
            now,
            actor.label(),
            "declined",
            &format!("{who}本人不同意该申请，申请已撤回"),
        );
        Ok(vec![self.notify(NoticeKind::Declined)])
    }

    /// A named parent objects before completion: the police review the case with the
    /// objection as its reason. If the police have already decided, their step is done
    /// again (what it certified is superseded, never reused).
    pub fn object(
        &mut self,
        parent: ParentRole,
        reason: String,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(!self.status.is_finished(), "objection")?;
        self.require(self.objections().len() < MAX_OBJECTIONS, "objection")?;
        let p = self.parentage.get_or_insert_with(Parentage::default);
        p.objections.push(Objection {
            by: parent,
            reason,
            at: now,
        });
        self.updated_at = now;
        let who = parent_name_zh(parent);
        self.log(
            now,
            actor.label(),
            "objected",
            &format!("{who}对申请提出异议，转公安机关审核"),
        );
        let police = Step::HouseholdRegistration;
        let redo = self.status == CaseStatus::InProgress
            && self.step(police).status == StepStatus::Done
            && self.current_step().is_some_and(|s| s > police);
        if redo {
            self.redo_from(police, Some(police), now);
            return self.start_step(police, now, cal);
        }
        Ok(vec![])
    }

    /// The police (or the accepting window) void a fraudulent case: it ends as `voided`,
    /// its newborn's claim is released, its certificates are revoked and its numbers
    /// superseded (never issued again); the applicant and the other named parent are told.
    pub fn void(
        &mut self,
        reason: String,
        actor: &Actor,
        now: Time,
    ) -> Result<Vec<Effect>, DomainError> {
        self.require(self.status != CaseStatus::Voided, "voiding")?;
        let held = self.holds_newborn_claim();
        for s in self.steps.iter_mut() {
            if matches!(
                s.status,
                StepStatus::InProgress | StepStatus::AwaitingReview
            ) {
                s.status = StepStatus::Rejected;
                s.task = None;
                s.reasons = vec![VOID_REASON.to_string()];
                s.finished_at = Some(now);
            }
        }
        for step in Step::ALL {
            if self.step(step).status == StepStatus::Done {
                for (kind, value) in crate::steps::of(step).issued_numbers(self) {
                    self.supersede(kind, value, now, VOID_REASON);
                }
            }
        }
        for c in self.certificates.iter_mut() {
            c.status = crate::certificate::CertStatus::Revoked;
        }
        self.move_to(CaseEvent::Voided)?;
        if held {
            self.newborn_released_in = Some(self.version + 1);
        }
        self.finished_at = Some(now);
        self.updated_at = now;
        self.clock_stopped_at = None;
        let p = self.parentage.get_or_insert_with(Parentage::default);
        p.voided = Some(Voided {
            by: actor.label(),
            reason: reason.clone(),
            at: now,
        });
        self.log(
            now,
            actor.label(),
            "voided",
            &format!("申请被认定为虚假申请，予以作废：{reason}"),
        );
        let mut effects = vec![self.notify(NoticeKind::Voided)];
        if self.other_parent().is_some() {
            effects.push(self.notify(NoticeKind::VoidedToParent));
        }
        Ok(effects)
    }

    /// A case awaiting the mother's confirmation longer than `days`: the system
    /// withdraws it.
    pub fn withdraw_if_unconfirmed(&mut self, now: Time, days: i64) -> Option<Vec<Effect>> {
        if self.status != CaseStatus::AwaitingConfirmation
            || now - self.submitted_at < chrono::Duration::days(days)
        {
            return None;
        }
        let actor = Actor::system(Dept::ServiceCenter);
        self.withdraw(
            format!("超过 {days} 天未经新生儿母亲本人确认，系统自动撤回"),
            &actor,
            now,
        )
        .ok()
    }
}

/// The reason a voided case's steps and numbers carry.
pub const VOID_REASON: &str = "申请被认定为虚假申请，已作废";
/// Objections one case may hold.
pub const MAX_OBJECTIONS: usize = 5;

/// A parent as citizen text names them.
pub fn parent_name_zh(parent: ParentRole) -> &'static str {
    match parent {
        ParentRole::Mother => "新生儿母亲",
        ParentRole::Father => "新生儿父亲",
    }
}
