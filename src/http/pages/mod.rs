//! The server-rendered pages: the managers' map and the public event registration page. Their
//! HTML is askama templates in `templates/`, which escape every value with askama's own HTML escaper.

pub mod map_page;
pub mod public_page;
