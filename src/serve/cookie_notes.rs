//! The cookie verdicts of one exchange the API answered, for its journal entry: what the
//! browser does with each `Set-Cookie` line the API sent (kept in the state's inferred jar
//! when stored), and, for a page's request, each cookie the jar holds that the request
//! should have carried and did not, with the reason and the fix. A response to a request
//! without `Origin` (the user opened an API URL, or a same-origin fetch) sets first-party
//! cookies: exactly the ones a cross-site page later fails to send.

use std::collections::BTreeMap;

use actix_web::http::header::{self, HeaderMap};
use actix_web::HttpRequest;

use crate::browser::{
    judge_cookies, Browser, CookieAction, CookieOutcome, CookieVerdict, Credentials, HeaderList,
    Request, Response, Scenario, Url,
};
use crate::state::cookie_jar::InferredJar;

/// What the journal says about one exchange's cookies.
#[derive(Debug, Default, PartialEq)]
pub struct CookieNotes {
    /// Chromium's verdicts.
    pub chromium: Vec<CookieVerdict>,
    /// The other engines' verdicts, for each engine whose differ from Chromium's: "the
    /// cookie works in Firefox, not in Chrome" is the report this answers.
    pub elsewhere: BTreeMap<Browser, Vec<CookieVerdict>>,
    /// The names of the cookies the request carried (never their values).
    pub carried: Vec<String>,
}

/// The cookie verdicts for the exchange in each engine, updating its jar in `jar`. Costs
/// nothing while the response sets no cookie, the jars are empty and the request carries
/// none.
pub fn cookie_notes(
    jar: &InferredJar,
    req: &HttpRequest,
    api_url: &str,
    status: u16,
    response: &HeaderMap,
    preflight: bool,
) -> CookieNotes {
    let carried = carried_names(req);
    let lines: Vec<String> = response
        .get_all(header::SET_COOKIE)
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    // A preflight never carries or stores cookies.
    if preflight || (lines.is_empty() && !jar.maybe_holds()) {
        return CookieNotes {
            carried,
            ..CookieNotes::default()
        };
    }
    let page = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let url = format!("{api_url}{}", req.uri());
    let Some(parsed) = Url::parse(&url) else {
        return CookieNotes {
            carried,
            ..CookieNotes::default()
        };
    };
    let first_party = page.is_none();
    let origin = page.unwrap_or_else(|| parsed.origin().serialize());
    let mut request = Request::new(&url, &origin);
    request.method = req.method().as_str().to_owned();
    request.credentials = Credentials::Include;
    let mut base = Scenario::new(request);
    let mut headers = HeaderList::new();
    for l in &lines {
        headers.push("Set-Cookie", l.clone());
    }
    base.actual_response = Some(Response { status, headers });
    // Only the engine that made the request can be said not to have sent a cookie; the
    // others are told what they would do.
    let sender = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(Browser::from_user_agent)
        .unwrap_or_default();
    let mut judged = Browser::ALL.map(|browser| {
        let mut scenario = base.clone();
        if !first_party {
            scenario.cookies = jar.snapshot(browser);
        }
        let (verdicts, _) = judge_cookies(&scenario, browser);
        jar.apply(browser, &scenario, &verdicts);
        let notes: Vec<CookieVerdict> = verdicts
            .into_iter()
            .filter_map(|v| match v.action {
                CookieAction::Store => Some(v),
                CookieAction::Send if browser == sender => missing(v, &carried),
                CookieAction::Send => elsewhere(v, &carried),
            })
            .collect();
        (browser, notes)
    });
    let chromium = std::mem::take(&mut judged[0].1);
    let elsewhere = judged
        .into_iter()
        .skip(1)
        .filter(|(_, notes)| !same_outcomes(notes, &chromium))
        .collect();
    CookieNotes {
        chromium,
        elsewhere,
        carried,
    }
}

/// Whether two engines' notes say the same of the same cookies (their words may differ).
fn same_outcomes(a: &[CookieVerdict], b: &[CookieVerdict]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.name == y.name && x.action == y.action && x.outcome == y.outcome)
}

/// The cookie names the request carried.
fn carried_names(req: &HttpRequest) -> Vec<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.split('=').next())
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

/// Another engine's send verdict worth a line: what it would do with a cookie of this host
/// the request did not carry.
fn elsewhere(v: CookieVerdict, carried: &[String]) -> Option<CookieVerdict> {
    let foreign = v.blocked_reasons.iter().any(|r| r == "DomainMismatch");
    (!carried.contains(&v.name) && !foreign).then_some(v)
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
        )
        .chromium;
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].outcome, CookieOutcome::Stored);
        let page = TestRequest::get()
            .uri("/api/me")
            .insert_header(("Origin", "http://karachi-dev.localhost:8080"))
            .to_http_request();
        let notes = cookie_notes(&jar, &page, API, 401, &HeaderMap::new(), false).chromium;
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
        let notes = cookie_notes(&jar, &page, API, 401, &HeaderMap::new(), false).chromium;
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
        assert!(
            cookie_notes(&jar, &with, API, 200, &HeaderMap::new(), false)
                .chromium
                .is_empty()
        );
        // An expired line empties the jar.
        cookie_notes(
            &jar,
            &login,
            API,
            200,
            &set_cookie(&["sid=; Max-Age=0"]),
            false,
        );
        assert!(
            cookie_notes(&jar, &page, API, 401, &HeaderMap::new(), false)
                .chromium
                .is_empty()
        );
    }

    #[test]
    fn nothing_to_say_costs_nothing() {
        let jar = InferredJar::default();
        let page = TestRequest::get()
            .uri("/me")
            .insert_header(("Origin", "http://localhost:8080"))
            .to_http_request();
        assert!(
            cookie_notes(&jar, &page, API, 200, &HeaderMap::new(), false)
                .chromium
                .is_empty()
        );
        assert!(!jar.maybe_holds());
    }

    const CHROME_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
    const FIREFOX_UA: &str =
        "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";

    fn page_request(path: &str, ua: &str) -> TestRequest {
        TestRequest::get()
            .uri(path)
            .insert_header(("Origin", "http://karachi-dev.localhost:8080"))
            .insert_header(("User-Agent", ua))
    }

    #[test]
    fn each_engine_keeps_its_own_jar_and_only_the_sender_is_said_not_to_carry() {
        const CROSS_SITE_API: &str = "http://lahore-api.localhost:3000";
        let jar = InferredJar::default();
        let login = page_request("/api/login", CHROME_UA).to_http_request();
        let set = set_cookie(&["sid=1; Path=/; SameSite=None; Secure"]);
        let notes = cookie_notes(&jar, &login, CROSS_SITE_API, 200, &set, false);
        // Chromium and WebKit block the third-party cookie; Firefox partitions it.
        assert_eq!(notes.chromium[0].outcome, CookieOutcome::Rejected);
        assert_eq!(
            notes.elsewhere.keys().copied().collect::<Vec<_>>(),
            [Browser::Firefox],
            "{notes:?}"
        );
        assert_eq!(
            notes.elsewhere[&Browser::Firefox][0].outcome,
            CookieOutcome::StoredPartitioned
        );

        // Chrome's next request carries nothing, as Chrome's jar says: no line for Chromium,
        // and Firefox would have sent it.
        let me = page_request("/api/me", CHROME_UA).to_http_request();
        let notes = cookie_notes(&jar, &me, CROSS_SITE_API, 200, &HeaderMap::new(), false);
        assert!(notes.chromium.is_empty(), "{notes:?}");
        let firefox = &notes.elsewhere[&Browser::Firefox];
        assert_eq!(firefox[0].outcome, CookieOutcome::Sent, "{notes:?}");

        // The same request from Firefox without the cookie: Firefox is the one that did not
        // carry it.
        let me = page_request("/api/me", FIREFOX_UA).to_http_request();
        let notes = cookie_notes(&jar, &me, CROSS_SITE_API, 200, &HeaderMap::new(), false);
        let firefox = &notes.elsewhere[&Browser::Firefox];
        assert_eq!(firefox[0].outcome, CookieOutcome::NotSent, "{notes:?}");
        assert!(firefox[0]
            .reason
            .starts_with("the request did not carry it"));

        // Carried: nothing to say in any engine, and the name is noted.
        let me = page_request("/api/me", FIREFOX_UA)
            .insert_header(("Cookie", "sid=1; theme=dark"))
            .to_http_request();
        let notes = cookie_notes(&jar, &me, CROSS_SITE_API, 200, &HeaderMap::new(), false);
        assert!(
            notes.chromium.is_empty() && notes.elsewhere.is_empty(),
            "{notes:?}"
        );
        assert_eq!(notes.carried, ["sid", "theme"]);
    }
}
