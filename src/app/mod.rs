//! The program: the command line, the server's assembly, and logging. Everything is wired here;
//! nothing in the crate imports `app` (only `main.rs`, the tests and the benches do).

pub mod cli;
pub mod startup;
pub mod telemetry;
