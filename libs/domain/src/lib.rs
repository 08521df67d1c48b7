//! Shared value types of the PD platform: identifiers that are parsed once
//! (SNILS, INN), roles and their scopes, and the error type every service
//! answers with.

pub mod bounds;
pub mod csv_text;
pub mod dates;
pub mod error;
pub mod inn;
pub mod request;
pub mod roles;
pub mod snils;
pub mod unique_number;

pub use error::{AppError, ErrorKind, FieldError};
pub use inn::Inn;
pub use roles::{Grant, Principal, Role};
pub use snils::Snils;
