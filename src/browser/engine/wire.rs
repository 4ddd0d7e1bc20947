//! A driven exchange: instead of judging a missing response as missing, the engine stops
//! there and says what the browser would send next, so `probe` can send exactly that, add
//! the answer and ask again. The browser's rules stay in the engine; the driver only moves
//! bytes.

use super::super::model::{Credentials, HeaderList, PreflightRequest};
use super::super::request::access_control_request_headers;
use super::Run;

/// What the engine does on reaching a response the exchange does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// The scenario is incomplete: judge what is there and note the gap.
    Note,
    /// Only the preflight is being judged (a server saw it and nothing after it yet), so a
    /// missing actual response is expected and not worth a note.
    PreflightOnly,
    /// A driver (probe) is collecting the answers one by one: stop and say what the browser
    /// would send next.
    Ask,
}

/// What a driven exchange needs next: the request the browser would put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRequest {
    /// Whether this is the preflight before hop `hop`, or the hop's request itself.
    pub preflight: bool,
    /// 0 for the first request, then one per redirect followed.
    pub hop: usize,
    /// The method as it goes out (a 303 has turned a POST into GET by now).
    pub method: String,
    /// The hop's URL.
    pub url: String,
    /// The header lines the browser adds to what script set: `Origin` (or `null` after a
    /// cross-origin hop), the preflight's `Access-Control-Request-*`.
    pub headers: HeaderList,
    /// Whether the request body still goes (a redirect to GET drops it).
    pub with_body: bool,
    /// Whether cookies and HTTP authentication go with it (never on a preflight).
    pub with_credentials: bool,
}

impl Run<'_> {
    /// What goes on the wire next in a driven exchange: the preflight, or the hop's request
    /// with the `Origin` Fetch appends (a CORS request always; otherwise a request that is
    /// not GET or HEAD).
    pub(super) fn wire_request(&self, preflight: bool, hop: usize) -> WireRequest {
        if preflight {
            let p = self.preflight_request();
            return WireRequest {
                preflight,
                hop,
                method: p.method,
                url: p.url,
                headers: p.headers,
                with_body: false,
                with_credentials: false,
            };
        }
        let mut headers = HeaderList::new();
        for (n, v) in &self.headers {
            headers.push(n.clone(), v.clone());
        }
        if self.cors_flag || !matches!(self.method.as_str(), "GET" | "HEAD") {
            headers.push("Origin", self.origin_for_check());
        }
        let with_credentials = match self.request.credentials {
            Credentials::Include => true,
            Credentials::SameOrigin => !self.cors_flag && !self.opaque && !self.tainted,
            Credentials::Omit => false,
        };
        WireRequest {
            preflight,
            hop,
            method: self.method.clone(),
            url: self.current.serialize(),
            headers,
            with_body: !self.body_dropped,
            with_credentials,
        }
    }

    /// The preflight the browser sends before the current hop.
    pub(super) fn preflight_request(&self) -> PreflightRequest {
        let mut headers = HeaderList::new();
        headers.push("Origin", self.origin_for_preflight());
        headers.push("Access-Control-Request-Method", self.method.clone());
        if let Some(acrh) = access_control_request_headers(&self.headers) {
            headers.push("Access-Control-Request-Headers", acrh);
        }
        PreflightRequest {
            method: "OPTIONS".to_owned(),
            url: self.current.serialize(),
            headers,
        }
    }
}
