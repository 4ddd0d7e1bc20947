use super::*;
use std::path::Path;

fn load_in(dir: &Path, text: &str) -> Result<Routes, LoadError> {
    let src = Source::from_bytes(&dir.join("api.toml"), text.as_bytes().to_vec())?;
    load(&src, "api.toml", dir)
}

#[test]
fn default_routes_load_and_match() {
    let d = tempfile::tempdir().unwrap();
    let r = load_in(d.path(), DEFAULT_ROUTES).unwrap();
    let m = r.find("GET", "/api/students/7").unwrap();
    assert_eq!(m.params, vec![("id".to_string(), "7".to_string())]);
    assert_eq!(
        r.find("GET", "/api/student").unwrap().route.responses[0]
            .body
            .content_type,
        "application/json"
    );
    assert!(
        r.find("HEAD", "/api/student").is_some(),
        "HEAD falls back to GET"
    );
    assert!(
        r.find("GET", "/api/student/").is_none(),
        "trailing slash is significant"
    );
    assert!(r.find("PATCH", "/api/student").is_none());
    assert_eq!(r.closest("GET", "/api/studnt")[0].1, "/api/student");
}

#[test]
fn method_normalisation_follows_fetch() {
    assert_eq!(normalize_method("put"), "PUT");
    assert_eq!(normalize_method("patch"), "patch");
    assert_eq!(normalize_method("Delete"), "DELETE");
}

#[test]
fn file_bodies_are_read_and_confined() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("s.json"), b"[1,2]").unwrap();
    let r = load_in(d.path(), "[[route]]\npath='/x'\nfile='s.json'\n").unwrap();
    assert_eq!(&r.routes[0].responses[0].body.bytes[..], b"[1,2]");
    assert_eq!(
        r.routes[0].responses[0].body.content_type,
        "application/json"
    );
    assert_eq!(r.body_files.len(), 1);
    let e = load_in(d.path(), "[[route]]\npath='/x'\nfile='../etc/passwd'\n").unwrap_err();
    assert!(e.one_line().contains("api.toml:3:6"), "{}", e.one_line());
}

#[test]
fn bad_routes_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        ("[[route]]\npath='x'\n", "starts with `/`"),
        ("[[route]]\npath='/a/{id'\n", "parameter"),
        ("[[route]]\npath='/a/x{id}'\n", "whole segment"),
        ("[[route]]\npath='/a'\nstatus=42\n", "between 200 and 999"),
        (
            "[[route]]\npath='/a'\nheaders={ 'X-A' = \"a\\r\\nSet-Cookie: x\" }\n",
            "CR, LF or NUL",
        ),
        (
            "[[route]]\npath='/a'\nheaders={ 'Content-Length' = '5' }\n",
            "set by the server",
        ),
        (
            "[[route]]\npath='/a'\nheaders={ 'Bad Name' = '5' }\n",
            "not a valid header name",
        ),
        (
            "[[route]]\npath='/a'\njson={}\nbody='x'\n",
            "at most one of",
        ),
        (
            "[[route]]\npath='/a'\ndelay_ms=999999\n",
            "delay_ms is at most",
        ),
        (
            "[[route]]\npath='/a'\nmethod='GE T'\n",
            "not a valid method",
        ),
        ("[[route]]\npaht='/a'\n", "did you mean `path`"),
    ];
    for (text, want) in cases {
        let e = load_in(d.path(), text).unwrap_err();
        assert!(e.one_line().contains(want), "{text:?} → {}", e.one_line());
        assert!(e.line_col().is_some(), "{text:?} has no location");
    }
}

#[test]
fn closest_compares_a_bounded_start_of_the_path_once_per_route() {
    let d = tempfile::tempdir().unwrap();
    let text: String = (0..200)
        .map(|i| format!("[[route]]\npath = '/api/r{i}/é{}'\n", "x".repeat(300)))
        .collect();
    let r = load_in(d.path(), &text).unwrap();
    // A multi-byte character straddles the cut, which must fall before it, not inside it.
    let path = format!(
        "/{}é{}",
        "a".repeat(CLOSEST_PREFIX_BYTES - 2),
        "b".repeat(64 * 1024)
    );
    let mut calls = 0;
    let cut = &path[..CLOSEST_PREFIX_BYTES - 1];
    let closest = r.closest_by("GET", &path, |route, asked| {
        calls += 1;
        assert!(asked.len() <= CLOSEST_PREFIX_BYTES && route.len() <= CLOSEST_PREFIX_BYTES);
        assert!(cut.contains(asked) && !asked.ends_with('é'), "{asked}");
        strsim::normalized_levenshtein(route, asked)
    });
    // The routes near the path, plus one comparison per segment walked (the root has one
    // child, `api`): never one per route of a large file.
    assert!(
        calls <= CLOSEST_SCORE_ALL + index::NEAR_WINDOW,
        "{calls} comparisons"
    );
    assert!(calls >= CLOSEST_SCORE_ALL, "{calls} comparisons");
    assert_eq!(closest.len(), 3);
}

/// A typo is still found among thousands of routes, and the suggestions of a small file are
/// the best of all its routes.
#[test]
fn closest_finds_typos_in_small_and_large_files() {
    let d = tempfile::tempdir().unwrap();
    let mut text: String = (0..5000)
        .map(|i| format!("[[route]]\npath = '/api/v1/item{i}/{{id}}'\n"))
        .collect();
    text.push_str("[[route]]\nmethod = 'POST'\npath = '/api/v1/students/{id}/grades'\n");
    let r = load_in(d.path(), &text).unwrap();
    let got = r.closest("POST", "/api/v1/studnts/7/grades");
    assert_eq!(
        got[0],
        (
            "POST".to_string(),
            "/api/v1/students/{id}/grades".to_string()
        ),
        "{got:?}"
    );
    let small = load_in(
        d.path(),
        "[[route]]\npath = '/api/student'\n[[route]]\npath = '/zzz/student'\n",
    )
    .unwrap();
    assert_eq!(small.closest("GET", "/apii/student")[0].1, "/api/student");
}

/// `find` through the index answers exactly what trying every route in file order answers:
/// methods, `*`, the HEAD → GET fallback and parameters included.
mod find_matches_the_linear_rule {
    use super::*;
    use proptest::prelude::*;

    fn linear(r: &Routes, method: &str, path: &str) -> Option<(usize, Vec<(String, String)>)> {
        let try_method = |m: &str| {
            r.routes.iter().enumerate().find_map(|(i, route)| {
                if route.method != m && route.method != "*" {
                    return None;
                }
                route.path.matches(path).map(|p| (i, p))
            })
        };
        try_method(method).or_else(|| {
            if method == "HEAD" {
                try_method("GET")
            } else {
                None
            }
        })
    }

    fn segment() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["api", "a", "{id}", "{x}", "me"])
    }

    fn method() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["GET", "HEAD", "POST", "*"])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn for_any_file_and_request(
            routes in prop::collection::vec((method(), prop::collection::vec(segment(), 1..4)), 1..20),
            asks in prop::collection::vec((method(), prop::collection::vec(
                prop::sample::select(vec!["api", "a", "me", "7", ""]), 1..5)), 1..12),
        ) {
            let d = tempfile::tempdir().unwrap();
            let text: String = routes
                .iter()
                .map(|(m, segs)| format!("[[route]]\nmethod = '{m}'\npath = '/{}'\n", segs.join("/")))
                .collect();
            let r = load_in(d.path(), &text).unwrap();
            for (m, segs) in asks {
                let m = if m == "*" { "DELETE" } else { m };
                let path = format!("/{}", segs.join("/"));
                let got = r.find(m, &path).map(|hit| {
                    let i = r.routes.iter().position(|x| std::ptr::eq(x, hit.route)).unwrap();
                    (i, hit.params)
                });
                prop_assert_eq!(got, linear(&r, m, &path), "{} {}", m, path);
            }
        }
    }
}

/// The 404's similarity scores what the edit distance it replaced scored, to the last bit, so
/// the suggestions and their order stay what they were: for paths, typos and non-ASCII alike.
mod similarity_is_the_normalized_edit_distance {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn for_any_two_paths(a in "[/a-z{}é0-9]{0,80}", b in "[/a-z{}é0-9]{0,80}") {
            prop_assert_eq!(similarity(&a, &b), strsim::normalized_levenshtein(&a, &b));
        }
    }

    #[test]
    fn for_long_paths_and_the_empty_one() {
        let long = format!("/api/{}", "segment/".repeat(30));
        let typo = long.replacen("segment", "segmnet", 3);
        for (a, b) in [
            (&long[..], &typo[..]),
            ("", ""),
            ("", "/a"),
            ("/ä/ö", "/a/o"),
        ] {
            assert_eq!(
                similarity(a, b),
                strsim::normalized_levenshtein(a, b),
                "{a} {b}"
            );
        }
    }
}
