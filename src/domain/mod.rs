//! Business rules, one folder per capability ([`org`], [`field`], [`events`], [`projects`],
//! [`supervision`], [`map`]) over a shared vocabulary ([`common`], [`kinds`]) that imports none of
//! them; [`sync`] spans field work and supervision. No HTTP and no SQL here: functions take plain
//! values and a store connection, and answer with [`DomainError`]. The four types everyone names
//! are re-exported here.

pub mod common;
pub mod events;
pub mod field;
pub mod kinds;
pub mod map;
pub mod org;
pub mod projects;
pub mod supervision;
pub mod sync;

pub use common::actor::{Actor, Scope};
pub use common::error::{DomainError, FieldErrors};
pub use common::error_code::ErrorCode;
pub use common::phone::Phone;
pub use kinds::role::Role;
