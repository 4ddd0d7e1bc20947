//! `explain` on HAR files as Chrome, Firefox and Fiddler write them, and on scenario JSON
//! with the mistakes people make.

use crate::util::sandbox::*;
use serde_json::{json, Value};

const PAGE: &str = "http://karachi-dev.localhost:8080";
const API: &str = "http://lahore-api.localhost:3000";

fn header_list(h: &[(&str, &str)]) -> Value {
    Value::Array(
        h.iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect(),
    )
}

fn entry(
    method: &str,
    url: &str,
    req: &[(&str, &str)],
    status: i64,
    res: &[(&str, &str)],
) -> Value {
    json!({"startedDateTime": "2026-12-02T06:00:00.000Z", "time": 1,
           "request": {"method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": header_list(req)},
           "response": {"status": status, "statusText": "", "headers": header_list(res),
                        "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": ""}})
}

fn json_out(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn the_readme_explain_example_runs_as_printed() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let at = readme
        .find("`explain` judges recorded exchanges")
        .expect("README explains explain");
    let start = readme[at..].find("```json\n").expect("a json example") + at + 8;
    let end = readme[start..].find("```").unwrap() + start;
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "example.json", &readme[start..end]);
    let (code, out, err) = run_cli(d.path(), &["explain", "example.json", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v = json_out(&out);
    assert_eq!(v["cors_error"], "MultipleAllowOriginValues", "{v:#}");
}

#[test]
fn scenario_json_is_strict_and_errors_name_path_and_position() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "typo.json", "{\"request\": {\"url\": \"http://a.test/x\", \"origin\": \"http://b.test\"},\n \"actual_responce\": {\"status\": 200}}");
    let (code, out, err) = run_cli(d.path(), &["explain", "typo.json"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("line 2, column")
            && err.contains("unknown key `actual_responce`")
            && err.contains("did you mean `actual_response`?"),
        "{err}"
    );
    write(d.path(), "type.json", "[{\"request\": {\"url\": \"http://a.test/x\", \"origin\": \"http://b.test\"},\n \"prior\": [{\"request\": {\"url\": 5, \"origin\": \"x\"}}]}]");
    let (code, _, err) = run_cli(d.path(), &["explain", "type.json"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("line 2, column")
            && err.contains("[0].prior[0].request.url")
            && err.contains("expected a string"),
        "{err}"
    );
}

#[test]
fn a_bom_prefixed_fiddler_export_parses() {
    let d = tempfile::tempdir().unwrap();
    let har = json!({"log": {"version": "1.2", "creator": {"name": "Fiddler", "version": "5.0.20204.45441"},
        "entries": [entry("GET", &format!("{API}/api/student"), &[("Host", "lahore-api.localhost:3000"), ("Origin", PAGE)], 200, &[])]}});
    write(d.path(), "fiddler.har", &format!("\u{feff}{har:#}"));
    let (code, out, err) = run_cli(d.path(), &["explain", "fiddler.har", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v = json_out(&out);
    assert_eq!(v[0]["cors_error"], "MissingAllowOriginHeader", "{v:#}");
    assert!(v[0]["notes"].to_string().contains("recorded by Fiddler 5.0.20204.45441 (the browser is not named): judged by Chromium's rules"), "{v:#}");
}

#[test]
fn a_har_with_nothing_cross_origin_says_so_on_stderr() {
    let d = tempfile::tempdir().unwrap();
    let har = json!({"log": {"creator": {"name": "WebInspector", "version": "537.36"},
        "entries": [entry("GET", &format!("{PAGE}/"), &[], 200, &[]), entry("GET", &format!("{PAGE}/app.js"), &[], 200, &[])]}});
    write(d.path(), "same.har", &har.to_string());
    let (code, out, err) = run_cli(d.path(), &["explain", "same.har"]);
    assert_eq!((code, out.as_str()), (0, ""));
    assert!(
        err.contains(
            "read 2 HAR entries (recorded by WebInspector 537.36), 0 of them cross-origin"
        ),
        "{err}"
    );
    let (code, out, _) = run_cli(d.path(), &["explain", "same.har", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(json_out(&out), json!([]));
}

#[test]
fn a_failed_load_is_blocked_with_the_probe_that_finds_out() {
    let d = tempfile::tempdir().unwrap();
    let mut failed = entry(
        "PUT",
        &format!("{API}/api/payment"),
        &[("Origin", PAGE), ("X-PKR-Auth", "t")],
        0,
        &[],
    );
    failed["_error"] = json!("net::ERR_FAILED");
    let pre = entry(
        "OPTIONS",
        &format!("{API}/api/payment"),
        &[
            ("Origin", PAGE),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "x-pkr-auth"),
        ],
        204,
        &[
            ("Access-Control-Allow-Origin", PAGE),
            ("Access-Control-Allow-Methods", "PUT"),
            ("Access-Control-Allow-Headers", "x-pkr-auth"),
        ],
    );
    let har = json!({"log": {"entries": [failed, pre]}});
    write(d.path(), "failed.har", &har.to_string());
    let (code, out, err) = run_cli(
        d.path(),
        &["explain", "failed.har", "--json", "--fail-on-blocked"],
    );
    assert_eq!(code, 1, "{out}{err}");
    let v = json_out(&out);
    let all = v.as_array().unwrap();
    assert!(
        all.iter().all(|verdict| verdict["outcome"] == "blocked"),
        "{v:#}"
    );
    // Without credentials the preflight passes, so the HAR cannot tell why the PUT failed.
    let plain = &all[0];
    assert!(
        plain["id"]
            .as_str()
            .unwrap()
            .ends_with("[if credentials: same-origin]"),
        "{v:#}"
    );
    assert!(plain["message"]
        .as_str()
        .unwrap()
        .contains("recorded this load as failed (net::ERR_FAILED)"));
    assert!(
        plain["fix"].as_str().unwrap().contains(&format!(
            "sandbox probe {API}/api/payment --origin {PAGE} -X PUT -H 'X-PKR-Auth: t'"
        )),
        "{v:#}"
    );
    // With credentials the recorded preflight is the cause.
    assert_eq!(
        all[1]["cors_error"], "PreflightInvalidAllowCredentials",
        "{v:#}"
    );
}
