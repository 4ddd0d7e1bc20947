//! A request that gets no HTTP response at all: the connection is reset, or closed before a
//! status line. The browser never reaches its CORS check; it reports a network error, with no
//! CORS error name and nothing in the console about CORS. Users read any failed fetch as
//! "CORS", so the verdict says plainly that it is not.

use serde::Serialize;

use super::browsers::Browser;
use super::model::{Outcome, Verdict};

/// How a connection ended without a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoResponse {
    /// A TCP reset (RST).
    Reset,
    /// An orderly close (FIN) before any byte of a response.
    Close,
}

/// What `fetch()` rejects with when there is no response (Chromium's wording).
pub const FETCH_NETWORK_ERROR: &str = "TypeError: Failed to fetch";

impl NoResponse {
    /// The `net::` error Chromium's console and DevTools show for the request.
    pub fn net_error(self) -> &'static str {
        match self {
            NoResponse::Reset => "net::ERR_CONNECTION_RESET",
            NoResponse::Close => "net::ERR_EMPTY_RESPONSE",
        }
    }

    /// "connection reset" or "connection closed".
    pub fn what(self) -> &'static str {
        match self {
            NoResponse::Reset => "connection reset",
            NoResponse::Close => "connection closed",
        }
    }

    /// One sentence for logs: `cause` says who ended the connection ("the sandbox's fault
    /// injection").
    pub fn sentence(self, cause: &str) -> String {
        format!(
            "no response: {} by {cause} — a network error in the browser, not CORS",
            self.what()
        )
    }
}

impl Verdict {
    /// This verdict, for a request whose (actual or preflight) exchange got no response:
    /// blocked without a CORS error, `fetch()`'s TypeError as the message, the console's
    /// `net::` error in the notes. What was learnt about the preflight stays.
    pub fn with_no_response(self, kind: NoResponse, cause: &str, fix: Option<String>) -> Self {
        self.with_network_error(kind.net_error(), &kind.sentence(cause), fix)
    }

    /// This verdict, for an exchange that ended in the network error `net_error`
    /// (`net::ERR_…`) before CORS was asked; `sentence` says what happened.
    pub fn with_network_error(
        mut self,
        net_error: &str,
        sentence: &str,
        fix: Option<String>,
    ) -> Self {
        self.outcome = Outcome::Blocked;
        self.cors_error = None;
        self.engine_error = None;
        self.failed_parameter = None;
        let thrown = format!("TypeError: {}", self.browser.quirks().fetch_type_error);
        self.message = Some(thrown.clone());
        self.messages.clear();
        self.js_error = Some(thrown.clone());
        self.reason = Some(sentence.to_owned());
        self.fix = fix;
        self.readable_headers.clear();
        self.net_error = Some(net_error.to_owned());
        self.notes.push(if self.browser == Browser::Chromium {
            format!(
                "{sentence}: Chromium's console shows `{net_error}` for the request and fetch() \
                 rejects with {thrown}; there is no CORS error to fix"
            )
        } else {
            format!(
                "{sentence}: a network error (Chromium's console would show `{net_error}`); \
                 fetch() rejects with {thrown}; there is no CORS error to fix"
            )
        });
        self
    }
}

impl Verdict {
    /// This verdict, for a load a recording (a HAR) marks as failed with `net_error` and no
    /// response: blocked, with no CORS error name because none can be read from the file.
    /// `likely` says what the request and its preflight suggest; `fix` how to find out.
    pub fn with_recorded_failure(
        mut self,
        net_error: &str,
        likely: String,
        fix: Option<String>,
    ) -> Self {
        self.outcome = Outcome::Blocked;
        self.cors_error = None;
        self.engine_error = None;
        self.messages.clear();
        self.failed_parameter = None;
        self.message = Some(format!(
            "the browser recorded this load as failed ({net_error}); the HAR holds no response"
        ));
        self.reason = Some(format!("recorded as failed ({net_error}): {likely}"));
        self.fix = fix;
        self.readable_headers.clear();
        self.notes.push(format!("likely cause: {likely}"));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_is_a_network_error_not_a_cors_error() {
        let v = Verdict::empty(None).with_no_response(NoResponse::Reset, "the server", None);
        assert_eq!(v.outcome, Outcome::Blocked);
        assert!(v.cors_error.is_none());
        assert_eq!(v.message.as_deref(), Some(FETCH_NETWORK_ERROR));
        assert!(
            v.notes[0].contains("net::ERR_CONNECTION_RESET"),
            "{:?}",
            v.notes
        );
        assert!(v.reason.unwrap().contains("not CORS"));
    }

    #[test]
    fn kinds_serialise_as_the_routes_file_spells_them() {
        assert_eq!(serde_json::to_value(NoResponse::Reset).unwrap(), "reset");
        assert_eq!(serde_json::to_value(NoResponse::Close).unwrap(), "close");
    }
}
