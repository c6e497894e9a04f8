//! The case state machine, the form and the rules, without any I/O.

use chrono::{DateTime, Duration, FixedOffset};
use onething_domain::case::{
    AcceptanceOutcome, Actor, Case, CaseStatus, Effect, NoticeKind, OfficerDecision, Role,
    StepStatus,
};
use onething_domain::flow::{Dept, Step};
use onething_domain::idnum::Sex;
use onething_domain::sharing::{
    BirthRecord, HouseholdRecord, Institution, MarriageRecord, Person, SharedFacts,
};
use onething_domain::steps::{self, acceptance, issuance, NumberKind, Numbers, Verdict};
use onething_domain::{Calendar, Decision, DomainError, Form, Settings, UnknownYearPolicy};
use serde_json::{json, Value};

use testkit::family::{FATHER_A as FATHER, MOTHER_A as MOTHER};

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-30T10:00:00+08:00").unwrap()
}

fn cal() -> Calendar {
    Calendar::builtin(UnknownYearPolicy::AssumeWeekdays)
}

/// Family A's online form, the baby born on Saturday 2026-11-28.
fn form_json() -> Value {
    testkit::family::form_a_born("2026-11-28T08:30:00+08:00")
}

fn guardian() -> Actor {
    Actor {
        sub: FATHER.into(),
        role: Role::Guardian,
        dept: None,
        scope: Default::default(),
    }
}

fn facts() -> SharedFacts {
    let person = |id: &str, name: &str| Person {
        id_number: id.into(),
        name: name.into(),
        sex: None,
        ethnicity: Some("汉族".into()),
        household_number: Some("330106000001".into()),
        employee_insured: true,
        phone: None,
    };
    SharedFacts {
        mother: Some(person(MOTHER, "李梅")),
        father: Some(person(FATHER, "王海")),
        household: Some(HouseholdRecord {
            household_number: "330106000001".into(),
            address_code: "330106".into(),
            address: String::new(),
            head_id_number: None,
            kind: None,
        }),
        marriage: Some(MarriageRecord {
            certificate_number: "J1".into(),
            husband_id_number: FATHER.into(),
            wife_id_number: MOTHER.into(),
            registered_on: None,
        }),
        institution: Some(Institution {
            code: "H330106001".into(),
            name: "医院".into(),
            county_code: "330106".into(),
            kind: onething_domain::sharing::InstitutionKind::Midwifery,
        }),
        birth: Some(BirthRecord {
            institution_code: "H330106001".into(),
            mother_id_number: MOTHER.into(),
            birth_time: DateTime::parse_from_rfc3339("2026-11-28T08:30:00+08:00").unwrap(),
            sex: Sex::Female,
            birth_order: 1,
            multiple_birth: 1,
            weight_g: 3250,
            length_cm: 50,
            gestational_weeks: 39,
        }),
    }
}

fn new_case() -> (Case, Vec<Effect>) {
    let form = Form::parse(&form_json(), now()).unwrap();
    Case::new(
        "BC1".into(),
        now(),
        FATHER.into(),
        guardian(),
        form,
        "k".into(),
        "h".into(),
        &cal(),
        None,
        onething_domain::catalogue::Plan::builtin(),
    )
    .unwrap()
}

fn accepted_case() -> Case {
    accepted_case_with(|_| {})
}

/// Family A's case, with the form changed by `edit`, accepted on the shared records.
fn accepted_case_with(edit: impl FnOnce(&mut Value)) -> Case {
    let mut f = form_json();
    edit(&mut f);
    let (mut c, _) = Case::new(
        "BC1".into(),
        now(),
        FATHER.into(),
        guardian(),
        Form::parse(&f, now()).unwrap(),
        "k".into(),
        "h".into(),
        &cal(),
        None,
        onething_domain::catalogue::Plan::builtin(),
    )
    .unwrap();
    // The hospital's record says what the (edited) form says.
    let mut fx = facts();
    if let Some(b) = fx.birth.as_mut() {
        let nb = &c.form().newborn;
        b.sex = nb.sex;
        b.weight_g = nb.weight_g;
        b.gestational_weeks = nb.gestational_weeks;
        b.length_cm = nb.length_cm;
    }
    let outcome = c.assess_acceptance(fx, &Settings::default());
    let effects = c
        .conclude_acceptance(outcome, &Actor::system(Dept::ServiceCenter), now(), &cal())
        .unwrap();
    assert!(effects.contains(&Effect::Dispatch {
        step: Step::BirthCertificate
    }));
    c
}

#[test]
fn a_new_case_dispatches_acceptance() {
    let (c, effects) = new_case();
    assert_eq!(c.status(), CaseStatus::Submitted);
    assert_eq!(
        effects,
        vec![Effect::Dispatch {
            step: Step::Acceptance
        }]
    );
    assert_eq!(c.current_step(), Some(Step::Acceptance));
    assert_eq!(c.step(Step::Acceptance).status, StepStatus::InProgress);
}

#[test]
fn acceptance_sets_the_four_working_day_deadline() {
    let c = accepted_case();
    assert_eq!(c.status(), CaseStatus::InProgress);
    // Monday 2026-11-30 → Friday 2026-12-04, end of day.
    assert_eq!(
        c.due_at().unwrap().to_rfc3339(),
        "2026-12-04T23:59:59+08:00"
    );
    assert_eq!(
        c.step(Step::BirthCertificate).status,
        StepStatus::InProgress
    );
    assert_eq!(
        c.step(Step::BirthCertificate).due_at.unwrap().to_rfc3339(),
        "2026-12-01T23:59:59+08:00"
    );
    let notice = c.acceptance_notice().as_ref().unwrap();
    assert_eq!(
        notice.received_materials.len(),
        5,
        "form + four shared materials"
    );
}

#[test]
fn completing_every_step_completes_the_case_and_leaves_archiving_until_notified() {
    let mut c = accepted_case();
    let sys = Actor::system(Dept::Hospital);
    let mut last = vec![];
    for step in [
        Step::BirthCertificate,
        Step::HouseholdRegistration,
        Step::MedicalInsurance,
        Step::SocialSecurityCard,
        Step::UnifiedIssuance,
    ] {
        assert!(c.is_actionable(step));
        let n: Numbers = steps::allocations(step, &c, &Settings::default())
            .iter()
            .map(|a| (a.kind, 1))
            .collect();
        let results = steps::issue(step, &c, &n, &Settings::default(), now()).unwrap();
        let delivery = steps::delivery(step, &c, &n, now()).unwrap();
        last = c
            .complete_step(step, results, delivery, &sys, now(), &cal())
            .unwrap();
        // A duplicate message finds nothing to do.
        assert!(!c.is_actionable(step));
    }
    assert_eq!(c.status(), CaseStatus::Completed);
    assert!(!c.is_settled(), "finished, to be archived once notified");
    assert!(last.iter().any(|e| matches!(
        e,
        Effect::Notify {
            kind: NoticeKind::Completed,
            ..
        }
    )));
    assert_eq!(c.on_time(), Some(true));
    let id = c.results().newborn_id_number().unwrap();
    assert!(id.starts_with("33010620261128"));
    assert_eq!(
        c.results()
            .card
            .as_ref()
            .unwrap()
            .social_security_card
            .number
            .as_deref(),
        Some(id)
    );
    // Archived, the monitor has nothing to look for but the premium reminder (if owed).
    let look_after = onething_domain::supervision::LOOK_AFTER;
    let s = Settings::default();
    let finished = c.compute_next_check(look_after, &s, &cal()).unwrap();
    assert!(finished <= c.updated_at() + look_after + Duration::milliseconds(1));
    c.record_archive(onething_domain::case::ArchiveRef {
        location: "archives/x".into(),
        manifest_sha256: "0".repeat(64),
        files: 7,
        archived_at: now(),
    })
    .unwrap();
    let reminder = c.premium_pay_by().filter(|_| !c.is_settled()).map(|d| {
        let day = d - Duration::days(s.premium_reminder_days);
        day.and_hms_opt(0, 0, 0).unwrap().and_utc().fixed_offset()
    });
    assert_eq!(c.compute_next_check(look_after, &s, &cal()), reminder);
}

#[test]
fn return_resumes_at_that_step_and_rejection_ends() {
    let mut c = accepted_case();
    let sys = Actor::system(Dept::Hospital);
    let n: Numbers = [
        (NumberKind::BirthCertificate, 1),
        (NumberKind::VaccinationCertificate, 1),
    ]
    .into_iter()
    .collect();
    let r = steps::issue(Step::BirthCertificate, &c, &n, &Settings::default(), now()).unwrap();
    c.complete_step(Step::BirthCertificate, r, None, &sys, now(), &cal())
        .unwrap();
    let police = Actor {
        sub: "p1".into(),
        role: Role::DeptOfficer,
        dept: Some(Dept::Police),
        scope: Default::default(),
    };
    c.return_step(
        Step::HouseholdRegistration,
        vec!["姓名有误".into()],
        &police,
        now(),
    )
    .unwrap();
    assert_eq!(c.status(), CaseStatus::Returned);
    // Nothing moves while returned.
    assert!(!c.is_actionable(Step::HouseholdRegistration));
    // A correction of what the police alone depend on resumes at the police.
    let corrected = c
        .form()
        .corrected(&json!({"household": {"register_with": "mother"}}), now())
        .unwrap();
    let s = Settings::default();
    let effects = c
        .resubmit(
            Some(corrected),
            Some(facts()),
            &guardian(),
            now(),
            &cal(),
            &s,
        )
        .unwrap();
    assert_eq!(
        effects,
        vec![Effect::Dispatch {
            step: Step::HouseholdRegistration
        }]
    );
    assert_eq!(c.status(), CaseStatus::InProgress);
    assert_eq!(
        c.step(Step::BirthCertificate).status,
        StepStatus::Done,
        "earlier steps stay done"
    );
    assert_eq!(c.step(Step::HouseholdRegistration).round, 2);
    // Returned again; now the newborn's name changes: the hospital certifies it again
    // and its certificates are superseded.
    c.return_step(
        Step::HouseholdRegistration,
        vec!["姓名有误".into()],
        &police,
        now(),
    )
    .unwrap();
    let corrected = c
        .form()
        .corrected(&json!({"newborn": {"name": "王小河"}}), now())
        .unwrap();
    let effects = c
        .resubmit(
            Some(corrected),
            Some(facts()),
            &guardian(),
            now(),
            &cal(),
            &s,
        )
        .unwrap();
    assert_eq!(
        effects,
        vec![Effect::Dispatch {
            step: Step::BirthCertificate
        }]
    );
    assert_eq!(c.form().newborn.name, "王小河");
    assert_eq!(
        c.step(Step::HouseholdRegistration).status,
        StepStatus::Pending
    );
    let kinds: Vec<&str> = c.superseded().iter().map(|x| x.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec!["birth_certificate_number", "vaccination_certificate_number"]
    );
    let r = steps::issue(Step::BirthCertificate, &c, &n, &s, now()).unwrap();
    c.complete_step(Step::BirthCertificate, r, None, &sys, now(), &cal())
        .unwrap();
    // Reject: ends, archived, results already issued stay.
    let effects = c
        .reject_step(
            Step::HouseholdRegistration,
            vec!["不符合落户政策".into()],
            None,
            &police,
            now(),
        )
        .unwrap();
    assert_eq!(c.status(), CaseStatus::Rejected);
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Notify {
            kind: NoticeKind::Rejected,
            ..
        }
    )));
    assert!(c.results().birth.is_some(), "issued results stay valid");
    assert!(matches!(
        c.resubmit(None, None, &guardian(), now(), &cal(), &s),
        Err(DomainError::InvalidState { .. })
    ));
}

#[test]
fn decisions_check_task_and_version() {
    let mut c = accepted_case();
    while c.version() < 3 {
        c.prepare_commit(&cal(), &onething_domain::Settings::default());
    }
    c.await_review(Step::BirthCertificate, vec!["核对".into()], now(), &cal())
        .unwrap();
    let (_, task) = c.open_task().unwrap();
    let task_id = task.task_id.clone();
    let officer = Actor {
        sub: "h1".into(),
        role: Role::DeptOfficer,
        dept: Some(Dept::Hospital),
        scope: Default::default(),
    };
    let d = |decision, version, id: &str| OfficerDecision {
        task_id: id.into(),
        decision,
        reasons: vec!["r".into()],
        data: Default::default(),
        version,
        checked: vec![],
        handover: None,
    };
    assert_eq!(
        c.decide(d(Decision::Approve, 2, &task_id), &officer, now(), &cal()),
        Err(DomainError::Stale { current: 3 })
    );
    assert_eq!(
        c.decide(d(Decision::Approve, 3, "other"), &officer, now(), &cal()),
        Err(DomainError::TaskNotOpen)
    );
    let effects = c
        .decide(d(Decision::Approve, 3, &task_id), &officer, now(), &cal())
        .unwrap();
    assert_eq!(
        effects,
        vec![Effect::Dispatch {
            step: Step::BirthCertificate
        }]
    );
    assert!(c.step(Step::BirthCertificate).approved_by.is_some());
    assert_eq!(
        c.decide(d(Decision::Approve, 3, &task_id), &officer, now(), &cal()),
        Err(DomainError::TaskNotOpen)
    );
}

#[test]
fn acceptance_reports_everything_missing_at_once() {
    let (c, _) = new_case();
    let none = SharedFacts {
        institution: facts().institution,
        ..SharedFacts::default()
    };
    match acceptance::assess(&c, &none, &Settings::default()) {
        AcceptanceOutcome::Incomplete { missing } => {
            let kinds: Vec<&str> = missing.iter().map(|m| m.material.as_str()).collect();
            assert_eq!(
                kinds,
                vec![
                    "mother_id_card",
                    "father_id_card",
                    "marriage_certificate",
                    "household_register"
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    // A Shanghai household is not eligible; policy wins over completeness.
    let mut f = facts();
    f.household.as_mut().unwrap().address_code = "310101".into();
    f.marriage = None;
    assert!(matches!(
        acceptance::assess(&c, &f, &Settings::default()),
        AcceptanceOutcome::NotAccepted { .. }
    ));
    // A name that does not match the ID record is reported as a form problem.
    let mut f = facts();
    f.mother.as_mut().unwrap().name = "李美".into();
    match acceptance::assess(&c, &f, &Settings::default()) {
        AcceptanceOutcome::Incomplete { missing } => {
            assert_eq!(missing[0].material, "registration_form")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_regular_birth_passes_the_hospital_and_the_police() {
    let c = accepted_case();
    let today = now().date_naive();
    let s = Settings::default();
    assert_eq!(
        steps::review(Step::BirthCertificate, &c, &s, today),
        Verdict::Pass
    );
    assert_eq!(
        steps::review(Step::HouseholdRegistration, &c, &s, today),
        Verdict::Pass
    );
}

#[test]
fn registration_over_a_month_after_birth_goes_to_a_police_officer() {
    let c = accepted_case();
    let later = now().date_naive() + Duration::days(40);
    assert!(matches!(
        steps::review(Step::HouseholdRegistration, &c, &Settings::default(), later),
        Verdict::Review(_)
    ));
}

#[test]
fn an_ethnicity_that_is_neither_parents_is_in_the_one_notice_at_acceptance() {
    let mut f = form_json();
    f["newborn"]["ethnicity"] = json!("回族");
    let (c, _) = Case::new(
        "BC1".into(),
        now(),
        FATHER.into(),
        guardian(),
        Form::parse(&f, now()).unwrap(),
        "k".into(),
        "h".into(),
        &cal(),
        None,
        onething_domain::catalogue::Plan::builtin(),
    )
    .unwrap();
    match acceptance::assess(&c, &facts(), &Settings::default()) {
        AcceptanceOutcome::Incomplete { missing } => {
            assert_eq!(missing[0].field.as_deref(), Some("newborn.ethnicity"));
            // Never another person's recorded value (no oracle of a parent's ethnicity).
            assert!(!missing[0].reason.contains("汉族"), "{}", missing[0].reason);
        }
        other => panic!("{other:?}"),
    }
}

/// 回族 is the father's ethnicity, and data sharing does not know the father: the one
/// notice asks for his ID card, never for the mother's ethnicity; the police confirm the
/// ethnicity against the uploaded card.
#[test]
fn an_ethnicity_data_sharing_cannot_confirm_goes_to_the_police_and_is_never_refused() {
    let mut f = form_json();
    f["newborn"]["ethnicity"] = json!("回族");
    let (mut c, _) = Case::new(
        "BC1".into(),
        now(),
        FATHER.into(),
        guardian(),
        Form::parse(&f, now()).unwrap(),
        "k".into(),
        "h".into(),
        &cal(),
        None,
        onething_domain::catalogue::Plan::builtin(),
    )
    .unwrap();
    let mut fx = facts();
    fx.father = None;
    match c.assess_acceptance(fx, &Settings::default()) {
        AcceptanceOutcome::Incomplete { missing } => {
            let fields: Vec<_> = missing.iter().map(|m| m.material.as_str()).collect();
            assert_eq!(fields, ["father_id_card"], "{missing:?}");
        }
        other => panic!("{other:?}"),
    }
    match steps::review(
        Step::HouseholdRegistration,
        &c,
        &Settings::default(),
        now().date_naive(),
    ) {
        Verdict::Review(reasons) => assert!(
            reasons
                .iter()
                .any(|r| r.contains("回族") && r.contains("民警核验")),
            "{reasons:?}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_very_preterm_birth_is_checked_by_a_hospital_officer() {
    let c = accepted_case_with(|f| f["newborn"]["gestational_weeks"] = json!(26));
    assert!(matches!(
        steps::review(
            Step::BirthCertificate,
            &c,
            &Settings::default(),
            now().date_naive()
        ),
        Verdict::Review(_)
    ));
}

#[test]
fn on_manual_review_every_verdict_becomes_an_officers_task_and_an_approval_issues() {
    let (s, today) = (Settings::default(), now().date_naive());
    let c = accepted_case();
    assert_eq!(
        steps::verdict(Step::BirthCertificate, &c, &s, today, true),
        Verdict::Review(vec![])
    );
    let c = accepted_case_with(|f| f["newborn"]["gestational_weeks"] = json!(26));
    assert!(matches!(
        steps::verdict(Step::BirthCertificate, &c, &s, today, true),
        Verdict::Review(f) if !f.is_empty()
    ));
}

#[test]
fn the_form_reports_every_problem() {
    let mut f = form_json();
    f["channel"] = json!("fax");
    f["mother"]["id_number"] = json!(FATHER); // a man's number
    f["father"]["id_number"] = json!("330106199001010131"); // checksum
    f["newborn"]["birth_time"] = json!("2027-01-01T00:00:00+08:00"); // future
    f["applicant"]["relation"] = json!("uncle");
    f["household"] = json!({});
    let problems = Form::parse(&f, now()).unwrap_err();
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    for want in [
        "channel",
        "mother.id_number",
        "father.id_number",
        "newborn.birth_time",
        "applicant.relation",
        "household.register_with",
    ] {
        assert!(fields.contains(&want), "{want} in {fields:?}");
    }
    // No father: must register with the mother.
    let mut f = form_json();
    f["father"] = Value::Null;
    f["applicant"]["relation"] = json!("guardian");
    let problems = Form::parse(&f, now()).unwrap_err();
    assert!(problems
        .iter()
        .any(|p| p.field == "household.register_with" && p.code == "no_father"));
    // Corrections cannot move the channel.
    let form = Form::parse(&form_json(), now()).unwrap();
    assert!(form
        .corrected(&json!({"channel": "hospital"}), now())
        .is_err());
    // Full-width and lower-case x normalise.
    let mut f = form_json();
    f["father"]["id_number"] = json!(" ３３０１０６１９９００１０１０１３０ ");
    f["applicant"]["id_number"] = json!("330106199001010130");
    assert_eq!(
        Form::parse(&f, now())
            .unwrap()
            .father
            .unwrap()
            .id_number
            .as_str(),
        FATHER
    );
}

#[test]
fn ratings_once_plus_follow_up() {
    let (mut c, _) = new_case();
    let s = Settings::default();
    assert!(
        c.rate(5, None, None, &guardian(), now(), &cal(), &s)
            .is_err(),
        "not finished"
    );
    c.conclude_acceptance(
        AcceptanceOutcome::NotAccepted {
            reasons: vec!["不予受理".into()],
        },
        &Actor::system(Dept::ServiceCenter),
        now(),
        &cal(),
    )
    .unwrap();
    assert!(c.status().is_finished());
    let r = c
        .rate(1, Some("差".into()), None, &guardian(), now(), &cal(), &s)
        .unwrap();
    let bad = r.bad.as_ref().unwrap();
    assert_eq!(
        bad.return_visit_due.to_rfc3339(),
        "2026-12-01T23:59:59+08:00"
    );
    assert_eq!(bad.rectify_due.to_rfc3339(), "2026-12-21T23:59:59+08:00");
    assert!(
        c.rate(4, None, None, &guardian(), now(), &cal(), &s)
            .unwrap()
            .follow_up
    );
    assert!(c
        .rate(4, None, None, &guardian(), now(), &cal(), &s)
        .is_err());
}

#[test]
fn s10_tracking_check_digit() {
    // UPU S10: weights 8 6 4 2 3 5 9 7; 11 - sum mod 11, 10 → 0, 11 → 5.
    assert_eq!(
        issuance::s10_check(47312482),
        9,
        "the UPU example RR473124829GB"
    );
    assert_eq!(issuance::s10_check(0), 5);
}

#[test]
fn a_case_returned_at_acceptance_is_stored_and_loads_again() {
    let (mut c, _) = new_case();
    c.await_review(Step::Acceptance, vec![], now(), &cal())
        .unwrap();
    let (_, t) = c.open_task().unwrap();
    let id = t.task_id.clone();
    let officer = Actor {
        sub: "w".into(),
        role: Role::DeptOfficer,
        dept: Some(Dept::ServiceCenter),
        scope: Default::default(),
    };
    c.decide(
        OfficerDecision {
            task_id: id,
            decision: Decision::Return,
            reasons: vec!["x".into()],
            data: Default::default(),
            version: c.version(),
            checked: vec![],
            handover: None,
        },
        &officer,
        now(),
        &cal(),
    )
    .unwrap();
    let s = serde_json::to_string(&c).unwrap();
    let back: Result<Case, _> = serde_json::from_str(&s);
    assert!(back.is_ok(), "{:?} {s}", back.err());
}

/// While a returned case waits on the guardian its clock stops: the working days that were
/// left run on from the resubmission, and the guardian's days are counted apart.
#[test]
fn the_case_clock_stops_while_the_guardian_corrects() {
    let mut c = accepted_case();
    assert_eq!(
        c.due_at().unwrap().to_rfc3339(),
        "2026-12-04T23:59:59+08:00"
    );
    let sys = Actor::system(Dept::Hospital);
    let n: Numbers = [
        (NumberKind::BirthCertificate, 1),
        (NumberKind::VaccinationCertificate, 1),
        (NumberKind::MailSerial, 1),
    ]
    .into_iter()
    .collect();
    let s = Settings::default();
    let r = steps::issue(Step::BirthCertificate, &c, &n, &s, now()).unwrap();
    c.complete_step(Step::BirthCertificate, r, None, &sys, now(), &cal())
        .unwrap();
    let police = Actor {
        sub: "p1".into(),
        role: Role::DeptOfficer,
        dept: Some(Dept::Police),
        scope: Default::default(),
    };
    // Returned on Tuesday; three working days were left (Wed, Thu, Fri).
    let tuesday = DateTime::parse_from_rfc3339("2026-12-01T10:00:00+08:00").unwrap();
    c.return_step(
        Step::HouseholdRegistration,
        vec!["请核对".into()],
        &police,
        tuesday,
    )
    .unwrap();
    // Resubmitted on Thursday: the guardian held it two working days.
    let thursday = DateTime::parse_from_rfc3339("2026-12-03T10:00:00+08:00").unwrap();
    c.resubmit(None, Some(facts()), &guardian(), thursday, &cal(), &s)
        .unwrap();
    assert_eq!(c.guardian_working_days(), 2);
    // Fri, Mon, Tue.
    assert_eq!(
        c.due_at().unwrap().to_rfc3339(),
        "2026-12-08T23:59:59+08:00"
    );
}

/// A step that stopped moving is re-sent three times, each wait twice the one before,
/// then handed to its department's officers with the reason: never re-sent forever.
#[test]
fn a_stuck_step_is_resent_a_bounded_number_of_times_then_handed_to_an_officer() {
    use onething_domain::case::Effect;
    use onething_domain::supervision::MAX_REDRIVES;
    let mut c = accepted_case();
    let step = c.current_step().expect("a step in progress");
    assert!(c.is_actionable(step));
    let stale = Duration::minutes(10);
    let mut t = now();
    assert!(
        c.nudge_if_stuck(t, stale, &cal()).is_none(),
        "not stale yet"
    );
    for n in 0..MAX_REDRIVES {
        // The wait doubles after each re-send.
        let wait = stale * 2i32.pow(n);
        assert!(
            c.nudge_if_stuck(t + wait - Duration::minutes(1), stale, &cal())
                .is_none(),
            "re-send {n} not due yet"
        );
        t = t + wait + Duration::minutes(1);
        let effects = c.nudge_if_stuck(t, stale, &cal()).expect("re-sent");
        assert_eq!(effects, vec![Effect::Dispatch { step }]);
    }
    t = t + stale * 2i32.pow(MAX_REDRIVES) + Duration::minutes(1);
    c.nudge_if_stuck(t, stale, &cal()).expect("handed over");
    let (s, task) = c.open_task().expect("in its department's queue");
    assert_eq!(s.step, step);
    assert!(
        task.findings[0].contains("转人工办理"),
        "{:?}",
        task.findings
    );
    assert!(
        c.nudge_if_stuck(t + Duration::days(30), stale, &cal())
            .is_none(),
        "a step waiting for an officer is not re-sent"
    );
    let resent = c
        .timeline()
        .iter()
        .filter(|e| e.action == "redriven")
        .count();
    assert_eq!(resent as u32, MAX_REDRIVES);
}

/// The SLA monitor's due index: a case is looked at when something about it is due, not
/// on every run.
#[test]
fn the_monitor_looks_at_a_case_only_when_something_is_due() {
    use onething_domain::supervision::LOOK_AFTER;
    let s = onething_domain::Settings::default();
    let ms = Duration::milliseconds(1);
    let mut c = accepted_case();
    let step = c.current_step().expect("a step in progress");
    // A step in progress: looked at (and re-sent if stuck) once it sat still LOOK_AFTER.
    let first = c
        .compute_next_check(LOOK_AFTER, &s, &cal())
        .expect("checked");
    assert_eq!(first, c.updated_at() + LOOK_AFTER + ms);
    // Looked at with nothing to do: not again before another LOOK_AFTER.
    c.monitored(first + Duration::seconds(1));
    let again = c.compute_next_check(LOOK_AFTER, &s, &cal()).unwrap();
    assert_eq!(again, first + Duration::seconds(1) + LOOK_AFTER);
    // Waiting for an officer, looked at after the change: next when the step falls due.
    let t = first + Duration::minutes(5);
    c.await_review(step, vec!["人工审核".into()], t, &cal())
        .unwrap();
    c.monitored(t + LOOK_AFTER + Duration::seconds(1));
    let due = c.step(step).due_at.expect("a deadline");
    let next = c.compute_next_check(LOOK_AFTER, &s, &cal()).unwrap();
    assert_eq!(next, due.min(c.due_at().unwrap()) + ms);
    // Once overdue and marked, the escalation (more than a working day late) is next.
    assert!(c.mark_overdue(due + Duration::minutes(1)));
    // (the change itself is looked at once, LOOK_AFTER later)
    c.monitored(due + Duration::minutes(1) + LOOK_AFTER + ms);
    let esc = c.compute_next_check(LOOK_AFTER, &s, &cal()).unwrap();
    assert!(esc > due + Duration::hours(1), "{esc} after {due}");
    assert!(c.escalations(esc - ms, &cal()).is_empty());
    assert!(!c.escalations(esc + Duration::minutes(1), &cal()).is_empty());
}

/// A baby born at 01:30 Beijing time, sent with a UTC offset (17:30 the day before): the
/// form keeps the time in Beijing time, and the ID number's sequence, the newborn's
/// identity and every date carry the Beijing date.
#[test]
fn a_birth_time_sent_with_another_offset_keeps_its_beijing_date() {
    let f = {
        let mut f = form_json();
        f["newborn"]["birth_time"] = json!("2026-11-27T17:30:00Z");
        f
    };
    let form = Form::parse(&f, now()).unwrap();
    assert_eq!(
        form.newborn.birth_time.to_rfc3339(),
        "2026-11-28T01:30:00+08:00"
    );
    assert_eq!(
        form.newborn.birth_date(),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    );
    assert!(
        form.newborn_key().contains(":20261128:"),
        "{}",
        form.newborn_key()
    );
    let c = accepted_case_with(|f| {
        f["newborn"]["birth_time"] = json!("2026-11-27T17:30:00Z");
    });
    let asks = steps::allocations(Step::HouseholdRegistration, &c, &Settings::default());
    let id = asks
        .iter()
        .find(|a| a.kind == steps::NumberKind::CitizenId)
        .expect("the ID sequence is asked");
    assert!(id.namespace.contains(":20261128:"), "{}", id.namespace);
}

#[test]
fn the_delivery_record_check_names_each_field_that_disagrees_with_both_values() {
    let (mut c, _) = new_case();
    let mut fx = facts();
    let b = fx.birth.as_mut().unwrap();
    b.weight_g = 3300;
    b.length_cm = 52;
    let _ = c.assess_acceptance(fx, &Settings::default());
    let mut out = steps::checks::TaskRecords::default();
    steps::checks::delivery_record(&c, &mut out);
    let fields: Vec<&str> = out.mismatches.iter().map(|m| m.field).collect();
    assert_eq!(fields, ["newborn.weight_g", "newborn.length_cm"]);
    let weight = &out.mismatches[0];
    assert_eq!(
        (weight.form.as_str(), weight.record.as_deref()),
        ("3250", Some("3300"))
    );
    assert_eq!(weight.text, "体重（克）：申请填写“3250”，记录为“3300”");
    assert!(out.birth.is_some());

    // No delivery record at all: the one mismatch says so, against the form's hospital.
    let (mut c, _) = new_case();
    let mut fx = facts();
    fx.birth = None;
    let _ = c.assess_acceptance(fx, &Settings::default());
    let mut out = steps::checks::TaskRecords::default();
    steps::checks::delivery_record(&c, &mut out);
    assert_eq!(out.mismatches.len(), 1);
    assert_eq!(out.mismatches[0].field, "newborn.hospital_code");
    assert_eq!(out.mismatches[0].record, None);
    assert!(out.mismatches[0].text.contains("共享数据中无记录"));
}
