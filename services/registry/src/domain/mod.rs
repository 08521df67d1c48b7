//! The registry's rules, free of I/O.

pub mod access;
pub mod calendar;
pub mod council;
pub mod programs;
pub mod review;
pub mod schedule;
