//! A cookie jar the model keeps between exchanges: what each judged `Set-Cookie` line left
//! in the browser (stored, replaced, deleted), so the next scenario's held cookies are the
//! ones a real browser would hold. Names and attributes only; values are never kept.

use super::super::cookie_model::{CookieAction, CookieOutcome, CookieVerdict, HeldCookie};
use super::super::model::Scenario;
use super::super::site::{registrable_domain, Site};
use super::super::url::{Origin, Url};
use super::rules::default_path;
use super::set_cookie::SetCookie;
use super::{request_path, set_cookie_lines};

/// More than a dev session sets; the oldest go first.
const CAPACITY: usize = 64;

/// The cookies held, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieJar(Vec<HeldCookie>);

impl CookieJar {
    /// An empty jar.
    pub fn new() -> Self {
        Self::default()
    }

    /// What the jar holds, oldest first.
    pub fn cookies(&self) -> &[HeldCookie] {
        &self.0
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Applies the store verdicts `verdicts` (as [`super::judge_cookies`] gave them for
    /// `s`) to the jar: each stored line takes its slot, each expired one empties it.
    pub fn apply(&mut self, s: &Scenario, verdicts: &[CookieVerdict]) {
        let (Some(url), Some(page)) =
            (Url::parse(&s.request.url), Origin::parse(&s.request.origin))
        else {
            return;
        };
        let lines = set_cookie_lines(s);
        let parsed = lines.iter().filter_map(|l| SetCookie::parse(l));
        let stores = verdicts.iter().filter(|v| v.action == CookieAction::Store);
        for (c, v) in parsed.zip(stores) {
            let held = held_from(&c, &url, &page, v.outcome);
            match v.outcome {
                CookieOutcome::Stored | CookieOutcome::StoredPartitioned => self.store(held),
                CookieOutcome::Deleted => self.delete(&held),
                _ => {}
            }
        }
    }

    fn store(&mut self, cookie: HeldCookie) {
        self.delete(&cookie);
        if self.0.len() >= CAPACITY {
            self.0.remove(0);
        }
        self.0.push(cookie);
    }

    fn delete(&mut self, cookie: &HeldCookie) {
        self.0.retain(|c| !same_slot(c, cookie));
    }
}

fn same_slot(a: &HeldCookie, b: &HeldCookie) -> bool {
    a.name == b.name
        && a.domain == b.domain
        && a.path == b.path
        && a.partitioned == b.partitioned
        && a.partition_site == b.partition_site
}

/// The cookie a `Set-Cookie` line from `url` leaves in the jar, for a page at `page`.
fn held_from(c: &SetCookie, url: &Url, page: &Origin, outcome: CookieOutcome) -> HeldCookie {
    let path = c
        .path
        .clone()
        .unwrap_or_else(|| default_path(request_path(&url.rest)).to_owned());
    let domain = match &c.domain {
        // A Domain naming the host makes a domain cookie, unless the host is itself a public
        // suffix (`localhost`): then it stays host-only, as Chromium keeps it.
        Some(d) if !(d == &url.host && registrable_domain(d).is_none()) => format!(".{d}"),
        _ => url.host.clone(),
    };
    let partitioned = outcome == CookieOutcome::StoredPartitioned;
    HeldCookie {
        name: c.name.clone(),
        value: String::new(),
        domain: Some(domain),
        path,
        secure: c.secure,
        http_only: c.http_only,
        same_site: c.same_site,
        partitioned,
        partition_site: partitioned
            .then(|| Site::of_origin(page))
            .flatten()
            .map(|s| s.0),
    }
}

#[cfg(test)]
mod tests {
    use super::super::judge_cookies;
    use super::*;
    use crate::browser::{Credentials, Request, Response};

    fn exchange(url: &str, origin: &str, set: &[&str], jar: &CookieJar) -> Scenario {
        let mut r = Request::new(url, origin);
        r.credentials = Credentials::Include;
        let mut s = Scenario::new(r);
        let mut resp = Response::new(200);
        for l in set {
            resp.headers.push("Set-Cookie", *l);
        }
        s.actual_response = Some(resp);
        s.cookies = jar.cookies().to_vec();
        s
    }

    #[test]
    fn lines_joined_by_newlines_are_judged_one_by_one() {
        let s = exchange(
            "http://localhost:3000/api/login",
            "http://localhost:8080",
            &["sid=1; Path=/\nbad=1; SameSite=None\r\ntheme=dark"],
            &CookieJar::new(),
        );
        let (v, _) = judge_cookies(&s, crate::browser::Browser::Chromium);
        let got: Vec<(&str, CookieOutcome)> =
            v.iter().map(|c| (c.name.as_str(), c.outcome)).collect();
        assert_eq!(
            got,
            [
                ("sid", CookieOutcome::Stored),
                ("bad", CookieOutcome::Rejected),
                ("theme", CookieOutcome::Stored)
            ]
        );
        let mut jar = CookieJar::new();
        jar.apply(&s, &v);
        assert_eq!(jar.cookies().len(), 2);
    }

    #[test]
    fn stored_lines_fill_the_jar_and_the_next_request_sends_them() {
        let mut jar = CookieJar::new();
        let s = exchange(
            "http://localhost:3000/api/login",
            "http://localhost:8080",
            &[
                "sid=1",
                "bad=1; SameSite=None",
                "p=1; SameSite=None; Secure; Partitioned",
            ],
            &jar,
        );
        let (v, _) = judge_cookies(&s, crate::browser::Browser::Chromium);
        jar.apply(&s, &v);
        let names: Vec<(&str, &str, bool)> = jar
            .cookies()
            .iter()
            .map(|c| (c.name.as_str(), c.path.as_str(), c.partitioned))
            .collect();
        assert_eq!(names, [("sid", "/api", false), ("p", "/api", true)]);
        let next = exchange(
            "http://localhost:3000/api/me",
            "http://localhost:8080",
            &[],
            &jar,
        );
        let (v, _) = judge_cookies(&next, crate::browser::Browser::Chromium);
        assert!(v.iter().all(|c| c.outcome == CookieOutcome::Sent), "{v:?}");
        let gone = exchange(
            "http://localhost:3000/api/logout",
            "http://localhost:8080",
            &["sid=; Max-Age=0"],
            &jar,
        );
        let (v, _) = judge_cookies(&gone, crate::browser::Browser::Chromium);
        jar.apply(&gone, &v);
        assert_eq!(jar.cookies().len(), 1);
    }
}
