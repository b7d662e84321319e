//! A library's first run: the person opening it creates their identity in
//! the role they work in. The first user of a library is its administrator
//! (only an admin adds users), so someone who is a creator, steward or
//! rights manager gets a second user, `NAME-admin`, under the same
//! passphrase, who added them and can add the rest of the team later. A
//! creator also gets their own profile (payout reference, default license),
//! which what they import is linked to on arrival.

use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::identity::roles::Role;
use crate::identity::users::Actor;
use crate::rights::creators::NewCreator;

/// What the first-run form asks.
#[derive(Debug, Clone)]
pub struct FirstUser {
    pub name: String,
    pub role: Role,
    pub passphrase: Vec<u8>,
    /// A creator's own profile; its `user` is set to `name`, and so is its
    /// name when left blank.
    pub creator: Option<NewCreator>,
}

/// The administrator made for someone whose own role is another.
fn admin_name(name: &str) -> String {
    format!("{name}-admin")
}

impl Library {
    /// Creates the first user (and their administrator and profile, as the
    /// module says) and returns them unlocked. Everything is checked before
    /// anything is written, so a refused form leaves the library without
    /// users, as it was.
    pub fn set_up(&self, first: &FirstUser) -> Result<Actor> {
        if Library::has_users(&self.connect()?)? {
            return Err(Error::refused(
                "first-run",
                "this library has users already; an administrator adds more under Settings",
            ));
        }
        let name = first.name.trim();
        let profile = match &first.creator {
            Some(profile) if first.role.owns_creator_profile() => {
                let credited = match profile.name.trim() {
                    "" => name,
                    given => given,
                };
                Some(self.check_creator(&NewCreator {
                    name: credited.to_owned(),
                    user: Some(name.to_owned()),
                    ..profile.clone()
                })?)
            }
            Some(_) => {
                return Err(Error::invalid_value(
                    "creator",
                    format!(
                        "{name} is a {}: only a creator has a creator profile of their own",
                        first.role
                    ),
                ))
            }
            None => None,
        };
        // The certificate authority Content Credentials are signed under.
        self.authority()?;
        if !first.role.first_run_adds_admin() {
            self.add_user(None, name, Role::Admin, &first.passphrase)?;
            return self.unlock(name, &first.passphrase);
        }
        let admin = admin_name(name);
        // Both names are checked before the first is written.
        crate::identity::users::check_name(name)?;
        crate::identity::users::check_name(&admin)?;
        self.add_user(None, &admin, Role::Admin, &first.passphrase)?;
        let admin = self.unlock(&admin, &first.passphrase)?;
        self.add_user(Some(&admin), name, first.role, &first.passphrase)?;
        if let Some(profile) = &profile {
            self.add_creator(&admin, profile)?;
        }
        self.unlock(name, &first.passphrase)
    }
}
