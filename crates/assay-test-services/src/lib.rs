//! The real services the market's tests and benchmarks run against, each
//! started by the test itself in a temporary folder on a free loopback port
//! and stopped when its handle is dropped: PostgreSQL ([`postgres`]) from
//! the system's packages and an S3-compatible server ([`s3`]), both
//! installed by `scripts/setup.sh`. Nothing here is a mock.

pub mod postgres;
pub mod s3;
