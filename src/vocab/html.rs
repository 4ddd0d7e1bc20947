//! HTML escaping for text the sandbox echoes into pages it writes (404 pages, fixture pages).

/// `s` with the five characters that can end a text node or an attribute value escaped.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_what_could_leave_text_or_an_attribute() {
        assert_eq!(
            super::html_escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
