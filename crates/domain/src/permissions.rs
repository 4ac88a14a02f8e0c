//! Who may do what: one pure function `allows(role, action)`, tested as a full matrix.
//!
//! Rules that depend on the request itself (an engineer acts only in their own area) live in
//! `lifecycle::transition`; this table is the role part only.

use serde::{Deserialize, Serialize};

use crate::lifecycle::Step;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Agente de soporte: answers the phone, registers and follows up requests.
    Agent,
    /// Supervisor del CAU: watches attention times (A16) and escalates (A19).
    Supervisor,
    /// Coordinador del CAU: cancels (A15) and notifies pending work (A17).
    Coordinator,
    /// Engineer of a resolver area.
    Engineer,
    /// Keeps the catalogue, calendar, units and accounts.
    Administrator,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Agent,
        Role::Supervisor,
        Role::Coordinator,
        Role::Engineer,
        Role::Administrator,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Coordinator => "coordinator",
            Role::Engineer => "engineer",
            Role::Administrator => "administrator",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            Role::Agent => "Agente de soporte",
            Role::Supervisor => "Supervisor del CAU",
            Role::Coordinator => "Coordinador del CAU",
            Role::Engineer => "Ingeniero de área",
            Role::Administrator => "Administrador",
        }
    }

    /// CAU staff: agents and the people who supervise them.
    fn is_cau(self) -> bool {
        matches!(self, Role::Agent | Role::Supervisor | Role::Coordinator)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    ViewCatalogue,
    /// Services, sheets, areas and units (Q4, V7).
    ManageCatalogue,
    ManageStaff,
    ManageCalendar,
    /// The mail channel's dead letters and their retry.
    ManageMail,
    /// See requester records with full personal data (name, CURP, boleta, e-mail, phone).
    ViewPersonalData,
    /// Create a requester, or verify and update their data (A6, A7).
    EditRequester,
    /// Register a new request (A9–A12).
    CreateRequest,
    ViewRequests,
    Comment,
    Attach,
    /// Change of conditions by the requester (V6).
    ChangeConditions,
    Step(Step),
    /// Tell the responsible people of their pending requests (A17).
    SendDigest,
    /// Attention times of open requests and reports (A16, L11).
    ViewReports,
    /// Write a complaint, suggestion or praise into the log (L10).
    RecordComplaint,
    /// Evaluate and treat the log's entries (L10) and follow up anomalies (L13).
    ManageComplaints,
    /// Tell the officials of the responsible area about a request (A19, L13).
    Escalate,
}

impl Action {
    /// Every action, for the matrix test and the API's own documentation.
    pub fn all() -> Vec<Action> {
        let mut all = vec![
            Action::ViewCatalogue,
            Action::ManageCatalogue,
            Action::ManageStaff,
            Action::ManageCalendar,
            Action::ManageMail,
            Action::ViewPersonalData,
            Action::EditRequester,
            Action::CreateRequest,
            Action::ViewRequests,
            Action::Comment,
            Action::Attach,
            Action::ChangeConditions,
            Action::SendDigest,
            Action::ViewReports,
            Action::RecordComplaint,
            Action::ManageComplaints,
            Action::Escalate,
        ];
        all.extend(Step::ALL.map(Action::Step));
        all
    }
}

/// Whether the requester's name shows in lists and searches: for the roles that handle personal
/// data, and for engineers, who need to know whom they are helping.
pub fn sees_requester_name(role: Role) -> bool {
    allows(role, Action::ViewPersonalData) || role == Role::Engineer
}

pub fn allows(role: Role, action: Action) -> bool {
    use Role::*;
    match action {
        Action::ViewCatalogue | Action::ViewRequests => true,
        Action::ManageCatalogue
        | Action::ManageStaff
        | Action::ManageCalendar
        | Action::ManageMail => role == Administrator,
        Action::ViewPersonalData
        | Action::EditRequester
        | Action::CreateRequest
        | Action::ChangeConditions => role.is_cau(),
        Action::Comment | Action::Attach => role.is_cau() || role == Engineer,
        Action::SendDigest => role == Coordinator,
        Action::ViewReports | Action::ManageComplaints => matches!(role, Supervisor | Coordinator),
        Action::RecordComplaint | Action::Escalate => role.is_cau(),
        Action::Step(step) => match step {
            Step::Register | Step::ConfirmRequirements | Step::Assign => role.is_cau(),
            Step::Start | Step::Wait | Step::Resume | Step::Solve => role == Engineer,
            Step::Verify | Step::SendBack | Step::Close | Step::Reopen => role.is_cau(),
            Step::Cancel => role == Coordinator,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole role × action matrix, written out so a change to `allows` must change it too.
    /// Columns: agent, supervisor, coordinator, engineer, administrator.
    #[test]
    fn the_full_role_action_matrix() {
        let expected: Vec<(Action, [bool; 5])> = vec![
            (Action::ViewCatalogue, [true, true, true, true, true]),
            (Action::ManageCatalogue, [false, false, false, false, true]),
            (Action::ManageStaff, [false, false, false, false, true]),
            (Action::ManageMail, [false, false, false, false, true]),
            (Action::ManageCalendar, [false, false, false, false, true]),
            (Action::ViewPersonalData, [true, true, true, false, false]),
            (Action::EditRequester, [true, true, true, false, false]),
            (Action::CreateRequest, [true, true, true, false, false]),
            (Action::ViewRequests, [true, true, true, true, true]),
            (Action::Comment, [true, true, true, true, false]),
            (Action::Attach, [true, true, true, true, false]),
            (Action::ChangeConditions, [true, true, true, false, false]),
            (Action::SendDigest, [false, false, true, false, false]),
            (Action::ViewReports, [false, true, true, false, false]),
            (Action::RecordComplaint, [true, true, true, false, false]),
            (Action::ManageComplaints, [false, true, true, false, false]),
            (Action::Escalate, [true, true, true, false, false]),
            (
                Action::Step(Step::Register),
                [true, true, true, false, false],
            ),
            (
                Action::Step(Step::ConfirmRequirements),
                [true, true, true, false, false],
            ),
            (Action::Step(Step::Assign), [true, true, true, false, false]),
            (
                Action::Step(Step::Start),
                [false, false, false, true, false],
            ),
            (Action::Step(Step::Wait), [false, false, false, true, false]),
            (
                Action::Step(Step::Resume),
                [false, false, false, true, false],
            ),
            (
                Action::Step(Step::Solve),
                [false, false, false, true, false],
            ),
            (Action::Step(Step::Verify), [true, true, true, false, false]),
            (
                Action::Step(Step::SendBack),
                [true, true, true, false, false],
            ),
            (Action::Step(Step::Close), [true, true, true, false, false]),
            (Action::Step(Step::Reopen), [true, true, true, false, false]),
            (
                Action::Step(Step::Cancel),
                [false, false, true, false, false],
            ),
        ];
        assert_eq!(
            expected.len(),
            Action::all().len(),
            "every action is in the matrix"
        );
        for (action, row) in expected {
            for (role, allowed) in Role::ALL.into_iter().zip(row) {
                assert_eq!(allows(role, action), allowed, "{role:?} × {action:?}");
            }
        }
    }

    #[test]
    fn role_codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_code(role.code()), Some(role));
        }
    }
}
