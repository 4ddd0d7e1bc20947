//! Response-side rules: the CORS check, preflight parsing and matching, max-age, and
//! which headers script can read.

use super::{pairs, PAGE};
use crate::browser::check::{
    check_access, check_preflight_response, parse_expose_headers, parse_max_age,
    readable_headers_cors, Failure,
};
use crate::browser::{CorsError, Credentials, HeaderList, Response};

fn lines(list: &[(&str, &str)]) -> HeaderList {
    let mut h = HeaderList::new();
    for (n, v) in list {
        h.push(*n, *v);
    }
    h
}

#[test]
fn cors_check_table() {
    use CorsError::*;
    let omit = Credentials::Omit;
    let inc = Credentials::Include;
    type Row<'a> = (
        Vec<(&'a str, &'a str)>,
        Credentials,
        &'a str,
        Option<(CorsError, Option<&'a str>)>,
    );
    let table: Vec<Row> = vec![
        (vec![("Access-Control-Allow-Origin", "*")], omit, PAGE, None),
        (
            vec![("Access-Control-Allow-Origin", "*")],
            Credentials::SameOrigin,
            PAGE,
            None,
        ),
        (
            vec![
                ("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Allow-Credentials", "true"),
            ],
            inc,
            PAGE,
            Some((WildcardOriginNotAllowed, None)),
        ),
        (vec![], omit, PAGE, Some((MissingAllowOriginHeader, None))),
        (
            vec![("Access-Control-Allow-Origin", PAGE)],
            omit,
            PAGE,
            None,
        ),
        (
            vec![(
                "Access-Control-Allow-Origin",
                "  http://frontend.test:8080 ",
            )],
            omit,
            PAGE,
            None,
        ),
        (
            vec![("Access-Control-Allow-Origin", "http://frontend.test:8080/")],
            omit,
            PAGE,
            Some((AllowOriginMismatch, Some("http://frontend.test:8080/"))),
        ),
        (
            vec![("Access-Control-Allow-Origin", "HTTP://FRONTEND.TEST:8080")],
            omit,
            PAGE,
            Some((AllowOriginMismatch, Some("HTTP://FRONTEND.TEST:8080"))),
        ),
        (
            vec![("Access-Control-Allow-Origin", "http://other.test")],
            omit,
            PAGE,
            Some((AllowOriginMismatch, Some("http://other.test"))),
        ),
        (
            vec![("Access-Control-Allow-Origin", "null")],
            omit,
            PAGE,
            Some((AllowOriginMismatch, Some("null"))),
        ),
        (
            vec![("Access-Control-Allow-Origin", "null")],
            omit,
            "null",
            None,
        ),
        (
            vec![
                ("Access-Control-Allow-Origin", PAGE),
                ("Access-Control-Allow-Origin", PAGE),
            ],
            omit,
            PAGE,
            Some((
                MultipleAllowOriginValues,
                Some("http://frontend.test:8080, http://frontend.test:8080"),
            )),
        ),
        (
            vec![("Access-Control-Allow-Origin", "http://a.test http://b.test")],
            omit,
            PAGE,
            Some((
                MultipleAllowOriginValues,
                Some("http://a.test http://b.test"),
            )),
        ),
        (
            vec![("Access-Control-Allow-Origin", "*, *")],
            omit,
            PAGE,
            Some((MultipleAllowOriginValues, Some("*, *"))),
        ),
        (
            vec![("Access-Control-Allow-Origin", "frontend.test")],
            omit,
            PAGE,
            Some((InvalidAllowOriginValue, Some("frontend.test"))),
        ),
        (
            vec![("Access-Control-Allow-Origin", "")],
            omit,
            PAGE,
            Some((InvalidAllowOriginValue, Some(""))),
        ),
        (
            vec![("Access-Control-Allow-Origin", "http://")],
            omit,
            PAGE,
            Some((InvalidAllowOriginValue, Some("http://"))),
        ),
        (
            vec![("Access-Control-Allow-Origin", PAGE)],
            inc,
            PAGE,
            Some((InvalidAllowCredentials, Some(""))),
        ),
        (
            vec![
                ("Access-Control-Allow-Origin", PAGE),
                ("Access-Control-Allow-Credentials", "True"),
            ],
            inc,
            PAGE,
            Some((InvalidAllowCredentials, Some("True"))),
        ),
        (
            vec![
                ("Access-Control-Allow-Origin", PAGE),
                ("Access-Control-Allow-Credentials", "true"),
                ("Access-Control-Allow-Credentials", "true"),
            ],
            inc,
            PAGE,
            Some((InvalidAllowCredentials, Some("true, true"))),
        ),
        (
            vec![
                ("Access-Control-Allow-Origin", PAGE),
                ("Access-Control-Allow-Credentials", "true"),
            ],
            inc,
            PAGE,
            None,
        ),
        (
            vec![
                ("Access-Control-Allow-Origin", PAGE),
                ("Access-Control-Allow-Credentials", "false"),
            ],
            omit,
            PAGE,
            None,
        ),
    ];
    for (headers, credentials, origin, want) in table {
        let got = check_access(true, &lines(&headers), credentials, origin);
        let want = match want {
            None => Ok(()),
            Some((e, p)) => Err(Failure {
                error: e,
                param: p.map(str::to_owned),
            }),
        };
        assert_eq!(got, want, "{headers:?} {credentials:?} {origin}");
    }
}

fn preflight(status: u16, headers: &[(&str, &str)]) -> Response {
    let mut r = Response::new(status).with("Access-Control-Allow-Origin", PAGE);
    for (n, v) in headers {
        r.headers.push(*n, *v);
    }
    r
}

#[test]
fn preflight_status_and_parsing() {
    use CorsError::*;
    let table: Vec<(Response, Option<CorsError>)> = vec![
        (preflight(204, &[]), None),
        (preflight(200, &[]), None),
        (preflight(299, &[]), None),
        (preflight(404, &[]), Some(PreflightInvalidStatus)),
        (preflight(500, &[]), Some(PreflightInvalidStatus)),
        (preflight(304, &[]), Some(PreflightInvalidStatus)),
        (Response::new(404), Some(PreflightMissingAllowOriginHeader)),
        (
            preflight(204, &[("Access-Control-Allow-Methods", "GET, PUT")]),
            None,
        ),
        (
            preflight(204, &[("Access-Control-Allow-Methods", "GET,,PUT,")]),
            None,
        ),
        (
            preflight(204, &[("Access-Control-Allow-Methods", "GET PUT")]),
            Some(InvalidAllowMethodsPreflightResponse),
        ),
        (
            preflight(204, &[("Access-Control-Allow-Methods", "PUT;")]),
            Some(InvalidAllowMethodsPreflightResponse),
        ),
        (
            preflight(204, &[("Access-Control-Allow-Headers", "x-a, x-b")]),
            None,
        ),
        (
            preflight(204, &[("Access-Control-Allow-Headers", "x-a/x-b")]),
            Some(InvalidAllowHeadersPreflightResponse),
        ),
        (
            preflight(
                204,
                &[
                    ("Access-Control-Allow-Methods", "a b"),
                    ("Access-Control-Allow-Headers", "c d"),
                ],
            ),
            Some(InvalidAllowMethodsPreflightResponse),
        ),
    ];
    for (response, want) in table {
        let got = check_preflight_response(&response, Credentials::Omit, PAGE)
            .err()
            .map(|f| f.error);
        assert_eq!(got, want, "{response:?}");
    }
}

#[test]
fn method_matching() {
    use CorsError::MethodDisallowedByPreflightResponse as M;
    let table: Vec<(&str, Credentials, &str, bool)> = vec![
        ("PUT", Credentials::Omit, "PUT", true),
        ("PUT", Credentials::Omit, "put", false),
        ("patch", Credentials::Omit, "PATCH", false),
        ("patch", Credentials::Omit, "patch", true),
        ("PATCH", Credentials::Omit, "PATCH", true),
        ("DELETE", Credentials::Omit, "*", true),
        ("DELETE", Credentials::Include, "*", false),
        ("GET", Credentials::Include, "", true),
        ("POST", Credentials::Omit, "PUT", true),
        ("DELETE", Credentials::Omit, "", false),
    ];
    for (method, credentials, allow, want) in table {
        let mut r = preflight(204, &[("Access-Control-Allow-Methods", allow)]);
        if credentials == Credentials::Include {
            r.headers.push("Access-Control-Allow-Credentials", "true");
        }
        let result = check_preflight_response(&r, credentials, PAGE).unwrap();
        let got = result.check_method(method);
        if want {
            assert_eq!(got, Ok(()), "{method} vs {allow}");
        } else {
            assert_eq!(got.unwrap_err().error, M, "{method} vs {allow}");
        }
    }
}

#[test]
fn header_matching() {
    type Row<'a> = (
        Vec<(&'a str, &'a str)>,
        Credentials,
        &'a str,
        Result<(), &'a str>,
    );
    let table: Vec<Row> = vec![
        (vec![("X-A", "1")], Credentials::Omit, "x-a", Ok(())),
        (vec![("X-A", "1")], Credentials::Omit, "X-A", Ok(())),
        (
            vec![("X-A", "1"), ("X-B", "2")],
            Credentials::Omit,
            "x-a",
            Err("x-b"),
        ),
        (vec![("X-A", "1")], Credentials::Omit, "*", Ok(())),
        (vec![("X-A", "1")], Credentials::Include, "*", Err("x-a")),
        (
            vec![("Authorization", "Bearer t")],
            Credentials::Omit,
            "*",
            Err("authorization"),
        ),
        (
            vec![("Authorization", "Bearer t")],
            Credentials::Omit,
            "*, Authorization",
            Ok(()),
        ),
        (
            vec![("Content-Type", "application/json")],
            Credentials::Omit,
            "",
            Err("content-type"),
        ),
        (
            vec![("Content-Type", "text/plain")],
            Credentials::Omit,
            "",
            Ok(()),
        ),
        (vec![("Cookie", "a")], Credentials::Omit, "", Ok(())),
    ];
    for (headers, credentials, allow, want) in table {
        let mut r = preflight(204, &[("Access-Control-Allow-Headers", allow)]);
        if credentials == Credentials::Include {
            r.headers.push("Access-Control-Allow-Credentials", "true");
        }
        let result = check_preflight_response(&r, credentials, PAGE).unwrap();
        let got = result
            .check_headers(&pairs(&headers), true)
            .map_err(|f| f.param.unwrap());
        assert_eq!(got, want.map_err(str::to_owned), "{headers:?} vs {allow}");
    }
}

#[test]
fn max_age_parsing() {
    let table = [
        (None, 5),
        (Some("600"), 600),
        (Some("7200"), 7200),
        (Some("86400"), 7200),
        (Some("0"), 0),
        (Some("-1"), 0),
        (Some("abc"), 5),
        (Some("10, 20"), 5),
        (Some(" 60"), 5),
        (Some("99999999999999999999"), 5),
        (Some(""), 5),
    ];
    for (value, want) in table {
        assert_eq!(parse_max_age(value), want, "{value:?}");
    }
}

#[test]
fn expose_headers_parsing_and_readability() {
    assert_eq!(parse_expose_headers(Some("X-A, x-b ,,")).len(), 2);
    assert!(parse_expose_headers(Some("X-A, x b")).is_empty());
    let h = lines(&[
        ("Content-Type", "text/plain"),
        ("X-Total", "3"),
        ("X-Hidden", "1"),
        ("Set-Cookie", "a=b"),
        ("ETag", "\"x\""),
        ("Access-Control-Expose-Headers", "X-Total, Set-Cookie"),
    ]);
    assert_eq!(
        readable_headers_cors(&h, Credentials::Omit),
        vec!["content-type", "x-total"]
    );
    let star = lines(&[
        ("Content-Type", "text/plain"),
        ("X-Hidden", "1"),
        ("Set-Cookie", "a=b"),
        ("Access-Control-Expose-Headers", "*"),
    ]);
    assert_eq!(
        readable_headers_cors(&star, Credentials::Omit),
        vec!["access-control-expose-headers", "content-type", "x-hidden"]
    );
    assert_eq!(
        readable_headers_cors(&star, Credentials::Include),
        vec!["content-type"]
    );
}
