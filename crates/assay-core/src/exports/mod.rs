//! What leaves the library, signed: manifests, Croissant metadata, XMP
//! sidecars, Content Credentials, audit packages, and the checks that read each back.

pub(crate) mod audit;
pub(crate) mod audit_check;
pub(crate) mod credentials;
pub(crate) mod croissant;
pub(crate) mod manifest;
pub(crate) mod xmp_check;
pub(crate) mod xmp_sidecar;
