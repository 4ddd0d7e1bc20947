//! Exchanges run against the real Chromium 156 on this machine (headless, pages served on
//! frontend.test:18080 and api.test:18081 mapped to 127.0.0.1, console read from
//! --enable-logging). Each row pins the console line and the preflight headers Chromium
//! produced, so the model cannot drift from what was seen.

use super::eval;

const O: &str = "http://frontend.test:18080";

fn req(path: &str, extra: &str) -> String {
    format!(r#""request":{{"url":"http://api.test:18081{path}","origin":"{O}"{extra}}}"#)
}

#[test]
fn console_lines_seen_in_chromium_156() {
    let head = |url: &str| {
        format!("Access to fetch at '{url}' from origin '{O}' has been blocked by CORS policy: ")
    };
    let api = |p: &str| format!("http://api.test:18081{p}");
    let table: Vec<(String, String)> = vec![
        (
            format!(r#"{{{},"actual_response":{{"status":200}}}}"#, req("/nocors", "")),
            format!("{}No 'Access-Control-Allow-Origin' header is present on the requested resource.", head(&api("/nocors"))),
        ),
        (
            format!(r#"{{{},"actual_response":{{"headers":{{"Access-Control-Allow-Origin":"{O}/"}}}}}}"#, req("/mismatch", "")),
            format!("{}The 'Access-Control-Allow-Origin' header has a value '{O}/' that is not equal to the supplied origin. Have the server send the header with a valid value.", head(&api("/mismatch"))),
        ),
        (
            format!(r#"{{{},"actual_response":{{"headers":{{"Access-Control-Allow-Origin":["{O}","{O}"]}}}}}}"#, req("/multi", "")),
            format!("{}The 'Access-Control-Allow-Origin' header contains multiple values '{O}, {O}', but only one is allowed. Have the server send the header with a valid value.", head(&api("/multi"))),
        ),
        (
            format!(r#"{{{},"actual_response":{{"headers":{{"Access-Control-Allow-Origin":"frontend.test"}}}}}}"#, req("/invalid", "")),
            format!("{}The 'Access-Control-Allow-Origin' header contains the invalid value 'frontend.test'. Have the server send the header with a valid value.", head(&api("/invalid"))),
        ),
        (
            format!(r#"{{{},"actual_response":{{"headers":{{"Access-Control-Allow-Origin":"*","Access-Control-Allow-Credentials":"true"}}}}}}"#, req("/wild", r#","credentials":"include""#)),
            format!("{}The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.", head(&api("/wild"))),
        ),
        (
            format!(r#"{{{},"actual_response":{{"headers":{{"Access-Control-Allow-Origin":"{O}"}}}}}}"#, req("/creds", r#","credentials":"include""#)),
            format!("{}The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'.", head(&api("/creds"))),
        ),
        (
            format!(r#"{{{},"preflight_response":{{"status":404}}}}"#, req("/pf404", r#","method":"DELETE""#)),
            format!("{}Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.", head(&api("/pf404"))),
        ),
        (
            format!(r#"{{{},"preflight_response":{{"status":500,"headers":{{"Access-Control-Allow-Origin":"{O}"}}}}}}"#, req("/pfstatus", r#","method":"DELETE""#)),
            format!("{}Response to preflight request doesn't pass access control check: It does not have HTTP ok status.", head(&api("/pfstatus"))),
        ),
        (
            format!(r#"{{{},"preflight_response":{{"status":302,"headers":{{"Location":"/x","Access-Control-Allow-Origin":"{O}"}}}}}}"#, req("/pfredirect", r#","method":"DELETE""#)),
            format!("{}Response to preflight request doesn't pass access control check: Redirect is not allowed for a preflight request.", head(&api("/pfredirect"))),
        ),
        (
            format!(r#"{{{},"preflight_response":{{"status":204,"headers":{{"Access-Control-Allow-Origin":"{O}","Access-Control-Allow-Methods":"PATCH"}}}}}}"#, req("/pfmethods", r#","method":"patch""#)),
            format!("{}Method patch is not allowed by Access-Control-Allow-Methods in preflight response.", head(&api("/pfmethods"))),
        ),
        (
            format!(r#"{{{},"preflight_response":{{"status":204,"headers":{{"Access-Control-Allow-Origin":"{O}","Access-Control-Allow-Methods":"PUT","Access-Control-Allow-Headers":"content-type"}}}}}}"#, req("/pfheaders", r#","method":"PUT","headers":{"X-PKR-Auth":"t","Content-Type":"application/json"}"#)),
            format!("{}Request header field x-pkr-auth is not allowed by Access-Control-Allow-Headers in preflight response.", head(&api("/pfheaders"))),
        ),
        (
            format!(r#"{{{},"preflight_response":{{"status":204,"headers":{{"Access-Control-Allow-Origin":"{O}","Access-Control-Allow-Methods":"PUT DELETE"}}}}}}"#, req("/pfbadmethods", r#","method":"PUT""#)),
            format!("{}Cannot parse Access-Control-Allow-Methods response header field in preflight response.", head(&api("/pfbadmethods"))),
        ),
        (
            format!(r#"{{{},"actual_response":{{"status":302,"headers":{{"Location":"http://cdn.test:18081/final","Access-Control-Allow-Origin":"{O}"}}}},"redirects":[{{"response":{{"headers":{{"Access-Control-Allow-Origin":"{O}"}}}}}}]}}"#, req("/redir", "")),
            format!("Access to fetch at 'http://cdn.test:18081/final' (redirected from 'http://api.test:18081/redir') from origin '{O}' has been blocked by CORS policy: The 'Access-Control-Allow-Origin' header has a value '{O}' that is not equal to the supplied origin. Have the server send the header with a valid value."),
        ),
        (
            format!(r#"{{{},"actual_response":{{"status":302,"headers":{{"Location":"http://u:p@api.test:18081/final","Access-Control-Allow-Origin":"*"}}}}}}"#, req("/redircreds", "")),
            format!("{}Redirect location '' contains a username and password, which is disallowed for cross-origin requests.", head(&api("/redircreds"))),
        ),
        (
            format!(r#"{{{}}}"#, req("/so", r#","mode":"same-origin""#)),
            format!("Fetch API cannot load http://api.test:18081/so. Request mode is \"same-origin\" but the URL's origin is not same as the request origin {O}."),
        ),
        (
            format!(r#"{{{}}}"#, req("/nc", r#","mode":"no-cors","method":"PUT""#)),
            "Failed to execute 'fetch' on 'Window': 'PUT' is unsupported in no-cors mode.".to_owned(),
        ),
        (
            format!(r#"{{{}}}"#, req("/tr", r#","method":"TRACE""#)),
            "Failed to execute 'fetch' on 'Window': 'TRACE' HTTP method is unsupported.".to_owned(),
        ),
    ];
    for (json, want) in table {
        let v = eval(&json);
        assert_eq!(v.message.as_deref(), Some(want.as_str()), "{json}");
    }
}

#[test]
fn allowed_exchanges_seen_in_chromium_156() {
    let table = [
        // Tainted by the cross-origin redirect; "null" then matches.
        format!(
            r#"{{{},"actual_response":{{"status":302,"headers":{{"Location":"http://cdn.test:18081/nullok","Access-Control-Allow-Origin":"*"}}}},"redirects":[{{"response":{{"headers":{{"Access-Control-Allow-Origin":"null"}}}}}}]}}"#,
            req("/taint", "")
        ),
        // DPR is safelisted, User-Agent dropped: no preflight, so no preflight_response needed.
        format!(
            r#"{{{},"actual_response":{{"headers":{{"Access-Control-Allow-Origin":"*"}}}}}}"#,
            req(
                "/r3",
                r#","headers":{"DPR":"2","User-Agent":"bot","Range":"bytes=0-"}"#
            )
        ),
    ];
    for json in table {
        let v = eval(&json);
        assert!(v.is_allowed(), "{json}\n{v:#?}");
        assert!(!v.preflight_required, "{json}");
    }
}

#[test]
fn preflight_headers_seen_in_chromium_156() {
    let table = [
        (
            r#","method":"PUT","headers":{"X-PKR-Auth":"t","Content-Type":"application/json"}"#,
            "PUT",
            Some("content-type,x-pkr-auth"),
        ),
        (r#","method":"patch""#, "patch", None),
        (r#","headers":{"Range":"Bytes=0-"}"#, "GET", Some("range")),
        (
            r#","method":"DELETE","headers":{"Authorization":"x","X-A":"1"}"#,
            "DELETE",
            Some("authorization,x-a"),
        ),
    ];
    for (extra, method, acrh) in table {
        let v = eval(&format!("{{{}}}", req("/p", extra)));
        let p = v.preflight_request.expect("a preflight");
        assert_eq!(p.headers.get("Origin").as_deref(), Some(O));
        assert_eq!(
            p.headers.get("Access-Control-Request-Method").as_deref(),
            Some(method)
        );
        assert_eq!(
            p.headers.get("Access-Control-Request-Headers").as_deref(),
            acrh,
            "{extra}"
        );
    }
}
