//! The surveys service's rules, without I/O.

pub mod access;
pub mod catalog_csv;
pub mod instruments;
