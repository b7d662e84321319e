//! Who acts: users, their roles and what each role may do, and the
//! passphrase-locked signing keys (the users' and the library's own).

pub mod keys;
pub(crate) mod roles;
pub(crate) mod users;
