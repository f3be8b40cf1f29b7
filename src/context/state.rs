//! The application's state: built once at start from the settings (`app::startup`), shared by
//! every HTTP worker and handed to the one-shot commands, the demo and the bench seeder.

use std::sync::Arc;

use crate::auth::AuthService;
use crate::context::config::Settings;
use crate::store::Db;

/// What every handler can reach: built once at start, shared by all workers.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub auth: AuthService,
    pub settings: Arc<Settings>,
    pub media: crate::media::Pipeline,
    /// Throttle of the public registration endpoints (keyed by event code and client address).
    pub public_throttle: crate::auth::LoginThrottle,
    /// The outreach map's in-memory index (see `domain::map`).
    pub map: Arc<crate::domain::map::MapIndex>,
    /// The font of the showcase card, parsed once.
    pub card_font: crate::media::card::CardFont,
}
