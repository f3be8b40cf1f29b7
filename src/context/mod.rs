//! What the server and the one-shot commands run with: the settings read from the environment,
//! the [`state::AppState`] built from them (every handler and command is handed one), and the
//! users created outside the API.

pub mod bootstrap;
pub mod config;
pub mod state;
