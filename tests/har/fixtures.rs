//! `fixtures new --from-har`: the written fixture verifies, carries none of the recording's
//! secrets, and says what it redacted.

use crate::util::sandbox::*;
use serde_json::json;

#[test]
fn secrets_in_the_har_never_reach_the_fixture() {
    let d = tempfile::tempdir().unwrap();
    let h = |n: &str, v: &str| json!({"name": n, "value": v});
    let har = json!({"log": {"creator": {"name": "Firefox", "version": "140.0"}, "entries": [{
        "startedDateTime": "2026-12-02T06:00:00.000+01:00",
        "request": {"method": "POST", "url": "https://api.example.com/api/login?access_token=QTOKEN-1&page=1",
            "headers": [h("Origin", "https://app.example.com"), h("Authorization", "Bearer BEARER-2"),
                        h("Cookie", "session=COOKIE-3"), h("Content-Type", "application/json")],
            "cookies": [{"name": "session", "value": "COOKIE-3"}],
            "postData": {"mimeType": "application/json", "text": "{\"user\":\"ahmad\",\"password\":\"PASSWORD-4\"}"}},
        "response": {"status": 200, "headers": [
            h("Access-Control-Allow-Origin", "https://app.example.com"), h("Set-Cookie", "session=COOKIE-5; HttpOnly")],
            "content": {"mimeType": "application/json", "text": "{\"token\":\"TOKEN-6\"}"}}}]}});
    write(d.path(), "login.har", &har.to_string());
    let (code, out, err) = run_cli(
        d.path(),
        &[
            "fixtures",
            "--dir",
            "lib",
            "new",
            "login",
            "--from-har",
            "login.har",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    for listed in [
        "request header Authorization",
        "request header Cookie",
        "response header Set-Cookie",
        "query parameter access_token",
        "request body field password",
        "response body field token",
    ] {
        assert!(out.contains(listed), "{listed} not listed: {out}");
    }
    let mut files = 0;
    for e in crate::util::sandbox::files_under(&d.path().join("lib/login")) {
        let text = std::fs::read_to_string(&e).unwrap();
        files += 1;
        for secret in [
            "QTOKEN-1",
            "BEARER-2",
            "COOKIE-3",
            "PASSWORD-4",
            "COOKIE-5",
            "TOKEN-6",
        ] {
            assert!(
                !text.contains(secret),
                "{secret} in {}:\n{text}",
                e.display()
            );
        }
    }
    assert!(files >= 6, "{files} files written");
    let story = std::fs::read_to_string(d.path().join("lib/login/fixture.toml")).unwrap();
    assert!(
        story.contains("https://app.example.com → http://karachi-dev.localhost:8080")
            && story.contains("Recorded by Firefox 140.0"),
        "{story}"
    );
    let (code, out, _) = run_cli(d.path(), &["fixtures", "--dir", "lib", "verify", "login"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn an_allowed_entry_still_makes_a_fixture_and_says_so() {
    let d = tempfile::tempdir().unwrap();
    let h = |n: &str, v: &str| json!({"name": n, "value": v});
    let har = json!({"log": {"entries": [{
        "request": {"method": "GET", "url": "http://api.test:5000/items", "headers": [h("Origin", "http://web.test:5173")]},
        "response": {"status": 200, "headers": [h("Access-Control-Allow-Origin", "http://web.test:5173")],
                     "content": {"mimeType": "image/png", "text": "iVBORw0KGgo=", "encoding": "base64"}}}]}});
    write(d.path(), "ok.har", &har.to_string());
    let (code, out, err) = run_cli(
        d.path(),
        &[
            "fixtures",
            "--dir",
            "lib",
            "new",
            "ok",
            "--from-har",
            "ok.har",
            "--entry",
            "0",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("ALLOWED: the fixture guards against a regression"),
        "{out}"
    );
    assert!(err.contains("binary"), "{err}");
    let cors = std::fs::read_to_string(d.path().join("lib/ok/cors.toml")).unwrap();
    assert!(
        cors.contains("\"Access-Control-Allow-Origin: http://karachi-dev.localhost:8080\""),
        "{cors}"
    );
    let (code, _, err) = run_cli(
        d.path(),
        &[
            "fixtures",
            "--dir",
            "lib",
            "new",
            "nope",
            "--from-har",
            "ok.har",
            "--entry",
            "7",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "there is no entry 7 (log.entries holds 1, counted from 0); pick one of: --entry 0"
        ),
        "{err}"
    );
}
