//! Request guards that run before routing on every origin.
//!
//! The host allowlist (DNS rebinding: a page on evil.example re-pointed at 127.0.0.1 still
//! sends `Host: evil.example`; the list itself is [`crate::config::HostAllowlist`]), and the
//! same-origin rule for `/__sandbox/*` (Origin and
//! Sec-Fetch-Site), so no other site can read the event stream or status, and the refusal of
//! other pages' `no-cors` loads of a static origin's files.

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

/// True for a `no-cors` load by another site's page (`<script src>`, `<link rel=stylesheet>`,
/// `<img>`), or a script or stylesheet load by a page on another port of this host: classic
/// scripts ignore the same-origin policy, so a page elsewhere could run a developer's bundle
/// and read its globals (webpack-dev-server CVE-2025-30359). `localhost:5173` loading
/// `localhost:8080/app.js` is `same-site` (sites ignore ports), hence the second rule; a
/// same-site image reveals nothing a page can read, so images stay allowed there.
/// Navigations (`navigate`) and `cors` fetches are unaffected, and clients that send no Fetch
/// metadata are let through. So are loads whose `Referer` is a page of this very origin: a
/// sandboxed iframe of the developer's own page has an opaque origin, which makes its loads
/// "cross-site", but browsers still send the page's origin as Referer, and a foreign page
/// cannot forge one.
pub fn foreign_no_cors_load(headers: &HeaderMap) -> bool {
    let is = |name: &str, want: &[&str]| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| want.iter().any(|w| v.trim().eq_ignore_ascii_case(w)))
    };
    let foreign = is("sec-fetch-site", &["cross-site"])
        || (is("sec-fetch-site", &["same-site"]) && is("sec-fetch-dest", &["script", "style"]));
    foreign && is("sec-fetch-mode", &["no-cors"]) && !referred_by_this_origin(headers)
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
    fn foreign_no_cors_load_rule() {
        let h = |site, mode| headers(&[("sec-fetch-site", site), ("sec-fetch-mode", mode)]);
        assert!(foreign_no_cors_load(&h("cross-site", "no-cors")));
        assert!(foreign_no_cors_load(&h("Cross-Site", "NO-CORS")));
        assert!(!foreign_no_cors_load(&h("cross-site", "navigate")));
        assert!(!foreign_no_cors_load(&h("cross-site", "cors")));
        assert!(!foreign_no_cors_load(&h("same-site", "no-cors")));
        assert!(!foreign_no_cors_load(&h("same-origin", "no-cors")));
        assert!(!foreign_no_cors_load(&headers(&[])));
        let same_site = |dest| {
            headers(&[
                ("sec-fetch-site", "same-site"),
                ("sec-fetch-mode", "no-cors"),
                ("sec-fetch-dest", dest),
            ])
        };
        assert!(foreign_no_cors_load(&same_site("script")));
        assert!(foreign_no_cors_load(&same_site("Style")));
        assert!(!foreign_no_cors_load(&same_site("image")));
        assert!(!foreign_no_cors_load(&same_site("document")));
        let with_referer = |r| {
            headers(&[
                ("host", "localhost:8080"),
                ("sec-fetch-site", "cross-site"),
                ("sec-fetch-mode", "no-cors"),
                ("referer", r),
            ])
        };
        // A sandboxed iframe of this origin's own page.
        assert!(!foreign_no_cors_load(&with_referer(
            "http://localhost:8080/"
        )));
        assert!(!foreign_no_cors_load(&with_referer(
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
            assert!(foreign_no_cors_load(&with_referer(foreign)), "{foreign}");
        }
    }
}
