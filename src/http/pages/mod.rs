//! The server-rendered pages: the managers' map and the public event registration page. Their
//! HTML is askama templates in `templates/`, which escape every value with [`html::HtmlText`].

pub mod html;
pub mod map_page;
pub mod public_page;
