//! Who may do what. The same table decides whether an action is allowed now
//! and, during provenance verification, whether a recorded event could have
//! been made by the role that signed it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Role {
    Creator,
    Steward,
    RightsManager,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Creator,
        Role::Steward,
        Role::RightsManager,
        Role::Admin,
    ];

    /// The role a new user is offered first: most users of a library are
    /// the creators whose work it holds.
    pub const DEFAULT: Role = Role::Creator;

    /// Whether a user in this role may own a creator profile: their imports
    /// take its fields, and a creator sets theirs up on a first run.
    pub fn owns_creator_profile(self) -> bool {
        self == Role::Creator
    }

    /// Whether a library's first user in this role also needs `NAME-admin`
    /// made first: only an admin adds users.
    pub fn first_run_adds_admin(self) -> bool {
        self != Role::Admin
    }

    /// What the forms that add users and set up a library need to know of
    /// this role, so they ask the core instead of naming roles.
    pub fn info(self) -> RoleInfo {
        RoleInfo {
            role: self,
            default: self == Role::DEFAULT,
            owns_creator_profile: self.owns_creator_profile(),
            first_run_adds_admin: self.first_run_adds_admin(),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Creator => "creator",
            Role::Steward => "steward",
            Role::RightsManager => "rights_manager",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role {s:?}; one of creator, steward, rights_manager, admin")
            })
    }
}

/// A role with the core's answers about it; see [`Role::info`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RoleInfo {
    pub role: Role,
    /// Offered first when a user is added.
    pub default: bool,
    /// A user in this role may own a creator profile.
    pub owns_creator_profile: bool,
    /// Setting a library up in this role also makes `NAME-admin`.
    pub first_run_adds_admin: bool,
}

/// Everything that changes a library, as the role table sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ManageUsers,
    ManageCreators,
    Import,
    EditMetadata,
    BulkEdit,
    Submit,
    Approve,
    Reject,
    Quarantine,
    Release,
    TransferRights,
    Export,
    RecordPayment,
    CurateDatasets,
}

impl Action {
    pub const ALL: [Action; 14] = [
        Action::ManageUsers,
        Action::ManageCreators,
        Action::Import,
        Action::EditMetadata,
        Action::BulkEdit,
        Action::Submit,
        Action::Approve,
        Action::Reject,
        Action::Quarantine,
        Action::Release,
        Action::TransferRights,
        Action::Export,
        Action::RecordPayment,
        Action::CurateDatasets,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ManageUsers => "manage users",
            Action::ManageCreators => "manage creator profiles",
            Action::Import => "import",
            Action::EditMetadata => "edit metadata",
            Action::BulkEdit => "bulk-edit metadata",
            Action::Submit => "submit for review",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Quarantine => "quarantine",
            Action::Release => "release from quarantine",
            Action::TransferRights => "transfer rights",
            Action::Export => "export",
            Action::RecordPayment => "record payments",
            Action::CurateDatasets => "curate datasets",
        }
    }
}

/// What a role may do, action by action: the answer the app shows its
/// screens and panels from, so no front end keeps a copy of the role table.
/// Controls that act on assets are enabled from
/// [`Library::permits`](crate::Library::permits), which adds the rules that
/// depend on the asset (a creator edits only their own uploads; nobody
/// approves their own work).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Permissions {
    pub manage_users: bool,
    pub manage_creators: bool,
    pub import: bool,
    pub edit_metadata: bool,
    pub bulk_edit: bool,
    pub submit: bool,
    pub approve: bool,
    pub reject: bool,
    pub quarantine: bool,
    pub release: bool,
    pub transfer_rights: bool,
    pub export: bool,
    pub record_payment: bool,
    pub curate_datasets: bool,
    /// A marketplace sync: it publishes (an export) and records the
    /// market's payments, so it needs both.
    pub sync: bool,
}

impl Permissions {
    pub fn of(role: Role) -> Permissions {
        let may = |action| allows(role, action);
        Permissions {
            manage_users: may(Action::ManageUsers),
            manage_creators: may(Action::ManageCreators),
            import: may(Action::Import),
            edit_metadata: may(Action::EditMetadata),
            bulk_edit: may(Action::BulkEdit),
            submit: may(Action::Submit),
            approve: may(Action::Approve),
            reject: may(Action::Reject),
            quarantine: may(Action::Quarantine),
            release: may(Action::Release),
            transfer_rights: may(Action::TransferRights),
            export: may(Action::Export),
            record_payment: may(Action::RecordPayment),
            curate_datasets: may(Action::CurateDatasets),
            sync: may(Action::Export) && may(Action::RecordPayment),
        }
    }
}

/// What a role may do at all. Rules that depend on the asset (a creator
/// edits only what they uploaded; nobody approves their own work) are
/// checked by the caller, which knows the asset.
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        // A creator may edit many assets at once, but only their own uploads.
        Role::Creator => matches!(action, Import | EditMetadata | BulkEdit | Submit),
        Role::Steward => matches!(
            action,
            ManageCreators | Import | EditMetadata | BulkEdit | Submit | CurateDatasets
        ),
        Role::RightsManager => matches!(
            action,
            Import
                | Approve
                | Reject
                | Quarantine
                | Release
                | TransferRights
                | Export
                | RecordPayment
                | CurateDatasets
        ),
        Role::Admin => matches!(action, ManageUsers | ManageCreators | Import),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_the_role_table_action_by_action() {
        for role in Role::ALL {
            let p = Permissions::of(role);
            let given = [
                (p.manage_users, Action::ManageUsers),
                (p.manage_creators, Action::ManageCreators),
                (p.import, Action::Import),
                (p.edit_metadata, Action::EditMetadata),
                (p.bulk_edit, Action::BulkEdit),
                (p.submit, Action::Submit),
                (p.approve, Action::Approve),
                (p.reject, Action::Reject),
                (p.quarantine, Action::Quarantine),
                (p.release, Action::Release),
                (p.transfer_rights, Action::TransferRights),
                (p.export, Action::Export),
                (p.record_payment, Action::RecordPayment),
                (p.curate_datasets, Action::CurateDatasets),
            ];
            // One field per action (and `sync`), none forgotten when an
            // action is added.
            let fields = serde_json::to_value(p).unwrap().as_object().unwrap().len();
            assert_eq!(
                (given.len(), fields),
                (Action::ALL.len(), Action::ALL.len() + 1)
            );
            for (may, action) in given {
                assert_eq!(may, allows(role, action), "{role} {}", action.as_str());
            }
        }
        // What the app once got wrong: an administrator edits nothing.
        let admin = Permissions::of(Role::Admin);
        assert!(admin.manage_users && !admin.bulk_edit && !admin.submit);
        let syncs: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| Permissions::of(*r).sync)
            .collect();
        assert_eq!(syncs, [Role::RightsManager]);
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("owner".parse::<Role>().is_err());
    }

    #[test]
    fn only_rights_managers_approve_and_only_admins_manage_users() {
        for role in Role::ALL {
            assert_eq!(
                allows(role, Action::Approve),
                role == Role::RightsManager,
                "{role}"
            );
            assert_eq!(
                allows(role, Action::ManageUsers),
                role == Role::Admin,
                "{role}"
            );
        }
    }
}
