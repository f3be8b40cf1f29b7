//! The one escaping rule of the server-rendered pages: askama's escaper for every `.html`
//! template (`askama.toml` names it), so each value a page shows — in text or in a quoted
//! attribute — is escaped without a call in the template or in the handler. It writes the named
//! references the pages have always sent (`&lt;`, `&quot;`) where askama's built-in writes numeric
//! ones (`&#60;`, `&#34;`); browsers read both alike.

use std::fmt;

/// Escapes `&`, `<`, `>`, `"` and `'`: safe in element text and in attribute values quoted with
/// either quote. Not for inside `<script>` or `<style>`, where the templates show no value.
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlText;

impl askama::filters::Escaper for HtmlText {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, text: &str) -> fmt::Result {
        let mut written = 0;
        for (at, byte) in text.bytes().enumerate() {
            let reference = match byte {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            // The five are ASCII, so `at` and `at + 1` are character boundaries.
            dest.write_str(&text[written..at])?;
            dest.write_str(reference)?;
            written = at + 1;
        }
        dest.write_str(&text[written..])
    }
}

#[cfg(test)]
mod tests {
    use askama::filters::Escaper;

    use super::HtmlText;

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        let _ = HtmlText.write_escaped_str(&mut out, text);
        out
    }

    #[test]
    fn the_five_characters_are_escaped_and_nothing_else() {
        assert_eq!(
            escaped(r#"<a href="x">Tom's & 亲子日</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom&#39;s &amp; 亲子日&lt;/a&gt;"
        );
        assert_eq!(escaped("{{ title }} 江门一中"), "{{ title }} 江门一中");
        assert_eq!(escaped(""), "");
    }
}
