//! Request guards that run before routing on every origin.
//!
//! The host allowlist (DNS rebinding: a page on evil.example re-pointed at 127.0.0.1 still
//! sends `Host: evil.example`; the list itself is [`crate::config::HostAllowlist`]), and the
//! same-origin rule for `/__sandbox/*` (Origin and
//! Sec-Fetch-Site), so no other site can read the event stream or status.

use actix_web::http::header::{HeaderMap, HOST, ORIGIN, REFERER};

/// True when a request to `/__sandbox/*` comes from a page of this same origin (or is a
/// direct navigation / non-browser client, which sends neither header).
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.to_str(), Ok("same-origin") | Ok("none")) {
            return false;
        }
    }
    match headers.get(ORIGIN) {
        None => true,
        Some(o) => {
            let (Ok(o), Some(Ok(host))) = (o.to_str(), headers.get(HOST).map(|h| h.to_str()))
            else {
                return false;
            };
            o != "null" && (o == format!("http://{host}") || o == format!("https://{host}"))
        }
    }
}

/// True for a cross-site `no-cors` load (`<script src>`, `<link rel=stylesheet>`, `<img>`):
/// classic scripts ignore the same-origin policy, so a page elsewhere could run a developer's
/// bundle and read its globals (webpack-dev-server CVE-2025-30359). Such loads have no
/// business on a dev server's static origin; navigations (`navigate`) and same-site pages are
/// unaffected, and clients that send no Fetch metadata are let through. So are loads whose
/// `Referer` is a page of this very origin: a sandboxed iframe of the developer's own page
/// has an opaque origin, which makes its loads "cross-site", but browsers still send the
/// page's origin as Referer, and a foreign page cannot forge one.
pub fn cross_site_no_cors(headers: &HeaderMap) -> bool {
    let is = |name: &str, want: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(want))
    };
    is("sec-fetch-site", "cross-site")
        && is("sec-fetch-mode", "no-cors")
        && !referred_by_this_origin(headers)
}

/// Whether `Referer` names a page whose host and port are exactly this request's `Host`.
fn referred_by_this_origin(headers: &HeaderMap) -> bool {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(referer), Some(host)) = (get(REFERER), get(HOST)) else {
        return false;
    };
    let Some(rest) = referer
        .strip_prefix("http://")
        .or_else(|| referer.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !authority.is_empty() && authority.eq_ignore_ascii_case(host.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn same_origin_rule() {
        assert!(same_origin(&headers(&[("host", "localhost:8080")])));
        assert!(same_origin(&headers(&[
            ("host", "localhost:8080"),
            ("origin", "http://localhost:8080"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "localhost:8080"),
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "localhost:8080"),
            ("origin", "null")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "localhost:8080"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "localhost:8080"),
            ("sec-fetch-site", "same-site")
        ])));
    }

    #[test]
    fn cross_site_no_cors_rule() {
        let h = |site, mode| headers(&[("sec-fetch-site", site), ("sec-fetch-mode", mode)]);
        assert!(cross_site_no_cors(&h("cross-site", "no-cors")));
        assert!(cross_site_no_cors(&h("Cross-Site", "NO-CORS")));
        assert!(!cross_site_no_cors(&h("cross-site", "navigate")));
        assert!(!cross_site_no_cors(&h("cross-site", "cors")));
        assert!(!cross_site_no_cors(&h("same-site", "no-cors")));
        assert!(!cross_site_no_cors(&h("same-origin", "no-cors")));
        assert!(!cross_site_no_cors(&headers(&[])));
        let with_referer = |r| {
            headers(&[
                ("host", "localhost:8080"),
                ("sec-fetch-site", "cross-site"),
                ("sec-fetch-mode", "no-cors"),
                ("referer", r),
            ])
        };
        // A sandboxed iframe of this origin's own page.
        assert!(!cross_site_no_cors(&with_referer("http://localhost:8080/")));
        assert!(!cross_site_no_cors(&with_referer(
            "http://LOCALHOST:8080/a/b.html?x"
        )));
        for foreign in [
            "http://evil.example/",
            "http://localhost:8081/",
            "http://localhost/",
            "http://localhost:8080.evil.example/",
            "http://localhost:8080@evil.example/",
            "localhost:8080",
            "",
        ] {
            assert!(cross_site_no_cors(&with_referer(foreign)), "{foreign}");
        }
    }
}
