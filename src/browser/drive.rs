//! An exchange judged answer by answer, for a caller that talks to a real server (`probe`):
//! the model says what the browser would send next — the preflight, the request, the next
//! redirect hop with its new `Origin` and method — the caller sends exactly that and hands
//! the answer back, until the verdict is complete. Every browser rule stays in the engine;
//! the caller only moves bytes.

use super::browsers::Browser;
use super::engine::{run_driven, Exchange, Missing, WireRequest};
use super::model::{FixContext, RedirectHop, Request, Response, Scenario, Verdict};

/// What the driver does next.
#[derive(Debug)]
pub enum Next {
    /// Send this and give the answer to [`Drive::answer`].
    Send(WireRequest),
    /// The verdict is complete.
    Done(Box<Verdict>),
}

/// One exchange being filled in with real answers.
#[derive(Debug, Clone)]
pub struct Drive {
    scenario: Scenario,
    /// The preflight answer for the hop after the last redirect held, whose own response
    /// has not come yet.
    pending_preflight: Option<Response>,
    ctx: FixContext,
    browser: Browser,
}

impl Drive {
    /// An exchange for `request`, nothing answered yet, as Chromium runs it; fixes are
    /// phrased for `ctx`.
    pub fn new(request: Request, ctx: FixContext) -> Self {
        Drive::new_in(request, ctx, Browser::Chromium)
    }

    /// [`Drive::new`] as `browser` runs the exchange (the preflight's `Origin` after a
    /// redirect, which headers it sends, its words).
    pub fn new_in(request: Request, ctx: FixContext, browser: Browser) -> Self {
        Drive {
            scenario: Scenario::new(request),
            pending_preflight: None,
            ctx,
            browser,
        }
    }

    /// An exchange already answered this far (`scenario`: its preflight, actual response and
    /// redirect hops, and the `prior` exchanges whose preflights the cache holds), to go on
    /// from: the caller that played the first request itself follows its redirects here.
    pub fn resume(scenario: Scenario, ctx: FixContext, browser: Browser) -> Self {
        Drive {
            scenario,
            pending_preflight: None,
            ctx,
            browser,
        }
    }

    /// Phrases the fixes for `ctx` from now on: a redirect may lead into a server whose
    /// policy lives in another file.
    pub fn set_context(&mut self, ctx: FixContext) {
        self.ctx = ctx;
    }

    fn run(&self) -> (Verdict, Option<WireRequest>) {
        let s = &self.scenario;
        let ex = Exchange {
            request: &s.request,
            preflight: s.preflight_response.as_ref(),
            actual: s.actual_response.as_ref(),
            redirects: &s.redirects,
            missing: Missing::Ask,
            next_hop_preflight: self.pending_preflight.as_ref(),
            browser: self.browser,
        };
        run_driven(
            s.id.clone(),
            &ex,
            &mut super::replay_prior(s, &self.ctx, self.browser),
            0.0,
            &self.ctx,
        )
    }

    /// What the browser does next with the answers held so far.
    pub fn next(&self) -> Next {
        match self.run() {
            (_, Some(wire)) => Next::Send(wire),
            (v, None) => Next::Done(Box::new(super::with_cookies(&self.scenario, v))),
        }
    }

    /// Records the answer to `wire` (as [`Next::Send`] gave it).
    pub fn answer(&mut self, wire: &WireRequest, response: Response) {
        match (wire.hop, wire.preflight) {
            (0, true) => self.scenario.preflight_response = Some(response),
            (0, false) => self.scenario.actual_response = Some(response),
            (_, true) => self.pending_preflight = Some(response),
            (_, false) => {
                let preflight_response = self.pending_preflight.take();
                self.scenario.redirects.push(RedirectHop {
                    url: Some(wire.url.clone()),
                    preflight_response,
                    response,
                });
            }
        }
    }

    /// The verdict when the request the browser sent next got no answer at all:
    /// `net_error` is what Chromium's console shows, `sentence` says what happened.
    pub fn failed(&self, net_error: &str, sentence: &str, fix: Option<String>) -> Verdict {
        self.run().0.with_network_error(net_error, sentence, fix)
    }

    /// The exchange as answered so far (for showing the raw answers).
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// A preflight answer at a redirect hop whose request then failed: not part of the
    /// scenario, still worth showing.
    pub fn pending_preflight(&self) -> Option<&Response> {
        self.pending_preflight.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::HeaderList;

    fn response(status: u16, headers: &[(&str, &str)]) -> Response {
        let mut h = HeaderList::new();
        for (n, v) in headers {
            h.push(*n, *v);
        }
        Response { status, headers: h }
    }

    fn send(d: &Drive) -> WireRequest {
        match d.next() {
            Next::Send(w) => w,
            Next::Done(v) => panic!("expected a request, got {v:?}"),
        }
    }

    #[test]
    fn a_cross_origin_redirect_sends_a_second_preflight_with_origin_null() {
        let mut r = Request::new("http://api.test/a", "http://page.test");
        r.method = "PUT".into();
        let mut d = Drive::new(r, FixContext::Generic);
        let w = send(&d);
        assert!(w.preflight && w.hop == 0);
        assert_eq!(w.headers.get("origin").as_deref(), Some("http://page.test"));
        let allow = [
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Allow-Methods", "PUT"),
        ];
        d.answer(&w, response(204, &allow));
        let w = send(&d);
        assert!(!w.preflight && w.method == "PUT" && w.with_body);
        d.answer(
            &w,
            response(
                307,
                &[
                    ("Location", "http://other.test/b"),
                    ("Access-Control-Allow-Origin", "*"),
                ],
            ),
        );
        let w = send(&d);
        assert!(w.preflight && w.hop == 1, "{w:?}");
        assert_eq!(w.url, "http://other.test/b");
        assert_eq!(w.headers.get("origin").as_deref(), Some("null"));
        d.answer(&w, response(204, &allow));
        let w = send(&d);
        assert_eq!((w.hop, w.method.as_str()), (1, "PUT"));
        assert_eq!(w.headers.get("origin").as_deref(), Some("null"));
        d.answer(&w, response(200, &[("Access-Control-Allow-Origin", "*")]));
        match d.next() {
            Next::Done(v) => assert!(v.is_allowed(), "{v:?}"),
            Next::Send(w) => panic!("unexpected {w:?}"),
        }
    }

    #[test]
    fn a_303_turns_a_post_into_a_get_without_its_body() {
        let mut r = Request::new("http://api.test/a", "http://page.test");
        r.method = "POST".into();
        let mut d = Drive::new(r, FixContext::Generic);
        let w = send(&d);
        d.answer(
            &w,
            response(
                303,
                &[("Location", "/b"), ("Access-Control-Allow-Origin", "*")],
            ),
        );
        let w = send(&d);
        assert_eq!((w.method.as_str(), w.with_body), ("GET", false));
        assert!(!w.preflight);
    }

    #[test]
    fn a_failed_request_is_a_network_error() {
        let d = Drive::new(
            Request::new("http://api.test/a", "http://page.test"),
            FixContext::Generic,
        );
        let v = d.failed("net::ERR_CONNECTION_REFUSED", "connection refused", None);
        assert!(!v.is_allowed());
        assert_eq!(v.net_error.as_deref(), Some("net::ERR_CONNECTION_REFUSED"));
        assert!(v.cors_error.is_none());
    }
}
