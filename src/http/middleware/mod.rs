//! Request plumbing wrapped around every route: body deadlines, security headers, request logs
//! without personal data, and the response tap the tests install.

pub mod deadline;
pub mod logging;
pub mod security;
pub mod tap;
