//! Business rules, one module per capability. No HTTP and no SQL here: functions take plain
//! values and a store connection, and answer with [`DomainError`].

pub mod actor;
pub mod error;
pub mod org_units;
pub mod password;
pub mod phone;
pub mod role;
pub mod text;
pub mod users;

pub use actor::{Actor, Scope};
pub use error::{DomainError, FieldErrors};
pub use phone::Phone;
pub use role::Role;
