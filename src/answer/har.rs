//! Verdicts for the requests of a HAR: what `explain` prints for one, and what
//! `fixtures new --from-har` expects of its fixture. A HAR often cannot say whether the page
//! sent credentials, or holds no response for a load that failed; these verdicts say so
//! rather than guess ALLOWED.

use crate::browser::{
    evaluate_in, evaluate_recorded_failure, normalize_method, Browser, Credentials,
    CredentialsEvidence, FixContext, HarImport, HarItem, Request, Scenario, Verdict,
};

/// The credentials mode a fixture reproduces: `include` when a cookie was sent or a
/// response allowed credentials, `same-origin` (fetch's default) otherwise.
pub fn inferred_credentials(item: &HarItem) -> Credentials {
    match item.credentials {
        CredentialsEvidence::CookieSent | CredentialsEvidence::Unknown { hint: true } => {
            Credentials::Include
        }
        CredentialsEvidence::Unknown { hint: false } => Credentials::SameOrigin,
    }
}

/// `sandbox probe …`: the command that sends this request to the live server and judges
/// its real answers.
pub fn probe_command(r: &Request) -> String {
    let q = |s: &str| {
        shlex::try_quote(s)
            .map(|c| c.into_owned())
            .unwrap_or_else(|_| format!("'{s}'"))
    };
    let mut cmd = format!("sandbox probe {} --origin {}", q(&r.url), q(&r.origin));
    let method = normalize_method(&r.method);
    if method != "GET" {
        cmd.push_str(&format!(" -X {}", q(&method)));
    }
    for (n, v) in r.headers.lines() {
        cmd.push_str(&format!(" -H {}", q(&format!("{n}: {v}"))));
    }
    if r.credentials != Credentials::SameOrigin {
        cmd.push_str(&format!(" --credentials {}", r.credentials.as_str()));
    }
    cmd
}

/// The verdict on `item` with its request sent in `credentials` mode, in Chromium.
pub fn judge_as(item: &HarItem, credentials: Credentials, ctx: &FixContext) -> (Scenario, Verdict) {
    judge_as_in(item, credentials, ctx, Browser::Chromium)
}

/// [`judge_as`] in `browser`.
fn judge_as_in(
    item: &HarItem,
    credentials: Credentials,
    ctx: &FixContext,
    browser: Browser,
) -> (Scenario, Verdict) {
    let mut s = item.scenario.clone();
    s.request.credentials = credentials;
    let v = match &item.failed {
        Some(f) => {
            let probe = format!(
                "find out what the server answers: {}",
                probe_command(&s.request)
            );
            evaluate_recorded_failure(&s, ctx, f, Some(probe), browser)
        }
        None => evaluate_in(&s, ctx, browser),
    };
    (s, v)
}

fn same_judgement(a: &Verdict, b: &Verdict) -> bool {
    a.outcome == b.outcome && a.cors_error == b.cors_error
}

/// The verdicts for one item: one when the credentials mode is known or changes nothing,
/// else both (the likelier first), each saying which mode it assumes.
pub fn judge_item(item: &HarItem, ctx: &FixContext) -> Vec<(Scenario, Verdict)> {
    let CredentialsEvidence::Unknown { hint } = item.credentials else {
        return vec![judge_as(item, Credentials::Include, ctx)];
    };
    let plain = judge_as(item, Credentials::SameOrigin, ctx);
    let credentialed = judge_as(item, Credentials::Include, ctx);
    let hint_note = "a response carries `Access-Control-Allow-Credentials: true`, a strong \
                     hint that the page sent credentials";
    if same_judgement(&plain.1, &credentialed.1) {
        let (mut one, other) = if hint {
            (credentialed, "same-origin")
        } else {
            (plain, "include")
        };
        one.1.notes.push(format!(
            "the HAR does not say whether the page sent credentials (exports drop cookies); \
             with credentials `{other}` the verdict is the same"
        ));
        return vec![one];
    }
    let mut pair = if hint {
        [credentialed, plain]
    } else {
        [plain, credentialed]
    };
    for (s, v) in &mut pair {
        let mode = s.request.credentials.as_str();
        v.id =
            v.id.take()
                .map(|id| format!("{id} [if credentials: {mode}]"));
        v.notes.push(format!(
            "the HAR does not say whether the page sent credentials (exports drop cookies), \
             and the verdict depends on it: this one assumes `credentials: \"{mode}\"`"
        ));
        if hint {
            v.notes.push(hint_note.to_owned());
        }
    }
    pair.into()
}

/// Every item's verdicts in Chromium, each noting which browser recorded the file when it
/// was not a Chromium one.
pub fn judge_import(import: &HarImport, ctx: &FixContext) -> Vec<(Scenario, Verdict)> {
    judge_import_in(import, ctx, &[Browser::Chromium])
}

/// [`judge_import`] for each of `engines`: each item's verdicts one engine after another.
/// Which credentials modes are worth a verdict is decided once, by Chromium's judgement,
/// so every engine speaks to the same cases.
pub fn judge_import_in(
    import: &HarImport,
    ctx: &FixContext,
    engines: &[Browser],
) -> Vec<(Scenario, Verdict)> {
    let note = import.recorder_note();
    let mut out = Vec::new();
    for item in &import.items {
        for (s, v) in judge_item(item, ctx) {
            for &browser in engines {
                let mut v = if browser == Browser::Chromium {
                    v.clone()
                } else {
                    let (_, mut other) = judge_as_in(item, s.request.credentials, ctx, browser);
                    other.id.clone_from(&v.id);
                    other
                };
                if let Some(n) = &note {
                    v.notes.push(n.clone());
                }
                out.push((s.clone(), v));
            }
        }
    }
    out
}

/// What to say on standard error when a HAR holds nothing to judge.
pub fn nothing_to_judge(import: &HarImport) -> String {
    let recorded = import
        .recorder
        .as_ref()
        .map(|r| format!(" (recorded by {})", r.label))
        .unwrap_or_default();
    let left_out = import
        .skipped
        .summary()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    format!(
        "read {} HAR entries{recorded}, {} of them cross-origin CORS requests (an `Origin` \
         header for another origin){left_out}: nothing to judge. Record with the page's \
         cross-origin requests in view, or check the export kept request headers.",
        import.entries, import.cross_origin_entries
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::{import_har, CorsError, Outcome};
    use serde_json::json;

    fn har(entries: serde_json::Value) -> HarImport {
        import_har(&json!({"log": {"entries": entries}})).unwrap()
    }

    #[test]
    fn a_failed_load_is_never_allowed_and_says_how_to_find_out() {
        let h = har(json!([{
            "request": {"method": "GET", "url": "http://api.test:3000/x",
                        "headers": [{"name": "Origin", "value": "http://frontend.test:8080"}]},
            "response": {"status": 0, "headers": []}, "_error": "net::ERR_FAILED"}]));
        let all = judge_import(&h, &FixContext::Generic);
        assert!(!all.is_empty());
        for (_, v) in &all {
            assert_eq!(v.outcome, Outcome::Blocked);
            assert!(v
                .message
                .as_deref()
                .unwrap()
                .contains("recorded this load as failed (net::ERR_FAILED)"));
            assert!(
                v.fix.as_deref().unwrap().contains(
                    "sandbox probe http://api.test:3000/x --origin http://frontend.test:8080"
                ),
                "{:?}",
                v.fix
            );
            assert!(v
                .notes
                .iter()
                .any(|n| n.contains("Access-Control-Allow-Origin: http://frontend.test:8080")));
        }
    }

    #[test]
    fn a_failed_actual_after_a_failing_preflight_names_the_cors_error() {
        let o = json!({"name": "Origin", "value": "http://frontend.test:8080"});
        let h = har(json!([
            {"request": {"method": "OPTIONS", "url": "http://api.test:3000/p", "headers": [o,
                {"name": "Access-Control-Request-Method", "value": "PUT"}]},
             "response": {"status": 204, "headers": [{"name": "Access-Control-Allow-Origin", "value": "http://frontend.test:8080"}]}},
            {"request": {"method": "PUT", "url": "http://api.test:3000/p", "headers": [o]},
             "response": {"status": 0}, "_error": "net::ERR_FAILED"}]));
        let all = judge_import(&h, &FixContext::Generic);
        assert_eq!(
            all[0].1.cors_error,
            Some(CorsError::MethodDisallowedByPreflightResponse)
        );
    }

    #[test]
    fn unknown_credentials_give_both_verdicts_the_hinted_one_first() {
        let h = har(json!([{
            "request": {"method": "GET", "url": "http://api.test:3000/x",
                        "headers": [{"name": "Origin", "value": "http://frontend.test:8080"}]},
            "response": {"status": 200, "headers": [
                {"name": "Access-Control-Allow-Origin", "value": "*"},
                {"name": "Access-Control-Allow-Credentials", "value": "true"}]}}]));
        let all = judge_import(&h, &FixContext::Generic);
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0].1.cors_error,
            Some(CorsError::WildcardOriginNotAllowed)
        );
        assert!(all[0]
            .1
            .id
            .as_deref()
            .unwrap()
            .ends_with("[if credentials: include]"));
        assert!(all[1].1.is_allowed());
        assert_eq!(inferred_credentials(&h.items[0]), Credentials::Include);
    }
}
