//! The monitoring service's rules, without I/O.

pub mod access;
pub mod completions;
pub mod documents;
pub mod frdo;
