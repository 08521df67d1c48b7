//! The enrollment rules, without I/O: who may do what, why an application
//! can be withdrawn, which voucher blocks it spends, what makes a route.

pub mod access;
pub mod routes;
pub mod vouchers;
pub mod withdrawal;
