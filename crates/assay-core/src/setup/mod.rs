//! Making a library usable: the first user, and the sample library.

pub(crate) mod first_user;
pub(crate) mod sample;
