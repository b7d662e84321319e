//! Accounts' roles and the scopes their bearer tokens carry.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a token allows. A route needs exactly one scope; the spec names it
/// in the operation's `security` requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// Register keys, post manifests, upload files, manage one's listings.
    #[serde(rename = "publish")]
    Publish,
    /// Read listings, and one's own manifests.
    #[serde(rename = "read:manifest")]
    ReadManifest,
    /// Download the files of what one bought.
    #[serde(rename = "read:shards")]
    ReadShards,
    /// Buy listings.
    #[serde(rename = "purchase")]
    Purchase,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::Publish,
        Scope::ReadManifest,
        Scope::ReadShards,
        Scope::Purchase,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Publish => "publish",
            Scope::ReadManifest => "read:manifest",
            Scope::ReadShards => "read:shards",
            Scope::Purchase => "purchase",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, UnknownName> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "scope",
                name: s.to_owned(),
            })
    }
}

/// An account's role; it fixes the account's scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sells: publishes manifests and files, and lists them.
    Publisher,
    /// Buys, and downloads what it bought.
    Buyer,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Publisher, Role::Buyer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Publisher => "publisher",
            Role::Buyer => "buyer",
        }
    }

    /// The scopes a token of this role carries.
    pub fn scopes(self) -> &'static [Scope] {
        match self {
            Role::Publisher => &[Scope::Publish, Scope::ReadManifest],
            Role::Buyer => &[Scope::ReadManifest, Scope::ReadShards, Scope::Purchase],
        }
    }

    pub fn allows(self, scope: Scope) -> bool {
        self.scopes().contains(&scope)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, UnknownName> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "role",
                name: s.to_owned(),
            })
    }
}

/// A scope or role name the protocol does not define.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.what, self.name)
    }
}

impl std::error::Error for UnknownName {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
            let json = serde_json::to_string(&scope).unwrap();
            assert_eq!(json, format!("\"{scope}\""));
        }
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn roles_grant_the_scopes_of_the_protocol() {
        assert!(Role::Publisher.allows(Scope::Publish));
        assert!(!Role::Publisher.allows(Scope::Purchase));
        assert!(!Role::Buyer.allows(Scope::Publish));
        assert!(Role::Buyer.allows(Scope::ReadShards));
        assert!(Role::ALL.iter().all(|r| r.allows(Scope::ReadManifest)));
    }
}
