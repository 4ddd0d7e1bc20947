//! Secure contexts and mixed content, which Chromium applies before CORS is asked: an
//! `https:` page may not fetch a URL that is not potentially trustworthy (W3C Secure Contexts
//! §3.1, Mixed Content §4); `localhost`, `*.localhost` and loopback addresses are trustworthy
//! even over plain HTTP, which is why a local `http://localhost` API works from an https page.

use super::url::{Origin, Url};

/// A loopback host name as Chromium treats it (`localhost`, `*.localhost`, 127/8, `[::1]`).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Secure Contexts "potentially trustworthy URL".
pub fn potentially_trustworthy(url: &Url) -> bool {
    matches!(url.scheme.as_str(), "https" | "wss" | "file") || is_loopback_host(&url.host)
}

/// Whether a fetch from a page of `page` to `url` is blocked as mixed content (as Chromium
/// and Firefox judge it; WebKit: `is_mixed_content_in` with `loopback_trusted` false).
pub fn is_mixed_content(page: &Origin, url: &Url) -> bool {
    is_mixed_content_in(page, url, true)
}

/// [`is_mixed_content`] for an engine that does (`loopback_trusted`) or does not (WebKit)
/// count plain http to a loopback name as potentially trustworthy.
pub fn is_mixed_content_in(page: &Origin, url: &Url, loopback_trusted: bool) -> bool {
    let trusted = if loopback_trusted {
        potentially_trustworthy(url)
    } else {
        matches!(url.scheme.as_str(), "https" | "wss" | "file")
    };
    matches!(page, Origin::Tuple { scheme, .. } if scheme == "https") && !trusted
}

/// Chromium's console line; it names the page's URL, which the model knows only as the
/// page's origin (a page at its root prints exactly this).
pub fn mixed_content_message(page_origin: &str, url: &str) -> String {
    format!(
        "Mixed Content: The page at '{page_origin}/' was loaded over HTTPS, but requested an \
         insecure resource '{url}'. This request has been blocked; the content must be served \
         over HTTPS."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_trustworthy_and_other_http_is_mixed() {
        let page = Origin::parse("https://app.example").unwrap();
        let mixed = |u: &str| is_mixed_content(&page, &Url::parse(u).unwrap());
        assert!(mixed("http://api.example/x"));
        assert!(!mixed("https://api.example/x"));
        assert!(!mixed("http://localhost:3000/x"));
        assert!(!mixed("http://lahore-api.localhost:3000/x"));
        assert!(!mixed("http://127.0.0.1:3000/x"));
        assert!(!mixed("http://[::1]:3000/x"));
        let http_page = Origin::parse("http://app.example").unwrap();
        assert!(!is_mixed_content(
            &http_page,
            &Url::parse("http://api.example/").unwrap()
        ));
    }
}
