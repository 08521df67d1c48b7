//! The identity service's rules, free of I/O.

pub mod access;
pub mod csv_import;
pub mod educator_sync;
pub mod org_import;
pub mod values;
