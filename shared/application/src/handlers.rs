//! The queue consumers' logic: acceptance, each department's step, notification,
//! archiving, and the SLA monitor's tick. Every handler is idempotent: it reads the case,
//! does nothing if the work is already done, and commits its change together with the
//! messages the change causes (conditional on the version it read).

pub use crate::archive::archive;
use crate::digest::sha256_hex;
use crate::error::dom;
use crate::message::Envelope;
use crate::repo::Change;
use crate::{App, HandlerError};
use chrono::Duration;
use domain::case::{AcceptanceOutcome, Actor, Case};
use domain::flow::Step;
use domain::sharing::SharedFacts;
use domain::steps::{self, Numbers, Verdict};
use ports::{AllocError, StoreError};

/// Handle a message (the local runtime and tests use this; each Lambda checks that the
/// message is for its own step first, with [`handle_for_step`]).
pub async fn handle(app: &App, env: &Envelope) -> Result<(), HandlerError> {
    match env {
        Envelope::Step {
            case_id,
            step: Step::Acceptance,
        } => accept(app, case_id).await,
        Envelope::Step { case_id, step } => run_step(app, case_id, *step).await,
        Envelope::Notify {
            case_id,
            notice,
            seq,
            note,
            archive_after,
        } => notify(app, case_id, *notice, *seq, note.clone(), *archive_after).await,
        Envelope::Archive { case_id } => archive(app, case_id).await,
        Envelope::Render { case_id } => crate::certs::render(app, case_id).await,
    }
}

/// Handle a message on a step function's own queue; messages for another step are
/// permanent failures.
pub async fn handle_for_step(app: &App, step: Step, env: &Envelope) -> Result<(), HandlerError> {
    match env {
        Envelope::Step { step: s, .. } if *s == step => handle(app, env).await,
        other => Err(HandlerError::Permanent(format!(
            "{} received a message for queue {}",
            step.queue(),
            other.queue()
        ))),
    }
}

async fn load(app: &App, case_id: &str) -> Result<Case, HandlerError> {
    app.store
        .get(case_id)
        .await?
        .ok_or_else(|| HandlerError::Permanent(format!("case {case_id} does not exist")))
}

/// Send a message outside a case commit (re-drives and the archive trigger).
async fn send(app: &App, env: &Envelope) -> Result<(), StoreError> {
    let out = env.to_out();
    app.queues.send(&out.queue, &out.body).await
}

/// The data-sharing lookups [`gather`] makes for `f`, as an audit event's fields: each
/// person by their masked ID number, then the household, the marriage record and the
/// delivery record (only the last without the applicant's consent).
pub fn lookups(f: &domain::Form) -> Vec<String> {
    if !f.shares_data() {
        return vec!["data_sharing:birth".into()];
    }
    let person = |id: &str| format!("data_sharing:person:{}", domain::idnum::mask_id(id));
    let mut out = vec![person(f.mother.id_number.as_str())];
    if let Some(p) = &f.father {
        out.push(person(p.id_number.as_str()));
    }
    out.push("data_sharing:household".into());
    if f.father.is_some() {
        out.push("data_sharing:marriage".into());
    }
    out.push("data_sharing:birth".into());
    out
}

/// One audit event for the lookups a function made itself (acceptance's), before what it
/// found is committed: a lookup is never unrecorded (a redelivery that looks again
/// records again).
async fn audit_lookups(
    app: &App,
    case_id: &str,
    actor: &Actor,
    f: &domain::Form,
) -> Result<(), HandlerError> {
    let now = app.clock.now();
    let mut event = domain::audit::AuditEvent::new(
        now,
        &format!("{}-{}", actor.label(), now.timestamp_millis()),
        actor,
        domain::audit::AuditAction::Read,
        "data_sharing",
    );
    event.status = 200;
    event.cases = vec![case_id.to_string()];
    event.fields = lookups(f);
    app.audit.record(&event).await?;
    Ok(())
}

/// Ask data sharing for everything acceptance needs (asked again on every resubmission,
/// with the corrected form), and look up the hospital's delivery record. Without the
/// applicant's consent only the hospital's own record and the institution are read.
pub async fn gather(app: &App, f: &domain::Form) -> Result<SharedFacts, StoreError> {
    let institution = app.sharing.institution(&f.newborn.hospital_code).await?;
    let key = domain::sharing::birth_key(
        &f.newborn.hospital_code,
        f.mother.id_number.as_str(),
        f.newborn.birth_order,
        f.newborn.birth_time,
    );
    let birth = match app.births.birth(&key).await? {
        Some(b) => Some(b),
        None => app.sharing.birth(&key).await?,
    };
    if !f.shares_data() {
        return Ok(SharedFacts {
            institution,
            birth,
            ..Default::default()
        });
    }
    let mother = app.sharing.person(f.mother.id_number.as_str()).await?;
    let father = match &f.father {
        Some(p) => app.sharing.person(p.id_number.as_str()).await?,
        None => None,
    };
    let registering = match f.household.register_with {
        domain::form::ParentRole::Father => father.as_ref(),
        domain::form::ParentRole::Mother => mother.as_ref(),
    };
    let household = match registering.and_then(|p| p.household_number.clone()) {
        Some(h) => app.sharing.household(&h).await?,
        None => None,
    };
    let marriage = match &f.father {
        Some(p) => {
            app.sharing
                .marriage(p.id_number.as_str(), f.mother.id_number.as_str())
                .await?
        }
        None => None,
    };
    Ok(SharedFacts {
        mother,
        father,
        household,
        marriage,
        institution,
        birth,
    })
}

/// The `accept` function: completeness and policy, data sharing first.
pub async fn accept(app: &App, case_id: &str) -> Result<(), HandlerError> {
    let (done, _) = app
        .repo()
        .update_async(case_id, |mut case| async move {
            if !case.is_actionable(Step::Acceptance) || case.step(Step::Acceptance).task.is_some() {
                return Ok((Change::Keep(false), case));
            }
            // The unit that took the application accepts it (the hospital at its window).
            let unit = case.step(Step::Acceptance).dept;
            let system = &Actor::system(unit);
            let facts = gather(app, case.form()).await?;
            audit_lookups(app, case.case_id(), system, case.form()).await?;
            // Twins: what was uploaded for a sibling's application counts for this one.
            if case.form().newborn.multiple_birth > 1 {
                for sibling in app.store.by_owner(case.owner()).await? {
                    case.reuse_sibling_materials(&sibling, app.now());
                }
            }
            let outcome = case.assess_acceptance(facts, &app.settings);
            let now = app.now();
            let effects = match outcome {
                AcceptanceOutcome::Accept { .. } if app.is_manual(unit) => case
                    .await_review(Step::Acceptance, vec![], now, &app.calendar)
                    .map_err(dom)?,
                o => case
                    .conclude_acceptance(o, system, now, &app.calendar)
                    .map_err(dom)?,
            };
            Ok::<_, HandlerError>((Change::Commit(true, effects), case))
        })
        .await?;
    if done {
        tracing::info!(case_id, step = "acceptance", "step handled");
    }
    Ok(())
}

/// A department's step: review by rules (or wait for an officer), then issue.
pub async fn run_step(app: &App, case_id: &str, step: Step) -> Result<(), HandlerError> {
    let (done, _) = app
        .repo()
        .update_async(case_id, |mut case| async move {
            if !case.is_actionable(step) {
                return Ok((Change::Keep(false), case));
            }
            // The case says which unit owns the step (issuance: the unit that took it).
            let dept = case.step(step).dept;
            let now = app.now();
            // A correction after completion is reviewed by each department's officer.
            let verdict = steps::verdict(
                step,
                &case,
                &app.settings,
                now.date_naive(),
                app.is_manual(dept) || case.open_correction().is_some(),
            );
            let effects = match verdict {
                Verdict::Review(findings) => case
                    .await_review(step, findings, now, &app.calendar)
                    .map_err(dom)?,
                Verdict::Pass => complete(app, &mut case, step, now).await?,
            };
            Ok::<_, HandlerError>((Change::Commit(true, effects), case))
        })
        .await?;
    if done {
        tracing::info!(case_id, step = step.as_str(), "step handled");
    }
    Ok(())
}

/// Issue the step's results with the numbers they take, hand them over and sign their
/// certificates, in the one commit; a step that can never complete by itself (a number
/// range used up, results that cannot be built) waits for its department's officer with
/// the reason: never a loop of retries and dead letters.
async fn complete(
    app: &App,
    case: &mut Case,
    step: Step,
    now: domain::case::Time,
) -> Result<Vec<domain::case::Effect>, HandlerError> {
    let issued = async {
        let wanted = steps::allocations(step, case, &app.settings);
        let (numbers, takes) = reserve(app, case, wanted).await?;
        let results = steps::issue(step, case, &numbers, &app.settings, now)
            .map_err(HandlerError::Permanent)?;
        let delivery =
            steps::delivery(step, case, &numbers, now).map_err(HandlerError::Permanent)?;
        Ok::<_, HandlerError>((results, delivery, takes))
    }
    .await;
    let (results, delivery) = match issued {
        // The numbers are taken by the commit that records the results.
        Ok((results, delivery, takes)) => {
            case.take_numbers(takes);
            (results, delivery)
        }
        Err(e @ (HandlerError::Permanent(_) | HandlerError::ForOfficer(_))) => {
            tracing::error!(
                case_id = %case.case_id(),
                step = step.as_str(),
                reason = %e,
                "the step cannot complete automatically; handed to an officer",
            );
            // What the officer reads: a reason written for them, or (an internal failure,
            // kept in the log) a plain statement.
            let shown = match e {
                HandlerError::ForOfficer(text) => text.to_string(),
                _ => "系统无法自动生成办理结果（原因见系统日志）".to_string(),
            };
            let reasons = vec![format!("自动办理无法完成：{shown}")];
            return case
                .await_review(step, reasons, now, &app.calendar)
                .map_err(dom);
        }
        Err(e) => return Err(e),
    };
    let dept = case.step(step).dept;
    let system = Actor::system(dept);
    let actor = match &case.step(step).approved_by {
        Some(_) => Actor {
            sub: format!("officer-approved:{}", dept.as_str()),
            ..system
        },
        None => system,
    };
    let mut effects = case
        .complete_step(step, results, delivery, &actor, now, &app.calendar)
        .map_err(dom)?;
    // The results' electronic certificates, in the same write (their PDFs follow through
    // the render queue).
    effects.extend(crate::certs::issue(app, step, case).await?);
    Ok(effects)
}

/// The numbers a step needs, reserved for the commit that records them to take
/// ([`ports::Allocator::reserve`]). Owners other than the case (the newborn) are stored
/// as digests.
pub async fn reserve(
    app: &App,
    case: &Case,
    requests: Vec<domain::steps::AllocationRequest>,
) -> Result<(Numbers, Vec<domain::steps::NumberTake>), HandlerError> {
    if requests.is_empty() {
        return Ok((Numbers::default(), vec![]));
    }
    let asks: Vec<ports::NumberAsk> = requests
        .iter()
        .map(|req| ports::NumberAsk {
            namespace: req.namespace.clone(),
            owner: owner_of(case, req),
            max: req.max,
            lasting: req.lasting,
            from_block: req.kind.may_skip(),
        })
        .collect();
    let got = app
        .numbers
        .reserve(&asks)
        .await
        .map_err(|e| alloc_error(&requests, e))?;
    let numbers = requests.iter().map(|r| r.kind).zip(got.numbers).collect();
    Ok((numbers, got.takes))
}

fn owner_of(case: &Case, req: &domain::steps::AllocationRequest) -> String {
    match &req.owner {
        Some(o) => sha256_hex(o.as_bytes()),
        None => case.case_id().to_string(),
    }
}

fn alloc_error(requests: &[domain::steps::AllocationRequest], e: AllocError) -> HandlerError {
    match e {
        AllocError::Exhausted(ns) => {
            let kind = requests
                .iter()
                .find(|r| r.namespace == ns)
                .map_or("号码", |r| r.kind.name_zh());
            HandlerError::ForOfficer(
                format!("{kind}已用完（号码段已全部分配），需人工分配号码或按溢出规则处理").into(),
            )
        }
        AllocError::Store(s) => s.into(),
    }
}

/// The numbers a decision needs before its change is decided (a rejection's hand-over),
/// taken at once: the same owner always gets the same number back, so a retry after a
/// lost race or a crash reuses them.
pub async fn allocate(
    app: &App,
    case: &Case,
    requests: Vec<domain::steps::AllocationRequest>,
) -> Result<Numbers, HandlerError> {
    let asks: Vec<(String, String, u64)> = requests
        .iter()
        .map(|req| (req.namespace.clone(), owner_of(case, req), req.max))
        .collect();
    if asks.is_empty() {
        return Ok(Numbers::default());
    }
    let got = app
        .numbers
        .allocate_many(&asks)
        .await
        .map_err(|e| alloc_error(&requests, e))?;
    Ok(requests.iter().map(|r| r.kind).zip(got).collect())
}

/// The `notify` function: send the guardian's notification (idempotent by seq), as
/// composed when its change committed (or, for a message without it, from the case now).
pub async fn notify(
    app: &App,
    case_id: &str,
    kind: domain::case::NoticeKind,
    seq: u32,
    note: Option<domain::notice::Notification>,
    archive_after: Option<u32>,
) -> Result<(), HandlerError> {
    let (n, archive_after) = match note {
        Some(n) if n.case_id == case_id && n.seq == seq && n.kind == kind => (n, archive_after),
        Some(_) => {
            return Err(HandlerError::Permanent(format!(
                "notification {seq} of case {case_id} does not match its message"
            )))
        }
        None => {
            let case = load(app, case_id).await?;
            let finished = case.status().is_finished() && case.archive().is_none();
            (
                domain::notice::compose(&case, kind, seq),
                finished.then(|| case.notice_seq()),
            )
        }
    };
    app.deliver(&n).await?;
    tracing::info!(
        case_id,
        kind = kind.as_str(),
        seq,
        phone = %domain::idnum::mask_phone(&n.phone),
        "guardian notified",
    );
    // The archive records every notification: a finished case is archived once the last
    // one is delivered (checked after our own delivery committed, so of two concurrent
    // last deliveries at least one sees them all). The finishing change's notification
    // carries the count; an earlier notification still on its way (queues reorder) makes
    // it wait: this message is retried after its visibility timeout (its delivery is
    // idempotent), and the SLA monitor's look at the case backs that up.
    if let Some(total) = archive_after {
        let delivered = app.notifier.sent(case_id).await?.len() as u32;
        if delivered < total {
            return Err(HandlerError::Retryable(format!(
                "{delivered} of {total} notifications delivered; the archive waits"
            )));
        }
        send(
            app,
            &Envelope::Archive {
                case_id: case_id.to_string(),
            },
        )
        .await?;
    }
    Ok(())
}

/// What one SLA-monitor tick did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Tick {
    /// Cases read because a check was due (the monitor reads no other case).
    pub scanned: usize,
    pub marked_overdue: usize,
    pub redriven: usize,
    /// Open steps past their deadline now (the OverdueSteps metric).
    pub overdue_open_steps: usize,
    /// Abandoned cases withdrawn and premium reminders sent.
    pub withdrawn_or_reminded: usize,
    /// Cases the run could not handle; they stay due and the next run tries again.
    pub failed: usize,
    /// Cases with a step escalated (督办) in this run.
    pub escalated: usize,
    /// The run stopped at its time budget with cases still due (the next run goes on:
    /// what this one handled is no longer due).
    pub stopped_at_budget: bool,
    /// Appointment reminders sent (the working day before).
    pub reminded_appointments: usize,
    /// Summaries sent to phones whose messages the daily caps held on an earlier day.
    pub held_summaries: usize,
}

/// The scheduled `sla-monitor`: mark overdue steps and cases, and re-drive any case whose
/// current automatic step has not moved for `stale_after` (its message may be lost in a
/// queue outage or stuck in a DLQ that was purged). Re-driving is safe: handlers are
/// idempotent.
pub async fn sla_tick(app: &App, stale_after: Duration) -> Result<Tick, HandlerError> {
    sla_tick_within(app, stale_after, std::time::Duration::from_secs(240)).await
}

/// Cases read per page of the due index.
const TICK_PAGE: usize = 100;

/// [`sla_tick`] within a time budget: pages of the cases due now (the stores index cases
/// by their next check, so cases with nothing due are never read), until none is left or
/// the budget is spent. Every case handled gets a later next check in its one write, so
/// the index itself is the checkpoint: a run cut short leaves the rest due for the next.
pub async fn sla_tick_within(
    app: &App,
    stale_after: Duration,
    budget: std::time::Duration,
) -> Result<Tick, HandlerError> {
    let started = std::time::Instant::now();
    let mut tick = Tick::default();
    let now = app.now();
    let mut after: Option<String> = None;
    loop {
        if started.elapsed() >= budget {
            tick.stopped_at_budget = true;
            break;
        }
        let (cases, next) = app
            .tasks
            .due_for_check(now.with_timezone(&chrono::Utc), after.as_deref(), TICK_PAGE)
            .await?;
        // One failure (a store hiccup, one unreadable or oversized case) never stops the
        // run: it is counted and logged, and the case stays due for the next run.
        for case in cases {
            tick.scanned += 1;
            if let Err(e) = tick_case(app, &case, now, stale_after, &mut tick).await {
                tick.failed += 1;
                tracing::warn!(
                    case_id = %case.case_id(),
                    error = %e,
                    "the SLA monitor skipped a case",
                );
            }
        }
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    // Appointment reminders (the working day before, during the 09:00 hour).
    match crate::booking::remind(app, false).await {
        Ok(n) => tick.reminded_appointments = n,
        Err(e) => tracing::error!(error = %e, "appointment reminders failed this run"),
    }
    match summarise_held(app).await {
        Ok(n) => tick.held_summaries = n,
        Err(e) => tracing::error!(error = %e, "summaries of held messages failed this run"),
    }
    Ok(tick)
}

/// Days back the monitor looks for held messages still owed a summary (a day of missed
/// runs is caught up).
const HELD_DAYS_BACK: i64 = 3;

/// One summary per phone for the messages the daily caps held on an earlier day: sent
/// (idempotent by its key), then marked, so a run cut short between the two sends none
/// twice.
async fn summarise_held(app: &App) -> Result<usize, HandlerError> {
    let today = app.now().date_naive();
    let mut sent = 0;
    for back in 1..=HELD_DAYS_BACK {
        let day = today - Duration::days(back);
        for held in app.notifier.held_on(day).await? {
            let summary = domain::notice::held_summary(day, &held.phone, held.count);
            app.deliver(&summary).await?;
            app.notifier.summarised(&held).await?;
            tracing::info!(
                %day,
                held = held.count,
                phone = %domain::idnum::mask_phone(&held.phone),
                "held messages summarised",
            );
            sent += 1;
        }
    }
    Ok(sent)
}

/// What a lost message left undone on a case that has not changed for a while: its
/// undelivered notifications and the archive of a finished case, sent again.
async fn redrive_lost(
    app: &App,
    case: &Case,
    now: domain::case::Time,
    stale_after: Duration,
    tick: &mut Tick,
) -> Result<(), HandlerError> {
    if now - case.updated_at() <= stale_after {
        return Ok(());
    }
    // Notifications whose messages were lost (e.g. dead-lettered after crashes).
    let sent: std::collections::HashSet<u32> = app
        .notifier
        .sent(case.case_id())
        .await?
        .iter()
        .map(|d| d.notification.seq)
        .collect();
    for (i, kind) in case.notices().iter().enumerate() {
        let seq = i as u32 + 1;
        if !sent.contains(&seq) {
            send(
                app,
                &Envelope::Notify {
                    case_id: case.case_id().to_string(),
                    notice: *kind,
                    seq,
                    // Composed on delivery, from the case as it is then.
                    note: None,
                    archive_after: None,
                },
            )
            .await?;
            tick.redriven += 1;
            tracing::warn!(
                case_id = %case.case_id(),
                seq,
                "re-sending a notification that was never delivered",
            );
        }
    }
    // A finished case without its archive.
    if case.status().is_finished() && case.archive().is_none() {
        send(
            app,
            &Envelope::Archive {
                case_id: case.case_id().to_string(),
            },
        )
        .await?;
        tick.redriven += 1;
        tracing::warn!(case_id = %case.case_id(), "re-driving the archive of a finished case");
    }
    Ok(())
}

/// The SLA monitor's work on one unfinished case.
async fn tick_case(
    app: &App,
    case: &Case,
    now: domain::case::Time,
    stale_after: Duration,
    tick: &mut Tick,
) -> Result<(), HandlerError> {
    tick.overdue_open_steps += case
        .steps()
        .iter()
        .filter(|s| {
            matches!(
                s.status,
                domain::StepStatus::InProgress | domain::StepStatus::AwaitingReview
            ) && s.due_at.is_some_and(|d| now > d)
        })
        .count();
    // First what lost messages left undone: a failure here (a throttled read, say) leaves
    // the case's look unrecorded, so the next run comes back to it. (Recording the look
    // first let a case whose archive message was dead-lettered wait for a look that
    // never came.)
    redrive_lost(app, case, now, stale_after, tick).await?;
    // One decision and at most one write per case (on the case as scanned; read again
    // only if it changed meanwhile): mark what is overdue, escalate steps overdue by more
    // than a working day (once per round), withdraw an abandoned case or remind an unpaid
    // premium. The checks below look at the case as scanned.
    let settings = &app.settings;
    let ((marked, escalated, acted, redriven), _) = app
        .repo()
        .update_from(case.clone(), |c| {
            let marked = c.mark_overdue(now);
            let escalated = c.escalate_overdue(now, &app.calendar);
            let effects = c
                .withdraw_if_abandoned(now, settings.auto_withdraw_days)
                .or_else(|| c.withdraw_if_unconfirmed(now, settings.confirmation_days))
                .or_else(|| c.remind_premium_if_due(now, settings.premium_reminder_days));
            let acted = effects.is_some();
            // A step that stopped moving is re-sent a bounded number of times (backing
            // off), then handed to its department's officers: never a loop of dead letters.
            let nudged = if acted {
                None
            } else {
                c.nudge_if_stuck(now, stale_after, &app.calendar)
            };
            let redriven = nudged.is_some();
            let figures = (marked, escalated, acted, redriven);
            let effects: Vec<_> = effects.into_iter().chain(nudged).flatten().collect();
            if !(marked || escalated || acted || redriven) {
                // Nothing to do now: the look itself is recorded, so that the case's next
                // check moves on and the next run does not read it again for nothing.
                c.monitored(now);
            }
            Ok::<_, HandlerError>(Change::Commit(figures, effects))
        })
        .await?;
    tick.marked_overdue += usize::from(marked);
    tick.escalated += usize::from(escalated);
    tick.withdrawn_or_reminded += usize::from(acted);
    if redriven {
        tick.redriven += 1;
        tracing::warn!(
            case_id = %case.case_id(),
            "a case that stopped moving was re-sent or handed to an officer",
        );
    }
    Ok(())
}
