//! The server-rendered pages: the managers' map and the public event registration page.

pub mod map_page;
pub mod public_page;
