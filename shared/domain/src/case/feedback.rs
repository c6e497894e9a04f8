//! The guardian's ratings (好差评) and complaints, and the departments' follow-up.

use super::*;

impl Case {
    /// Where a complaint or bad rating goes: the department of the step it concerns, by
    /// default the step the case is at or ended at (its last started step).
    pub fn route_feedback(&self, step: Option<Step>) -> (Dept, Step) {
        let step = step.unwrap_or_else(|| {
            self.steps
                .iter()
                .rev()
                .find(|s| s.status != StepStatus::Pending)
                .map(|s| s.step)
                .unwrap_or(Step::Acceptance)
        });
        (self.step(step).dept, step)
    }

    /// Rate the finished case: one rating plus one follow-up rating (追评).
    #[allow(clippy::too_many_arguments)]
    pub fn rate(
        &mut self,
        level: u8,
        comment: Option<String>,
        step: Option<Step>,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
        settings: &crate::settings::Settings,
    ) -> Result<&Rating, DomainError> {
        self.require(self.status.is_finished(), "rating")?;
        if self.ratings.len() >= 2 {
            return Err(DomainError::Rule(
                "本件申请已评价并追评，不能再次评价".into(),
            ));
        }
        if !(1..=5).contains(&level) {
            return Err(DomainError::Rule("评价等级应为 1 至 5".into()));
        }
        let label = ["非常不满意", "不满意", "基本满意", "满意", "非常满意"][(level - 1) as usize]
            .to_string();
        let bad = if level <= 2 {
            let (dept, step) = self.route_feedback(step);
            let (visit, w1) = cal.deadline_after(
                now.with_timezone(&Utc),
                settings.bad_rating_return_visit_days,
            )?;
            let (rectify, w2) =
                cal.deadline_after(now.with_timezone(&Utc), settings.bad_rating_rectify_days)?;
            self.warn_calendar(w1);
            self.warn_calendar(w2);
            Some(BadRatingFollowUp {
                responsible_dept: dept,
                return_visit_due: visit,
                rectify_due: rectify,
                return_visit_at: None,
                rectified_at: None,
                step: Some(step),
                return_visit_summary: None,
                rectification: None,
                answer: None,
            })
        } else {
            None
        };
        let follow_up = !self.ratings.is_empty();
        self.ratings.push(Rating {
            level,
            label,
            comment,
            at: now,
            follow_up,
            bad,
        });
        self.log(
            now,
            actor.label(),
            if follow_up {
                "follow_up_rating"
            } else {
                "rated"
            },
            &format!("{level} 星"),
        );
        Ok(self.ratings.last().expect("just pushed"))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn complain(
        &mut self,
        complaint_id: String,
        text: String,
        step: Option<Step>,
        actor: &Actor,
        now: Time,
        cal: &Calendar,
        settings: &crate::settings::Settings,
    ) -> Result<&Complaint, DomainError> {
        if self.complaints.len() >= MAX_COMPLAINTS_PER_CASE {
            return Err(DomainError::Limit(format!(
                "每件申请最多提交 {MAX_COMPLAINTS_PER_CASE} 次投诉，请通过 12345 热线反映"
            )));
        }
        // Routed to the department of the step it concerns (never to a window officer:
        // only department officers answer).
        let (dept, step) = self.route_feedback(step);
        let (visit, w1) = cal.deadline_after(
            now.with_timezone(&Utc),
            settings.bad_rating_return_visit_days,
        )?;
        let (rectify, w2) =
            cal.deadline_after(now.with_timezone(&Utc), settings.bad_rating_rectify_days)?;
        self.warn_calendar(w1);
        self.warn_calendar(w2);
        self.complaints.push(Complaint {
            complaint_id,
            text,
            at: now,
            dept,
            status: ComplaintStatus::Open,
            answer: None,
            answered_at: None,
            answered_by: None,
            step: Some(step),
            return_visit_due: Some(visit),
            rectify_due: Some(rectify),
            return_visit_at: None,
            return_visit_summary: None,
            rectified_at: None,
            rectification: None,
        });
        self.log(
            now,
            actor.label(),
            "complaint",
            &format!("转{}处理", dept.name_zh()),
        );
        Ok(self.complaints.last().expect("just pushed"))
    }

    pub fn answer_complaint(
        &mut self,
        complaint_id: &str,
        answer: String,
        actor: &Actor,
        now: Time,
    ) -> Result<&Complaint, DomainError> {
        let id = format!("{}.{complaint_id}", self.case_id);
        self.follow_up(&id, crate::feedback::FollowUp::Answer(answer), actor, now)?;
        Ok(self
            .complaints
            .iter()
            .find(|c| c.complaint_id == complaint_id)
            .expect("answered above"))
    }
}
