//! The request life cycle: which step may move a request from which status, and who may take it.
//!
//! One exhaustive `match` over (status, step) so the compiler checks every transition.
//! Role rules come from `permissions::allows`; the rules that depend on the request itself
//! (an engineer may only act on requests of their own area) are checked here.

use serde::{Deserialize, Serialize};

use crate::ids::{AreaId, StaffId};
use crate::permissions::{Action, Role, allows};

/// Where a request stands. Names follow REQUIREMENTS.md, "Request life cycle".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In the intake queue: mail, social network or contingency record not yet registered (L4, L8).
    Received,
    /// A written request missing a requirement, waiting for the agent to confirm it (V5).
    ToConfirm,
    Registered,
    Assigned,
    InProgress,
    /// Waiting on the requester or a third party: the service-level clock is paused.
    Waiting,
    /// The area reports it solved; CAU verifies the solution (A18).
    Solved,
    /// Survey sent; the requester validates the solution (L9).
    Validating,
    Closed,
    Reopened,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 11] = [
        Status::Received,
        Status::ToConfirm,
        Status::Registered,
        Status::Assigned,
        Status::InProgress,
        Status::Waiting,
        Status::Solved,
        Status::Validating,
        Status::Closed,
        Status::Reopened,
        Status::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::ToConfirm => "to_confirm",
            Status::Registered => "registered",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::Waiting => "waiting",
            Status::Solved => "solved",
            Status::Validating => "validating",
            Status::Closed => "closed",
            Status::Reopened => "reopened",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            Status::Received => "Recibida",
            Status::ToConfirm => "Requisitos por confirmar",
            Status::Registered => "Registrada",
            Status::Assigned => "Asignada",
            Status::InProgress => "En atención",
            Status::Waiting => "En espera",
            Status::Solved => "Solucionada",
            Status::Validating => "En validación",
            Status::Closed => "Cerrada",
            Status::Reopened => "Reabierta",
            Status::Cancelled => "Cancelada",
        }
    }

    /// Open requests count for duplicates (A8) and for follow-up of attention times (A16).
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Cancelled)
    }
}

/// Something done to a request. The payload (reason, solution text, area…) travels beside it
/// in the app; the rules need only the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Register a message from the intake queue (L4) once the requester is identified.
    Register,
    /// Confirm requirements that a written request lacked (V5).
    ConfirmRequirements,
    /// Assign (or reassign) to a resolver area and optionally an engineer (A11).
    Assign,
    /// The engineer starts working on it.
    Start,
    /// Waiting on the requester or a third party: pauses the clock.
    Wait,
    Resume,
    /// The resolver area reports a solution.
    Solve,
    /// CAU checks the engineer's solution and sends the survey (A18, L9).
    Verify,
    /// The solution is not adequate: back to the area (A19).
    SendBack,
    /// The requester validated the solution (survey "yes", or confirmed to an agent).
    Close,
    /// The requester says it is not solved (L9), or an L13 follow-up expedites it.
    Reopen,
    /// Coordinator only (A15).
    Cancel,
}

impl Step {
    pub const ALL: [Step; 12] = [
        Step::Register,
        Step::ConfirmRequirements,
        Step::Assign,
        Step::Start,
        Step::Wait,
        Step::Resume,
        Step::Solve,
        Step::Verify,
        Step::SendBack,
        Step::Close,
        Step::Reopen,
        Step::Cancel,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Step::Register => "register",
            Step::ConfirmRequirements => "confirm_requirements",
            Step::Assign => "assign",
            Step::Start => "start",
            Step::Wait => "wait",
            Step::Resume => "resume",
            Step::Solve => "solve",
            Step::Verify => "verify",
            Step::SendBack => "send_back",
            Step::Close => "close",
            Step::Reopen => "reopen",
            Step::Cancel => "cancel",
        }
    }

    pub fn from_code(code: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Steps that must say why (the reason is kept on the timeline).
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            Step::Wait | Step::SendBack | Step::Reopen | Step::Cancel | Step::Solve
        )
    }
}

/// Who takes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Staff {
        id: StaffId,
        role: Role,
        /// The resolver area of an engineer.
        area: Option<AreaId>,
    },
    /// The requester through a signed survey link (L9).
    Requester,
    /// Background jobs (auto-close after the validation period).
    System,
}

/// What the rules need to know about the request besides its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestFacts {
    pub area: Option<AreaId>,
    /// For `Register` and `ConfirmRequirements`: are all requirements of the sheet confirmed (V5)?
    pub requirements_complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("La solicitud está en estado «{}»; no se puede {} desde ahí.", .from.label_es(), step_label_es(*.step))]
    NotFromStatus { from: Status, step: Step },
    #[error("Su perfil no permite {} una solicitud.", step_label_es(*.step))]
    RoleNotAllowed { step: Step },
    #[error("Sólo un ingeniero del área asignada puede {} esta solicitud.", step_label_es(*.step))]
    NotOfAssignedArea { step: Step },
}

impl TransitionError {
    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::NotFromStatus { .. } => "transition_not_allowed",
            TransitionError::RoleNotAllowed { .. } => "role_not_allowed",
            TransitionError::NotOfAssignedArea { .. } => "not_of_assigned_area",
        }
    }
}

pub fn step_label_es(step: Step) -> &'static str {
    match step {
        Step::Register => "registrar",
        Step::ConfirmRequirements => "confirmar los requisitos de",
        Step::Assign => "asignar",
        Step::Start => "iniciar la atención de",
        Step::Wait => "poner en espera",
        Step::Resume => "reanudar",
        Step::Solve => "solucionar",
        Step::Verify => "verificar la solución de",
        Step::SendBack => "devolver al área",
        Step::Close => "cerrar",
        Step::Reopen => "reabrir",
        Step::Cancel => "cancelar",
    }
}

/// The status a step leads to from `from`, or why it may not be taken.
pub fn next_status(from: Status, step: Step, facts: RequestFacts) -> Result<Status, Step> {
    use Status as S;
    let to = match (from, step) {
        (S::Received, Step::Register) | (S::ToConfirm, Step::ConfirmRequirements) => {
            if facts.requirements_complete {
                S::Registered
            } else {
                S::ToConfirm
            }
        }
        (S::Registered | S::Assigned | S::InProgress | S::Waiting | S::Reopened, Step::Assign) => {
            S::Assigned
        }
        (S::Assigned | S::Reopened, Step::Start) => S::InProgress,
        (S::InProgress, Step::Wait) => S::Waiting,
        (S::Waiting, Step::Resume) => S::InProgress,
        (S::InProgress, Step::Solve) => S::Solved,
        (S::Solved, Step::Verify) => S::Validating,
        (S::Solved, Step::SendBack) => S::InProgress,
        (S::Validating, Step::Close) => S::Closed,
        // L9: "not solved" reopens; L13: a closed or cancelled request with an anomaly is expedited.
        (S::Solved | S::Validating | S::Closed | S::Cancelled, Step::Reopen) => S::Reopened,
        (
            S::Received
            | S::ToConfirm
            | S::Registered
            | S::Assigned
            | S::InProgress
            | S::Waiting
            | S::Solved
            | S::Validating
            | S::Reopened,
            Step::Cancel,
        ) => S::Cancelled,
        (
            S::Received
            | S::ToConfirm
            | S::Registered
            | S::Assigned
            | S::InProgress
            | S::Waiting
            | S::Solved
            | S::Validating
            | S::Closed
            | S::Reopened
            | S::Cancelled,
            Step::Register
            | Step::ConfirmRequirements
            | Step::Assign
            | Step::Start
            | Step::Wait
            | Step::Resume
            | Step::Solve
            | Step::Verify
            | Step::SendBack
            | Step::Close
            | Step::Reopen
            | Step::Cancel,
        ) => return Err(step),
    };
    Ok(to)
}

/// Whether the requester gets a mail about this step: they are told when their request waits on
/// them, is cancelled, closed or reopened by someone else; the internal steps (assign, start …)
/// and the requester's own survey answer are not mailed.
pub fn requester_is_told(step: Step, actor: Actor) -> bool {
    matches!(step, Step::Wait | Step::Cancel | Step::Close | Step::Reopen)
        && !matches!(actor, Actor::Requester)
}

/// The whole check for one step: status, role and area. Returns the new status.
pub fn transition(
    from: Status,
    step: Step,
    actor: Actor,
    facts: RequestFacts,
) -> Result<Status, TransitionError> {
    match actor {
        Actor::Staff { role, area, .. } => {
            if !allows(role, Action::Step(step)) {
                return Err(TransitionError::RoleNotAllowed { step });
            }
            // Engineers act only on requests of their own area; CAU staff act on all.
            if role == Role::Engineer && (area.is_none() || area != facts.area) {
                return Err(TransitionError::NotOfAssignedArea { step });
            }
        }
        // The requester answers the survey (L9): "yes" closes, "no" reopens — also a request that
        // was closed for lack of answer while the survey is still answerable.
        Actor::Requester => {
            let allowed = matches!(
                (from, step),
                (Status::Validating, Step::Close | Step::Reopen) | (Status::Closed, Step::Reopen)
            );
            if !allowed {
                return Err(TransitionError::RoleNotAllowed { step });
            }
        }
        Actor::System => {
            if step != Step::Close {
                return Err(TransitionError::RoleNotAllowed { step });
            }
        }
    }
    next_status(from, step, facts).map_err(|step| TransitionError::NotFromStatus { from, step })
}

#[cfg(test)]
mod tests {
    use super::*;

    const AREA: AreaId = AreaId(7);
    const FACTS: RequestFacts = RequestFacts {
        area: Some(AREA),
        requirements_complete: true,
    };

    fn staff(role: Role) -> Actor {
        Actor::Staff {
            id: StaffId(1),
            role,
            area: (role == Role::Engineer).then_some(AREA),
        }
    }

    #[test]
    fn the_happy_path_goes_from_registration_to_closing() {
        let path = [
            (
                Status::Registered,
                Step::Assign,
                Role::Agent,
                Status::Assigned,
            ),
            (
                Status::Assigned,
                Step::Start,
                Role::Engineer,
                Status::InProgress,
            ),
            (
                Status::InProgress,
                Step::Wait,
                Role::Engineer,
                Status::Waiting,
            ),
            (
                Status::Waiting,
                Step::Resume,
                Role::Engineer,
                Status::InProgress,
            ),
            (
                Status::InProgress,
                Step::Solve,
                Role::Engineer,
                Status::Solved,
            ),
            (
                Status::Solved,
                Step::Verify,
                Role::Agent,
                Status::Validating,
            ),
        ];
        for (from, step, role, to) in path {
            assert_eq!(
                transition(from, step, staff(role), FACTS),
                Ok(to),
                "{step:?}"
            );
        }
        assert_eq!(
            transition(Status::Validating, Step::Close, Actor::Requester, FACTS),
            Ok(Status::Closed)
        );
    }

    #[test]
    fn only_the_coordinator_cancels_a15() {
        for role in Role::ALL {
            let result = transition(Status::Assigned, Step::Cancel, staff(role), FACTS);
            if role == Role::Coordinator {
                assert_eq!(result, Ok(Status::Cancelled));
            } else {
                assert_eq!(
                    result,
                    Err(TransitionError::RoleNotAllowed { step: Step::Cancel })
                );
            }
        }
    }

    #[test]
    fn an_engineer_of_another_area_cannot_solve() {
        let other = Actor::Staff {
            id: StaffId(2),
            role: Role::Engineer,
            area: Some(AreaId(99)),
        };
        assert_eq!(
            transition(Status::InProgress, Step::Solve, other, FACTS),
            Err(TransitionError::NotOfAssignedArea { step: Step::Solve })
        );
    }

    #[test]
    fn verification_is_cau_work_not_the_engineers_a18() {
        assert_eq!(
            transition(Status::Solved, Step::Verify, staff(Role::Engineer), FACTS),
            Err(TransitionError::RoleNotAllowed { step: Step::Verify })
        );
        assert_eq!(
            transition(Status::Solved, Step::SendBack, staff(Role::Agent), FACTS),
            Ok(Status::InProgress)
        );
    }

    #[test]
    fn a_written_request_missing_requirements_waits_to_confirm_v5() {
        let incomplete = RequestFacts {
            requirements_complete: false,
            ..FACTS
        };
        assert_eq!(
            transition(
                Status::Received,
                Step::Register,
                staff(Role::Agent),
                incomplete
            ),
            Ok(Status::ToConfirm)
        );
        assert_eq!(
            transition(
                Status::ToConfirm,
                Step::ConfirmRequirements,
                staff(Role::Agent),
                FACTS
            ),
            Ok(Status::Registered)
        );
    }

    #[test]
    fn not_solved_reopens_and_closed_or_cancelled_can_be_expedited_l9_l13() {
        assert_eq!(
            transition(Status::Validating, Step::Reopen, Actor::Requester, FACTS),
            Ok(Status::Reopened)
        );
        for from in [Status::Closed, Status::Cancelled] {
            assert_eq!(
                transition(from, Step::Reopen, staff(Role::Supervisor), FACTS),
                Ok(Status::Reopened)
            );
        }
    }

    #[test]
    fn closed_and_cancelled_requests_accept_nothing_but_reopen() {
        for from in [Status::Closed, Status::Cancelled] {
            for step in Step::ALL.into_iter().filter(|s| *s != Step::Reopen) {
                assert_eq!(
                    next_status(from, step, FACTS),
                    Err(step),
                    "{from:?} {step:?}"
                );
            }
        }
    }

    #[test]
    fn the_system_may_only_close_and_the_requester_only_answer_the_survey() {
        assert_eq!(
            transition(Status::Validating, Step::Close, Actor::System, FACTS),
            Ok(Status::Closed)
        );
        assert!(transition(Status::Assigned, Step::Cancel, Actor::System, FACTS).is_err());
        assert!(transition(Status::Cancelled, Step::Reopen, Actor::Requester, FACTS).is_err());
        assert!(transition(Status::Solved, Step::Close, Actor::Requester, FACTS).is_err());
        assert_eq!(
            transition(Status::Closed, Step::Reopen, Actor::Requester, FACTS),
            Ok(Status::Reopened)
        );
    }

    #[test]
    fn the_requester_is_mailed_only_about_what_concerns_them() {
        assert!(requester_is_told(Step::Wait, staff(Role::Engineer)));
        assert!(requester_is_told(Step::Close, Actor::System));
        assert!(requester_is_told(Step::Cancel, staff(Role::Coordinator)));
        assert!(!requester_is_told(Step::Reopen, Actor::Requester));
        assert!(!requester_is_told(Step::Start, staff(Role::Engineer)));
        assert!(!requester_is_told(Step::Assign, staff(Role::Agent)));
    }

    #[test]
    fn status_and_step_codes_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::from_code(status.code()), Some(status));
        }
        for step in Step::ALL {
            assert_eq!(Step::from_code(step.code()), Some(step));
        }
    }

    #[test]
    fn every_status_is_reachable_from_registered_or_received() {
        let mut seen = vec![Status::Received, Status::Registered];
        let mut frontier = seen.clone();
        while let Some(from) = frontier.pop() {
            for step in Step::ALL {
                for complete in [true, false] {
                    let facts = RequestFacts {
                        requirements_complete: complete,
                        ..FACTS
                    };
                    if let Ok(to) = next_status(from, step, facts)
                        && !seen.contains(&to)
                    {
                        seen.push(to);
                        frontier.push(to);
                    }
                }
            }
        }
        assert_eq!(seen.len(), Status::ALL.len());
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;
        use crate::ids::{AreaId, StaffId};

        fn any_actor() -> impl Strategy<Value = Actor> {
            prop_oneof![
                (0..Role::ALL.len(), proptest::bool::ANY).prop_map(|(i, own_area)| Actor::Staff {
                    id: StaffId(1),
                    role: Role::ALL[i],
                    area: Some(if own_area { AreaId(7) } else { AreaId(8) }),
                }),
                Just(Actor::Requester),
                Just(Actor::System),
            ]
        }

        proptest! {
                   /// Whatever is tried, in any order and by anyone, the rules of the procedure hold:
                   /// closing only follows validation (L9), only the coordinator cancels (A15), only an
                   /// engineer of the assigned area solves, and verification is CAU's (A18).
                   #[test]
                   fn any_sequence_of_attempts_keeps_the_procedure(
                       attempts in proptest::collection::vec((0..Step::ALL.len(), any_actor(), proptest::bool::ANY), 1..60)
                   ) {
                       let mut status = Status::Registered;
                       for (i, actor, complete) in attempts {
                           let step = Step::ALL[i];
                           let facts = RequestFacts { area: Some(AreaId(7)), requirements_complete: complete };
                           if let Ok(next) = transition(status, step, actor, facts) {
                               if next == Status::Closed {
                                   prop_assert_eq!(status, Status::Validating);
                               }
                               if step == Step::Cancel {
                                   let allowed = matches!(actor, Actor::Staff { role: Role::Coordinator, .. });
        prop_assert!(allowed, "{:?} may not {:?}", actor, step);
                               }
                               if step == Step::Solve {
                                   let allowed = matches!(actor, Actor::Staff { role: Role::Engineer, area: Some(AreaId(7)), .. });
        prop_assert!(allowed, "{:?} may not {:?}", actor, step);
                               }
                               if step == Step::Verify {
                                   let allowed = matches!(actor, Actor::Staff { role: Role::Agent | Role::Supervisor | Role::Coordinator, .. });
        prop_assert!(allowed, "{:?} may not {:?}", actor, step);
                               }
                               prop_assert_eq!(Ok(next), next_status(status, step, facts));
                               status = next;
                           }
                       }
                   }
               }
    }
}
