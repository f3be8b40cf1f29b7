//! Authentication: password hashing, access tokens (JWT), refresh-token rotation, login throttling,
//! and the login / refresh / logout flows that combine them.

pub mod error;
pub mod password;
pub mod refresh;
pub mod service;
pub mod standing;
pub mod throttle;
pub mod tokens;

pub use error::AuthError;
pub use password::{HashCost, PasswordHasher};
pub use service::{AuthService, Session};
pub use standing::Standing;
pub use throttle::{LoginLimits, LoginThrottle};
pub use tokens::{TokenError, TokenKeys};
