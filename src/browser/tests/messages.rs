//! The exact console text for every error in the catalogue, as Chromium 156 prints it.

use super::eval;
use crate::browser::catalogue::{console_message, encode_hint, MessageContext, CATALOGUE};
use crate::browser::{CorsError, Initiator};

const HEAD: &str = "Access to fetch at 'http://api.test:3000/x' from origin 'http://frontend.test:8080' has been blocked by CORS policy: ";
const PRE: &str = "Response to preflight request doesn't pass access control check: ";
const VALID: &str = " Have the server send the header with a valid value.";

fn fetch_cx() -> MessageContext<'static> {
    MessageContext {
        initial_url: "http://api.test:3000/x",
        last_url: "http://api.test:3000/x",
        page_origin: "http://frontend.test:8080",
        initiator: Initiator::Fetch,
    }
}

#[test]
fn every_error_has_one_entry_named_as_chromium() {
    for entry in CATALOGUE {
        let json = serde_json::to_string(&entry.error).unwrap();
        assert_eq!(json, format!("\"{}\"", entry.name));
        assert_eq!(
            CATALOGUE.iter().filter(|e| e.error == entry.error).count(),
            1
        );
    }
    assert_eq!(CATALOGUE.len(), 22);
}

#[test]
fn console_messages() {
    use CorsError::*;
    let table: Vec<(CorsError, Option<&str>, String)> = vec![
        (MissingAllowOriginHeader, None, format!("{HEAD}No 'Access-Control-Allow-Origin' header is present on the requested resource.")),
        (PreflightMissingAllowOriginHeader, None, format!("{HEAD}{PRE}No 'Access-Control-Allow-Origin' header is present on the requested resource.")),
        (WildcardOriginNotAllowed, None, format!("{HEAD}The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.")),
        (MultipleAllowOriginValues, Some("a, b"), format!("{HEAD}The 'Access-Control-Allow-Origin' header contains multiple values 'a, b', but only one is allowed.{VALID}")),
        (PreflightInvalidAllowOriginValue, Some("x"), format!("{HEAD}{PRE}The 'Access-Control-Allow-Origin' header contains the invalid value 'x'.{VALID}")),
        (AllowOriginMismatch, Some("http://b.test"), format!("{HEAD}The 'Access-Control-Allow-Origin' header has a value 'http://b.test' that is not equal to the supplied origin.{VALID}")),
        (InvalidAllowCredentials, Some(""), format!("{HEAD}The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'.")),
        (PreflightInvalidStatus, None, format!("{HEAD}{PRE}It does not have HTTP ok status.")),
        (PreflightDisallowedRedirect, None, format!("{HEAD}{PRE}Redirect is not allowed for a preflight request.")),
        (InvalidAllowMethodsPreflightResponse, None, format!("{HEAD}Cannot parse Access-Control-Allow-Methods response header field in preflight response.")),
        (InvalidAllowHeadersPreflightResponse, None, format!("{HEAD}Cannot parse Access-Control-Allow-Headers response header field in preflight response.")),
        (MethodDisallowedByPreflightResponse, Some("patch"), format!("{HEAD}Method patch is not allowed by Access-Control-Allow-Methods in preflight response.")),
        (HeaderDisallowedByPreflightResponse, Some("x-a"), format!("{HEAD}Request header field x-a is not allowed by Access-Control-Allow-Headers in preflight response.")),
        (RedirectContainsCredentials, None, format!("{HEAD}Redirect location '' contains a username and password, which is disallowed for cross-origin requests.")),
        (DisallowedByMode, None, format!("{HEAD}Cross origin requests are not allowed by request mode.")),
        (InvalidResponse, None, format!("{HEAD}The response is invalid.")),
    ];
    for (error, param, want) in table {
        assert_eq!(console_message(error, param, &fetch_cx()), want, "{error}");
    }
}

#[test]
fn xhr_wording_and_suffixes() {
    let cx = MessageContext {
        initiator: Initiator::XmlHttpRequest,
        ..fetch_cx()
    };
    let m = console_message(CorsError::WildcardOriginNotAllowed, None, &cx);
    assert!(m.starts_with("Access to XMLHttpRequest at 'http://api.test:3000/x'"));
    assert!(m.ends_with("The credentials mode of requests initiated by the XMLHttpRequest is controlled by the withCredentials attribute."));
    let m = console_message(CorsError::AllowOriginMismatch, Some("x"), &cx);
    assert!(
        m.ends_with("that is not equal to the supplied origin."),
        "no fetch-only suffix for XHR: {m}"
    );
}

#[test]
fn redirect_form_of_the_message() {
    let cx = MessageContext {
        last_url: "http://cdn.test/y",
        ..fetch_cx()
    };
    assert_eq!(
        console_message(CorsError::MissingAllowOriginHeader, None, &cx),
        "Access to fetch at 'http://cdn.test/y' (redirected from 'http://api.test:3000/x') from origin 'http://frontend.test:8080' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource."
    );
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080"},
            "actual_response":{"status":302,"headers":{"Location":"http://cdn.test/y","Access-Control-Allow-Origin":"*"}},
            "redirects":[{"response":{"status":200,"headers":{}}}]}"#,
    );
    assert_eq!(
        v.message.as_deref(),
        Some("Access to fetch at 'http://cdn.test/y' (redirected from 'http://api.test:3000/x') from origin 'http://frontend.test:8080' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource.")
    );
}

#[test]
fn hints_are_escaped_like_chromium() {
    let table = [
        ("abc", "abc"),
        ("a\tb", "a\\u0009b"),
        ("é", "\\u00C3\\u00A9"),
        ("\u{7f}", "\\u007F"),
    ];
    for (input, want) in table {
        assert_eq!(encode_hint(input), want);
    }
}

#[test]
fn urls_are_canonicalised_in_messages() {
    let v = eval(
        r#"{"request":{"url":"HTTP://API.test:80","origin":"http://frontend.test:8080"},"actual_response":{"status":200}}"#,
    );
    assert!(v
        .message
        .unwrap()
        .starts_with("Access to fetch at 'http://api.test/' from"));
}
