//! The enrollment rules, without I/O: who may do what, and why an
//! application can be withdrawn.

pub mod access;
pub mod withdrawal;
