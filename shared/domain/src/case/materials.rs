//! A case's materials: registered, confirmed by their upload, reused from a sibling
//! (twins), and the grants officers take to read them.

use super::*;

impl Case {
    /// Whether materials may be added: while the case is open, and on a completed case
    /// for a correction after completion (the correction names them); never on a case
    /// that ended otherwise.
    pub fn takes_materials(&self) -> bool {
        !self.status.is_finished()
            || (self.status == CaseStatus::Completed && self.open_correction().is_none())
    }

    /// A material registered for upload.
    pub fn register_material(
        &mut self,
        m: Material,
        actor: &Actor,
        now: Time,
    ) -> Result<(), DomainError> {
        self.require(self.takes_materials(), "adding a material")?;
        if self.materials.len() >= MAX_MATERIALS_PER_CASE {
            return Err(DomainError::Limit(format!(
                "每件申请最多登记 {MAX_MATERIALS_PER_CASE} 份材料"
            )));
        }
        let bytes: u64 = self.materials.iter().map(|x| x.size).sum();
        if bytes + m.size > MAX_MATERIAL_BYTES_PER_CASE {
            return Err(DomainError::Limit(format!(
                "每件申请的材料合计不能超过 {} MiB",
                MAX_MATERIAL_BYTES_PER_CASE / 1024 / 1024
            )));
        }
        let kind = m.kind;
        self.materials.push(m);
        self.log(now, actor.label(), "material_registered", kind.name_zh());
        Ok(())
    }

    /// The bytes of a registered material arrived and were checked; true if this changed
    /// the case.
    pub fn confirm_material(&mut self, material_id: &str, sha256: String, now: Time) -> bool {
        let Some(m) = self
            .materials
            .iter_mut()
            .find(|m| m.material_id == material_id && m.status != MaterialStatus::Uploaded)
        else {
            return false;
        };
        m.status = MaterialStatus::Uploaded;
        m.uploaded_at = Some(now);
        m.sha256 = Some(sha256);
        let kind = m.kind;
        self.log(now, "system:materials", "material_uploaded", kind.name_zh());
        true
    }

    /// Twins: materials uploaded for a sibling's application (same owner, mother and birth
    /// date, another birth order) count for this one, so nothing is uploaded twice.
    pub fn reuse_sibling_materials(&mut self, sibling: &Case, now: Time) {
        let same_birth = sibling.case_id != self.case_id
            && sibling.owner == self.owner
            && sibling.form.mother.id_number == self.form.mother.id_number
            && sibling.form.newborn.birth_date() == self.form.newborn.birth_date()
            && sibling.form.newborn.birth_order != self.form.newborn.birth_order;
        if !same_birth {
            return;
        }
        for m in &sibling.materials {
            let shared_kind = !matches!(m.kind, MaterialKind::Other);
            if shared_kind
                && m.status == MaterialStatus::Uploaded
                && !self.has_upload(m.kind)
                && !self.materials.iter().any(|x| x.blob_key == m.blob_key)
            {
                self.materials.push(m.clone());
                self.log(
                    now,
                    "system:materials",
                    "material_reused",
                    &format!("{}（同胎申请 {}）", m.kind.name_zh(), sibling.case_id),
                );
            }
        }
    }

    /// How many times a material was given to an officer (timeline `material_viewed`).
    pub(super) fn material_grants(&self) -> usize {
        self.timeline
            .iter()
            .filter(|e| e.action == MATERIAL_VIEWED)
            .count()
    }

    /// Refused once the case holds [`MAX_MATERIAL_GRANTS_PER_CASE`] grants, or `actor`
    /// alone took [`MAX_MATERIAL_GRANTS_PER_OFFICER`] of them (one officer cannot use up
    /// the case's record for everyone else).
    pub fn check_material_grant(&self, actor: &Actor) -> Result<(), DomainError> {
        if self.material_grants() >= MAX_MATERIAL_GRANTS_PER_CASE {
            return Err(DomainError::Limit(format!(
                "本件申请的材料已调阅 {MAX_MATERIAL_GRANTS_PER_CASE} 次，已达上限，如需继续调阅请联系系统运维人员"
            )));
        }
        let label = ActorLabel::from(actor.label());
        let mine = self
            .timeline
            .iter()
            .filter(|e| e.action == MATERIAL_VIEWED && e.actor == label)
            .count();
        if mine >= MAX_MATERIAL_GRANTS_PER_OFFICER {
            return Err(DomainError::Limit(format!(
                "您已调阅本件申请的材料 {MAX_MATERIAL_GRANTS_PER_OFFICER} 次，已达个人上限，如需继续调阅请联系本部门负责人"
            )));
        }
        Ok(())
    }

    /// Record that an officer was given a material (who, which, when); `Ok(false)` when
    /// the case has no such material.
    pub fn record_material_grant(
        &mut self,
        material_id: &str,
        actor: &Actor,
        now: Time,
    ) -> Result<bool, DomainError> {
        let Some(kind) = self
            .materials
            .iter()
            .find(|m| m.material_id == material_id)
            .map(|m| m.kind)
        else {
            return Ok(false);
        };
        self.check_material_grant(actor)?;
        self.log(
            now,
            actor.label(),
            MATERIAL_VIEWED,
            &format!("{}（{material_id}）", kind.name_zh()),
        );
        // The commit that records this takes the next version (see `prepare_commit`).
        self.grant_only_versions.push(self.version + 1);
        let keep = self
            .grant_only_versions
            .len()
            .saturating_sub(MAX_GRANT_ONLY_VERSIONS);
        self.grant_only_versions.drain(..keep);
        Ok(true)
    }

    /// What the acceptance notice lists as received.
    pub fn received_materials(&self) -> Vec<ReceivedMaterial> {
        let mut out = vec![ReceivedMaterial {
            material: "registration_form".into(),
            source: MaterialSource::Form,
        }];
        let mut add = |kind: MaterialKind, shared: bool| {
            let source = if shared {
                MaterialSource::DataSharing
            } else {
                MaterialSource::Upload
            };
            out.push(ReceivedMaterial {
                material: kind.as_str().into(),
                source,
            });
        };
        if self.shared.mother.is_some() {
            add(MaterialKind::MotherIdCard, true);
        } else if self.has_upload(MaterialKind::MotherIdCard) {
            add(MaterialKind::MotherIdCard, false);
        }
        if self.form.father.is_some() {
            if self.shared.father.is_some() {
                add(MaterialKind::FatherIdCard, true);
            } else if self.has_upload(MaterialKind::FatherIdCard) {
                add(MaterialKind::FatherIdCard, false);
            }
        }
        if self.shared.household.is_some() {
            add(MaterialKind::HouseholdRegister, true);
        } else if self.has_upload(MaterialKind::HouseholdRegister) {
            add(MaterialKind::HouseholdRegister, false);
        }
        if self.shared.marriage.is_some() {
            add(MaterialKind::MarriageCertificate, true);
        } else if self.has_upload(MaterialKind::MarriageCertificate) {
            add(MaterialKind::MarriageCertificate, false);
        }
        for kind in [
            MaterialKind::Commitment,
            MaterialKind::GuardianshipProof,
            MaterialKind::Other,
        ] {
            if self.has_upload(kind) {
                add(kind, false);
            }
        }
        out
    }

    pub fn has_upload(&self, kind: MaterialKind) -> bool {
        self.materials
            .iter()
            .any(|m| m.kind == kind && m.status == MaterialStatus::Uploaded)
    }
}
