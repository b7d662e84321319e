//! Who acts: users, their roles and what each role may do, the
//! passphrase-locked signing keys (the users' and the library's own), and
//! the signed ledger that says who may sign.

pub(crate) mod authority;
pub mod keys;
pub(crate) mod ledger;
pub(crate) mod roles;
pub(crate) mod users;
