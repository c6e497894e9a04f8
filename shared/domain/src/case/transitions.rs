//! The case's status machine as a table: which event moves a case from which status to
//! which. Every status change of a [`Case`] goes through [`Case::move_to`], which refuses
//! any pair the table does not hold; the test enumerates every status × event pair.

use super::*;

/// What happens to a case as a whole (a step's own states are the step machine's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseEvent {
    /// Acceptance passed: the departments' steps start.
    Accepted,
    /// Materials or records are missing: the family is told everything at once.
    MaterialsMissing,
    /// Acceptance refused the application (不予受理).
    NotAccepted,
    /// A step was returned for correction.
    StepReturned,
    /// A step was rejected: at acceptance the case is not accepted, later it is rejected.
    StepRejected,
    /// The family resubmitted before acceptance passed: acceptance runs again.
    Resubmitted,
    /// The family resubmitted after acceptance: the returned step (or the earliest one the
    /// changes affect) runs again.
    Resumed,
    /// The last step completed.
    AllStepsDone,
    /// A correction after completion: the affected steps run again.
    CorrectionOpened,
    /// The family (or a window officer, or the abandonment rule) withdrew the case.
    Withdrawn,
    /// The mother confirmed an application awaiting her: acceptance starts.
    Confirmed,
    /// The police or the accepting window voided a fraudulent case.
    Voided,
}

impl CaseEvent {
    pub const ALL: [CaseEvent; 12] = [
        CaseEvent::Accepted,
        CaseEvent::MaterialsMissing,
        CaseEvent::NotAccepted,
        CaseEvent::StepReturned,
        CaseEvent::StepRejected,
        CaseEvent::Resubmitted,
        CaseEvent::Resumed,
        CaseEvent::AllStepsDone,
        CaseEvent::CorrectionOpened,
        CaseEvent::Withdrawn,
        CaseEvent::Confirmed,
        CaseEvent::Voided,
    ];
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 10] = [
        CaseStatus::AwaitingConfirmation,
        CaseStatus::Submitted,
        CaseStatus::Incomplete,
        CaseStatus::NotAccepted,
        CaseStatus::InProgress,
        CaseStatus::Returned,
        CaseStatus::Rejected,
        CaseStatus::Completed,
        CaseStatus::Withdrawn,
        CaseStatus::Voided,
    ];
}

use CaseEvent as E;
use CaseStatus as S;

/// Every legal move: (from, event, to). Finished statuses (not accepted, rejected,
/// withdrawn) have no way out but voiding (a fraud found later: its effects are revoked);
/// a completed case also opens a correction.
pub const TRANSITIONS: [(CaseStatus, CaseEvent, CaseStatus); 29] = [
    (S::AwaitingConfirmation, E::Confirmed, S::Submitted),
    (S::AwaitingConfirmation, E::Withdrawn, S::Withdrawn),
    (S::Submitted, E::Accepted, S::InProgress),
    (S::Submitted, E::MaterialsMissing, S::Incomplete),
    (S::Incomplete, E::MaterialsMissing, S::Incomplete),
    (S::Returned, E::MaterialsMissing, S::Incomplete),
    (S::Submitted, E::NotAccepted, S::NotAccepted),
    (S::Submitted, E::StepReturned, S::Returned),
    (S::InProgress, E::StepReturned, S::Returned),
    (S::Submitted, E::StepRejected, S::NotAccepted),
    (S::InProgress, E::StepRejected, S::Rejected),
    (S::Incomplete, E::Resubmitted, S::Submitted),
    (S::Returned, E::Resubmitted, S::Submitted),
    (S::Incomplete, E::Resumed, S::InProgress),
    (S::Returned, E::Resumed, S::InProgress),
    (S::InProgress, E::AllStepsDone, S::Completed),
    (S::Completed, E::CorrectionOpened, S::InProgress),
    (S::Submitted, E::Withdrawn, S::Withdrawn),
    (S::Incomplete, E::Withdrawn, S::Withdrawn),
    (S::Returned, E::Withdrawn, S::Withdrawn),
    (S::AwaitingConfirmation, E::Voided, S::Voided),
    (S::Submitted, E::Voided, S::Voided),
    (S::Incomplete, E::Voided, S::Voided),
    (S::NotAccepted, E::Voided, S::Voided),
    (S::InProgress, E::Voided, S::Voided),
    (S::Returned, E::Voided, S::Voided),
    (S::Rejected, E::Voided, S::Voided),
    (S::Completed, E::Voided, S::Voided),
    (S::Withdrawn, E::Voided, S::Voided),
];

/// Where `event` takes a case in status `from`; None: the move is illegal.
pub fn next_status(from: CaseStatus, event: CaseEvent) -> Option<CaseStatus> {
    TRANSITIONS
        .iter()
        .find(|(f, e, _)| *f == from && *e == event)
        .map(|t| t.2)
}

impl Case {
    /// Move the case by `event`, as the table says, or refuse.
    pub(super) fn move_to(&mut self, event: CaseEvent) -> Result<(), DomainError> {
        match next_status(self.status, event) {
            Some(to) => {
                self.status = to;
                Ok(())
            }
            None => Err(DomainError::InvalidState {
                status: self.status.as_str(),
                action: event.action(),
            }),
        }
    }
}

impl CaseEvent {
    /// The action named in a refusal.
    fn action(self) -> &'static str {
        match self {
            E::Accepted => "acceptance",
            E::MaterialsMissing => "incomplete notice",
            E::NotAccepted => "non-acceptance",
            E::StepReturned => "return",
            E::StepRejected => "reject",
            E::Resubmitted | E::Resumed => "resubmission",
            E::AllStepsDone => "completion",
            E::CorrectionOpened => "correction",
            E::Withdrawn => "withdrawal",
            E::Confirmed => "confirmation",
            E::Voided => "voiding",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every status × event pair: the legal ones land where the table says, every other
    /// one is refused; finished statuses never move, except a completed case's correction.
    #[test]
    fn every_status_and_event_pair_is_either_in_the_table_or_refused() {
        let mut legal = 0;
        for from in CaseStatus::ALL {
            for event in CaseEvent::ALL {
                let listed: Vec<_> = TRANSITIONS
                    .iter()
                    .filter(|(f, e, _)| *f == from && *e == event)
                    .collect();
                assert!(listed.len() <= 1, "{from:?} × {event:?} listed twice");
                match next_status(from, event) {
                    Some(to) => {
                        legal += 1;
                        assert_eq!(Some(&&(from, event, to)), listed.first());
                        assert!(
                            !from.is_finished()
                                || (from, event) == (S::Completed, E::CorrectionOpened)
                                || event == E::Voided,
                            "{from:?} is finished and moves by {event:?}"
                        );
                    }
                    None => assert!(listed.is_empty()),
                }
            }
        }
        assert_eq!(legal, TRANSITIONS.len());
        assert_eq!(CaseStatus::ALL.len() * CaseEvent::ALL.len(), 120);
        // A voided case never moves again, not even to be voided twice.
        assert!(CaseEvent::ALL
            .iter()
            .all(|e| next_status(S::Voided, *e).is_none()));
    }

    /// No status is set anywhere but [`Case::move_to`]: the table is the only way.
    #[test]
    fn only_the_table_sets_a_case_status() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/case");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap() == "transitions.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains("self.status = "),
                "{} sets the status itself",
                path.display()
            );
        }
    }
}
