//! What the stores keep beside each case so that lists and the supervision report never
//! read cases one by one (read models):
//! - the **tally**: the case's contribution to the supervision figures of the month it was
//!   submitted in (Asia/Shanghai), per county and department; the stores add only the
//!   difference from the last commit, in the same write as the case, so the report sums
//!   counters and costs the same for a day or a year;
//! - the **row**: the case's line in the report's per-case list;
//! - the **feedback entries**: one line per bad rating or complaint, for the inboxes;
//! - the **escalations**: the case's open steps escalated (督办) in their current round.
//!
//! All are pure functions of the case; [`Case::prepare_commit`] recomputes them.

use crate::calendar::{shanghai, Calendar};
use crate::case::{Case, CaseStatus, MaterialSource, Scope, StepStatus, Time};
use crate::feedback::FeedbackItem;
use crate::flow::{Channel, Dept, Step};
use chrono::{Datelike, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Counters keyed `{yyyymm}|{county}|{unit}|{dd}.{name}`; `unit` is a department (step and
/// follow-up figures) or [`CASE_UNIT`] (case figures).
pub type Tally = BTreeMap<String, i64>;

/// The unit of case-level counters (one per case, in its home county).
pub const CASE_UNIT: &str = "case";

/// Where a case or step has no known county.
pub const UNKNOWN_REGION: &str = "unknown";

/// One cell of the aggregates (month × county × unit) as a store holds it: counters named
/// `{dd}.{name}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TallyCell {
    pub month: String,
    pub county: String,
    pub unit: String,
    pub counters: BTreeMap<String, i64>,
}

/// A tally (or a difference of tallies) grouped by cell: what a store writes, one
/// update per cell.
pub fn cells(tally: &Tally) -> Vec<TallyCell> {
    let mut out: BTreeMap<(String, String, String), BTreeMap<String, i64>> = BTreeMap::new();
    for (k, v) in tally {
        let mut parts = k.splitn(4, '|');
        let (Some(m), Some(c), Some(u), Some(f)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        out.entry((m.into(), c.into(), u.into()))
            .or_default()
            .insert(f.into(), *v);
    }
    out.into_iter()
        .map(|((month, county, unit), counters)| TallyCell {
            month,
            county,
            unit,
            counters,
        })
        .collect()
}

/// `new - old`, without zeros.
pub fn difference(new: &Tally, old: &Tally) -> Tally {
    let mut d = Tally::new();
    for (k, v) in new {
        let x = v - old.get(k).copied().unwrap_or(0);
        if x != 0 {
            d.insert(k.clone(), x);
        }
    }
    for (k, v) in old {
        if !new.contains_key(k) && *v != 0 {
            d.insert(k.clone(), -v);
        }
    }
    d
}

/// The month key (`yyyymm`, Asia/Shanghai) of a time.
pub fn month_of(t: Time) -> String {
    let l = t.with_timezone(&shanghai());
    format!("{:04}{:02}", l.year(), l.month())
}

/// The hour bucket (`yyyymmddhh`, UTC) in which a deadline falls.
pub fn hour_bucket(t: Time) -> String {
    let u = t.with_timezone(&Utc);
    format!(
        "{:04}{:02}{:02}{:02}",
        u.year(),
        u.month(),
        u.day(),
        u.hour()
    )
}

/// A case's line in the supervision report's per-case list (no personal data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRow {
    pub case_id: String,
    pub status: CaseStatus,
    pub channel: Channel,
    pub submitted_at: Time,
    pub accepted_at: Option<Time>,
    pub due_at: Option<Time>,
    pub finished_at: Option<Time>,
    pub completed_within_4_working_days: Option<bool>,
    pub overdue: bool,
    pub archived: bool,
    pub guardian_working_days: u32,
    /// The county the case is counted in.
    pub region: String,
}

impl CaseRow {
    /// The row as of `now` (an unfinished case past its due time is overdue).
    pub fn at(mut self, now: Time) -> CaseRow {
        self.overdue = self.overdue
            || self
                .due_at
                .is_some_and(|d| !self.status.is_finished() && now > d);
        self
    }
}

/// A feedback item as the inbox index holds it: the item without its time-dependent
/// `overdue`, and where it is routed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackEntry {
    pub item: FeedbackItem,
    /// The county of the step it concerns (of acceptance when none is named).
    pub region: String,
    /// The birth hospital (hospital officers see their own only).
    pub hospital_code: String,
}

impl FeedbackEntry {
    /// Whether an officer of `dept` with `scope` answers this item.
    pub fn routed_to(&self, dept: Dept, scope: &Scope) -> bool {
        self.item.dept == dept && scope.admits(Some(&self.region), dept, &self.hospital_code)
    }
    /// The item as of `now`.
    pub fn at(&self, now: Time) -> FeedbackItem {
        let mut item = self.item.clone();
        item.overdue = item.overdue_at(now);
        item
    }
}

/// An open step escalated in its current round, as the escalation index holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationEntry {
    pub case_id: String,
    pub step: Step,
    pub dept: Dept,
    pub region: Option<String>,
    pub due_at: Time,
}

impl EscalationEntry {
    /// The list line as of `now` (working days overdue), unless the step is not (or no
    /// longer) overdue by more than a working day then.
    pub fn at(&self, now: Time, cal: &Calendar) -> Option<crate::supervision::Escalation> {
        let today = now.with_timezone(&shanghai()).date_naive();
        let e = crate::supervision::Escalation {
            case_id: self.case_id.clone(),
            step: self.step,
            dept: self.dept,
            region: self.region.clone(),
            due_at: self.due_at,
            overdue_working_days: cal
                .workdays_between(self.due_at.with_timezone(&shanghai()).date_naive(), today),
        };
        (now > self.due_at && e.overdue_working_days > 1).then_some(e)
    }
}

/// What the last commit of a case put in the stores' read models (kept in the case, so
/// the next commit writes only what changed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Indexed {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tally: Tally,
    /// Feedback id → digest of its entry.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub feedback: BTreeMap<String, String>,
    /// Digests of the people the case is indexed under (the parents it names).
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub parties: std::collections::BTreeSet<String>,
}

/// What the commit being prepared must change in the read models (not persisted, and
/// not part of the case's value: two cases equal in every field are equal whatever is
/// pending).
#[derive(Debug, Clone, Default)]
pub struct Pending {
    /// Counters to add.
    pub tally: Tally,
    /// Feedback entries new or changed since the last commit.
    pub feedback: Vec<FeedbackEntry>,
    /// Numbers reserved for this commit to take ([`Case::take_numbers`]).
    pub numbers: Vec<crate::steps::NumberTake>,
    /// Digests of people the case is to be indexed under from this commit on (a parent
    /// the form names who was not indexed yet): see [`party_digest`].
    pub parties: Vec<String>,
}

/// The key under which a store indexes a case for a person it names: a digest of their
/// citizen ID number (no ID number in a key).
pub fn party_digest(id_number: &str) -> String {
    crate::sharing::hex_sha256(&format!("party|{id_number}"))
}

impl Indexed {
    pub fn is_empty(&self) -> bool {
        self.tally.is_empty() && self.feedback.is_empty() && self.parties.is_empty()
    }
}

impl PartialEq for Pending {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

fn digest(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Case {
    /// The county the case's own figures are counted in: where it was accepted (the
    /// window's county, or online the household's).
    pub fn home_region(&self) -> String {
        self.step_region(Step::Acceptance)
            .unwrap_or_else(|| UNKNOWN_REGION.into())
    }

    /// The case's line in the report's per-case list.
    pub fn row(&self) -> CaseRow {
        CaseRow {
            case_id: self.case_id().to_string(),
            status: self.status(),
            channel: self.channel(),
            submitted_at: self.submitted_at(),
            accepted_at: self.accepted_at(),
            due_at: self.due_at(),
            finished_at: self.finished_at(),
            completed_within_4_working_days: (self.status() == CaseStatus::Completed)
                .then(|| self.on_time() == Some(true)),
            overdue: self.overdue(),
            archived: self.archive().is_some(),
            guardian_working_days: self.guardian_working_days(),
            region: self.home_region(),
        }
    }

    /// One line per bad rating and complaint, for the inboxes.
    pub fn feedback_entries(&self) -> Vec<FeedbackEntry> {
        // `overdue` is computed when read; the entry holds the deadlines.
        self.feedback_items()
            .into_iter()
            .map(|item| FeedbackEntry {
                region: self
                    .step_region(item.step.unwrap_or(Step::Acceptance))
                    .unwrap_or_else(|| UNKNOWN_REGION.into()),
                hospital_code: self.form().newborn.hospital_code.clone(),
                item,
            })
            .collect()
    }

    /// The open steps escalated in their current round.
    pub fn escalated(&self) -> Vec<EscalationEntry> {
        if self.status().is_finished() {
            return vec![];
        }
        self.steps()
            .iter()
            .filter(|s| {
                matches!(
                    s.status,
                    StepStatus::InProgress | StepStatus::AwaitingReview
                ) && s.escalated_round > 0
                    && s.escalated_round == s.round
            })
            .filter_map(|s| {
                Some(EscalationEntry {
                    case_id: self.case_id().to_string(),
                    step: s.step,
                    dept: s.dept,
                    region: self.step_region(s.step),
                    due_at: s.due_at?,
                })
            })
            .collect()
    }

    /// The case's contribution to the supervision figures.
    pub fn tally(&self, cal: &Calendar) -> Tally {
        let mut t = Tally::new();
        let month = month_of(self.submitted_at());
        let day = format!(
            "{:02}",
            self.submitted_at().with_timezone(&shanghai()).day()
        );
        let mut add = |county: &str, unit: &str, name: &str, n: i64| {
            if n != 0 {
                *t.entry(format!("{month}|{county}|{unit}|{day}.{name}"))
                    .or_default() += n;
            }
        };
        let home = self.home_region();
        for name in self.case_counts() {
            add(&home, CASE_UNIT, &name, 1);
        }
        for (county, unit, name) in self.step_counts(cal) {
            add(&county, unit, &name, 1);
        }
        for e in self.feedback_entries() {
            let unit = e.item.dept.as_str();
            if e.item.status == crate::feedback::FeedbackStatus::Open {
                add(&e.region, unit, "fb_open", 1);
                if let Some(due) = e.item.first_open_deadline() {
                    add(&e.region, unit, &format!("fb_due.{}", hour_bucket(due)), 1);
                }
            } else {
                add(&e.region, unit, "fb_closed", 1);
            }
        }
        t
    }

    /// The case's own figures, each counted once (in the county that accepted it).
    fn case_counts(&self) -> Vec<String> {
        let mut names: Vec<String> =
            vec!["total".into(), format!("status.{}", self.status().as_str())];
        let mut count = |name: &str| names.push(name.to_string());
        // A bundle other than 出生 counts its own cases too (出生's are the rest: every case
        // made before the catalogue was one).
        let bundle = (self.plan.bundle != "birth").then(|| format!("bundle.{}.", self.plan.bundle));
        if let Some(b) = &bundle {
            count(&format!("{b}total"));
        }
        if self.status() == CaseStatus::Completed {
            count("completed");
            if self.on_time() == Some(true) {
                count("completed_on_time");
            }
            for name in ["completed", "completed_on_time"] {
                let counted = name == "completed" || self.on_time() == Some(true);
                if let (Some(b), true) = (&bundle, counted) {
                    count(&format!("{b}{name}"));
                }
            }
        }
        // Joint handling executed (8.1.3): at least two units did their part through the
        // joint flow, whether the case has finished or not (a case rejected by the police
        // after the hospital's certificates counts; one not accepted does not).
        let done_by_units = self
            .steps()
            .iter()
            .filter(|s| s.step != crate::flow::Step::Acceptance && s.status == StepStatus::Done)
            .count();
        if done_by_units >= 2 {
            count("joint");
        }
        for r in self.ratings() {
            if r.bad.as_ref().is_some_and(|b| b.rectified_at.is_none()) {
                count("bad_open");
            }
        }
        for x in self.complaints() {
            count(if x.status == crate::case::ComplaintStatus::Open {
                "complaints_open"
            } else {
                "complaints_answered"
            });
        }
        if let Some(n) = self.acceptance_notice() {
            for m in &n.received_materials {
                match m.source {
                    MaterialSource::DataSharing => count("shared"),
                    MaterialSource::Upload => count("uploaded"),
                    MaterialSource::Form => {}
                }
            }
        }
        if self.status().is_finished() {
            count("finished");
            if self.archive().is_some() {
                count("archived");
            }
        }
        names.extend(self.ratings().iter().map(|r| format!("rating.{}", r.level)));
        names
    }

    /// Each step's figures, in the county and unit that handled it: handled, on time, the
    /// working hours (in tenths), returned, rejected, open and open overdue.
    fn step_counts(&self, cal: &Calendar) -> Vec<(String, &'static str, String)> {
        let mut out = vec![];
        for s in self.steps() {
            let county = self
                .step_region(s.step)
                .unwrap_or_else(|| UNKNOWN_REGION.into());
            let unit = s.dept.as_str();
            let mut count = |name: &str| out.push((county.clone(), unit, name.to_string()));
            if let (Some(st), Some(fin)) = (s.started_at, s.finished_at) {
                if matches!(s.status, StepStatus::Done | StepStatus::Rejected) {
                    count("handled");
                    if s.due_at.is_some_and(|due| fin <= due) {
                        count("on_time");
                    }
                    let hours =
                        cal.working_hours_between(st.with_timezone(&Utc), fin.with_timezone(&Utc));
                    // Tenths of an hour: the median and maximum to one decimal.
                    count(&format!("h{}", (hours * 10.0).round() as i64));
                }
            }
            match s.status {
                StepStatus::Returned => count("returned"),
                StepStatus::Rejected => count("rejected"),
                StepStatus::InProgress | StepStatus::AwaitingReview => {
                    count("open");
                    if s.overdue {
                        count("open_overdue");
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Recompute the read models and note what the commit must change.
    pub(crate) fn refresh_projections(&mut self, cal: &Calendar) {
        let tally = self.tally(cal);
        let delta = difference(&tally, &self.indexed.tally);
        let mut marks = BTreeMap::new();
        let mut changed = vec![];
        for e in self.feedback_entries() {
            let d = digest(&serde_json::to_string(&e).expect("entry serialises"));
            if self.indexed.feedback.get(&e.item.feedback_id) != Some(&d) {
                changed.push(e.clone());
            }
            marks.insert(e.item.feedback_id.clone(), d);
        }
        let parties: std::collections::BTreeSet<String> =
            self.parties().iter().map(|p| party_digest(p)).collect();
        let new_parties = parties.difference(&self.indexed.parties).cloned().collect();
        self.indexed = Indexed {
            tally,
            feedback: marks,
            parties: parties.union(&self.indexed.parties).cloned().collect(),
        };
        self.pending = Pending {
            tally: delta,
            feedback: changed,
            numbers: std::mem::take(&mut self.pending.numbers),
            parties: new_parties,
        };
    }

    /// What the commit being prepared changes in the read models.
    pub fn pending(&self) -> &Pending {
        &self.pending
    }

    /// The next commit takes these reserved numbers (its store writes them with the case,
    /// conditionally: see [`crate::steps::NumberTake`]).
    pub fn take_numbers(&mut self, takes: Vec<crate::steps::NumberTake>) {
        self.pending.numbers.extend(takes);
    }

    /// The commit landed: nothing is pending any more.
    pub fn committed(&mut self) {
        self.pending = Pending::default();
    }
}

/// Sum the counters of `cells` for the days `from..=to` (`(yyyymm, dd)` bounds).
pub fn in_days<'a>(
    cells: &'a [TallyCell],
    from: (&'a str, &'a str),
    to: (&'a str, &'a str),
) -> impl Iterator<Item = (&'a TallyCell, &'a str, i64)> + 'a {
    cells.iter().flat_map(move |cell| {
        cell.counters.iter().filter_map(move |(field, n)| {
            let (dd, name) = field.split_once('.')?;
            let key = (cell.month.as_str(), dd);
            (key >= from && key <= to).then_some((cell, name, *n))
        })
    })
}
