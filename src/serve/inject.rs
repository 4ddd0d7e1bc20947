//! Inserting the live-reload script into HTML. Only whole `text/html` bodies the sandbox reads
//! itself come here (never ranges or compressed files), so Content-Length is simply recomputed.

use std::path::Path;

/// Whether a file is a page the script goes into, by its name (what the browser will get it
/// as: the content type is derived from the same extension, in any case, so `INDEX.HTML`
/// gets the script too).
pub fn is_html(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
}

/// The tag added to every HTML page. External, not inline, so pages with a strict CSP still work.
pub const RELOAD_TAG: &str = r#"<script src="/__sandbox/reload.js"></script>"#;

/// Inserts the tag before the last `</body>` (any case), or appends it when there is none.
/// The page is searched in place, never copied to find the tag.
pub fn inject(html: &[u8]) -> Vec<u8> {
    let pos = html
        .windows(b"</body>".len())
        .rposition(|w| w.eq_ignore_ascii_case(b"</body>"))
        .unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + RELOAD_TAG.len());
    out.extend_from_slice(&html[..pos]);
    out.extend_from_slice(RELOAD_TAG.as_bytes());
    out.extend_from_slice(&html[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn before_last_body_close() {
        let out = inject(b"<html><BODY>x</BODY></html>");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("<html><BODY>x{RELOAD_TAG}</BODY></html>")
        );
        let out = inject(b"<p>no body");
        assert!(String::from_utf8(out).unwrap().ends_with(RELOAD_TAG));
        let out = inject("é</body>".as_bytes());
        assert!(String::from_utf8(out).unwrap().starts_with("é<script"));
    }
}
