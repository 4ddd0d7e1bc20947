//! The cookie verdicts of one exchange the API answered, for its journal entry: what the
//! browser does with each `Set-Cookie` line the API sent (kept in the state's inferred jar
//! when stored), and, for a page's request, each cookie the jar holds that the request
//! should have carried and did not, with the reason and the fix. A response to a request
//! without `Origin` (the user opened an API URL, or a same-origin fetch) sets first-party
//! cookies: exactly the ones a cross-site page later fails to send.

use actix_web::http::header::{self, HeaderMap};
use actix_web::HttpRequest;

use crate::browser::{
    judge_cookies, CookieAction, CookieOutcome, CookieVerdict, Credentials, HeaderList, Request,
    Response, Scenario, Url,
};
use crate::state::cookie_jar::InferredJar;

/// The cookie verdicts for the exchange, updating `jar`. Costs nothing while the response
/// sets no cookie and the jar is empty.
pub fn cookie_notes(
    jar: &InferredJar,
    req: &HttpRequest,
    api_url: &str,
    status: u16,
    response: &HeaderMap,
    preflight: bool,
) -> Vec<CookieVerdict> {
    let lines: Vec<String> = response
        .get_all(header::SET_COOKIE)
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    // A preflight never carries or stores cookies.
    if preflight || (lines.is_empty() && !jar.maybe_holds()) {
        return Vec::new();
    }
    let page = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let url = format!("{api_url}{}", req.uri());
    let Some(parsed) = Url::parse(&url) else {
        return Vec::new();
    };
    let first_party = page.is_none();
    let origin = page.unwrap_or_else(|| parsed.origin().serialize());
    let mut request = Request::new(&url, &origin);
    request.method = req.method().as_str().to_owned();
    request.credentials = Credentials::Include;
    let mut scenario = Scenario::new(request);
    if !first_party {
        scenario.cookies = jar.snapshot();
    }
    let mut headers = HeaderList::new();
    for l in &lines {
        headers.push("Set-Cookie", l.clone());
    }
    scenario.actual_response = Some(Response { status, headers });
    let (verdicts, _) = judge_cookies(&scenario, crate::browser::Browser::Chromium);
    jar.apply(&scenario, &verdicts);
    let carried = carried_names(req);
    verdicts
        .into_iter()
        .filter_map(|v| match v.action {
            CookieAction::Store => Some(v),
            CookieAction::Send => missing(v, &carried),
        })
        .collect()
}

/// The cookie names the request carried.
fn carried_names(req: &HttpRequest) -> Vec<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.split('=').next())
        .map(|n| n.trim().to_owned())
        .collect()
}

/// A send verdict worth a journal line: a cookie of this host the request did not carry.
fn missing(v: CookieVerdict, carried: &[String]) -> Option<CookieVerdict> {
    if carried.contains(&v.name) || v.blocked_reasons.iter().any(|r| r == "DomainMismatch") {
        return None;
    }
    if v.outcome == CookieOutcome::NotSent {
        let reason = v.reason.replacen(
            "not sent: ",
            "the request did not carry it (this API set it earlier): ",
            1,
        );
        return Some(CookieVerdict { reason, ..v });
    }
    Some(CookieVerdict {
        outcome: CookieOutcome::NotSent,
        reason: "the request did not carry it: this API set it earlier, and the browser keeps \
                 and sends it to this request only for a fetch with `credentials: 'include'` \
                 (the page's fetch uses the default 'same-origin', or 'omit')"
            .to_owned(),
        fix: Some(
            "pass `credentials: 'include'` to fetch() (XMLHttpRequest: `withCredentials = true`)"
                .to_owned(),
        ),
        ..v
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use actix_web::test::TestRequest;

    const API: &str = "http://localhost:3000";

    fn set_cookie(lines: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for l in lines {
            h.append(
                HeaderName::from_static("set-cookie"),
                HeaderValue::from_str(l).unwrap(),
            );
        }
        h
    }

    #[test]
    fn a_first_party_cookie_is_missed_by_a_cross_site_page() {
        let jar = InferredJar::default();
        let login = TestRequest::get().uri("/login").to_http_request();
        let notes = cookie_notes(
            &jar,
            &login,
            API,
            200,
            &set_cookie(&["sid=1; Path=/"]),
            false,
        );
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].outcome, CookieOutcome::Stored);
        let page = TestRequest::get()
            .uri("/api/me")
            .insert_header(("Origin", "http://karachi-dev.localhost:8080"))
            .to_http_request();
        let notes = cookie_notes(&jar, &page, API, 401, &HeaderMap::new(), false);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].name, "sid");
        assert_eq!(
            notes[0].blocked_reasons,
            [
                "SchemefulSameSiteUnspecifiedTreatedAsLax",
                "UserPreferences"
            ]
        );
        assert!(notes[0].reason.starts_with("the request did not carry it"));
    }

    #[test]
    fn a_same_site_request_without_the_cookie_is_told_about_credentials() {
        let jar = InferredJar::default();
        let login = TestRequest::get().uri("/login").to_http_request();
        cookie_notes(&jar, &login, API, 200, &set_cookie(&["sid=1"]), false);
        let page = TestRequest::get()
            .uri("/me")
            .insert_header(("Origin", "http://localhost:8080"))
            .to_http_request();
        let notes = cookie_notes(&jar, &page, API, 401, &HeaderMap::new(), false);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("credentials: 'include'"));
        let with = TestRequest::get()
            .uri("/me")
            .insert_header(("Origin", "http://localhost:8080"))
            .insert_header(("Cookie", "sid=1"))
            .to_http_request();
        assert!(cookie_notes(&jar, &with, API, 200, &HeaderMap::new(), false).is_empty());
        // An expired line empties the jar.
        cookie_notes(
            &jar,
            &login,
            API,
            200,
            &set_cookie(&["sid=; Max-Age=0"]),
            false,
        );
        assert!(cookie_notes(&jar, &page, API, 401, &HeaderMap::new(), false).is_empty());
    }

    #[test]
    fn nothing_to_say_costs_nothing() {
        let jar = InferredJar::default();
        let page = TestRequest::get()
            .uri("/me")
            .insert_header(("Origin", "http://localhost:8080"))
            .to_http_request();
        assert!(cookie_notes(&jar, &page, API, 200, &HeaderMap::new(), false).is_empty());
        assert!(!jar.maybe_holds());
    }
}
