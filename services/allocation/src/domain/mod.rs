//! The allocation rules, without I/O: who may do what, who is due, how
//! places are shared (numbers are made and checked by
//! `pd_domain::unique_number`), how a voucher is
//! split into blocks, and whose turn it is to reassign a freed place.

pub mod access;
pub mod cascade;
pub mod eligibility;
pub mod quotas;
pub mod vouchers;
