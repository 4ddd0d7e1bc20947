//! Cookie verdicts: for a credentialed request, whether each cookie the browser holds is
//! sent and whether each `Set-Cookie` line of the response is stored, with Chromium's
//! blocked reasons, the reason in words and the fix. Separate from the CORS verdict: a
//! response CORS blocks still has its cookies stored (real Chromium does), and a request
//! CORS allows may still carry none of them, which is the 401 users call "CORS".

mod jar;
mod rules;
mod set_cookie;
mod words;

pub use jar::CookieJar;
pub use rules::{devtools_lists_mismatch, DEVTOOLS_COOKIE_REASONS};
pub use set_cookie::SetCookie;

use super::browsers::Browser;
use super::cookie_model::{CookieAction, CookieOutcome, CookieVerdict, HeldCookie};
use super::model::{Credentials, Scenario};
use super::secure_context::potentially_trustworthy;
use super::site::Site;
use super::url::{Origin, Url};
use rules::{default_path, Blocked, Context, Store};
use words::Names;

/// The cookie verdicts for `s` in `browser` and notes about cookies the request does not
/// deal with.
pub fn judge_cookies(s: &Scenario, browser: Browser) -> (Vec<CookieVerdict>, Vec<String>) {
    let (Some(page), Some(url)) = (Origin::parse(&s.request.origin), Url::parse(&s.request.url))
    else {
        return (Vec::new(), Vec::new());
    };
    let set_cookies = set_cookie_lines(s);
    let mut notes = Vec::new();
    if s.preflight_response
        .as_ref()
        .is_some_and(|r| r.headers.contains("set-cookie"))
    {
        notes.push(
            "the preflight's Set-Cookie is ignored: a preflight never carries or stores cookies"
                .to_owned(),
        );
    }
    if s.redirects
        .iter()
        .any(|h| h.response.headers.contains("set-cookie"))
    {
        notes.push("Set-Cookie lines on redirect hops are not judged".to_owned());
    }
    let same_origin = page.same_origin_with(&url);
    let included = match s.request.credentials {
        Credentials::Include => true,
        Credentials::SameOrigin => same_origin,
        Credentials::Omit => false,
    };
    if !included {
        if !s.cookies.is_empty() || !set_cookies.is_empty() {
            notes.push(format!(
                "credentials '{}' sends no cookies {}and ignores the response's Set-Cookie: pass \
                 `credentials: 'include'` to fetch() (XMLHttpRequest: `withCredentials = true`), \
                 and allow credentials in the CORS policy",
                s.request.credentials.as_str(),
                if same_origin { "" } else { "cross-origin " }
            ));
        }
        return (Vec::new(), notes);
    }
    let quirks = browser.quirks();
    let page_site = Site::of_origin(&page);
    let url_site = Site::of_url(&url);
    let path = request_path(&url.rest);
    let ctx = Context {
        host: &url.host,
        path,
        page_site: page_site.as_ref(),
        cross_site: page_site.as_ref() != Some(&url_site),
        trustworthy: potentially_trustworthy(&url)
            && (quirks.loopback_http_is_secure || url.scheme == "https"),
        third_party: s.third_party_cookies.unwrap_or(quirks.third_party_cookies),
        browser,
    };
    let mut out: Vec<CookieVerdict> = s
        .cookies
        .iter()
        .map(|held| send_verdict(held, &ctx, &url_site))
        .collect();
    for line in set_cookies {
        match SetCookie::parse(line) {
            Some(c) => out.push(store_verdict(&c, &ctx, &url_site)),
            None => notes.push("a Set-Cookie line with neither name nor value is ignored".into()),
        }
    }
    (out, notes)
}

/// The `Set-Cookie` lines of the scenario's actual response, one per cookie. A recording may
/// join several in one value with newlines, as Firefox's HAR export and DevTools' protocol
/// do; a cookie line itself can hold no newline.
pub(super) fn set_cookie_lines(s: &Scenario) -> Vec<&str> {
    s.actual_response
        .as_ref()
        .map(|r| r.headers.get_all("set-cookie"))
        .unwrap_or_default()
        .into_iter()
        .flat_map(|v| v.split('\n'))
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// The path of a URL's `rest` (no query or fragment), `/` at least.
pub(super) fn request_path(rest: &str) -> &str {
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    match &rest[..end] {
        "" => "/",
        p => p,
    }
}

fn send_verdict(held: &HeldCookie, ctx: &Context, url_site: &Site) -> CookieVerdict {
    let (reasons, if_allowed) = rules::send(held, ctx);
    let names = Names {
        cookie: &held.name,
        ctx,
        url_site: &url_site.0,
        domain: held.domain.as_deref(),
        path: Some(&held.path),
        partition_site: held.partition_site.as_deref(),
        host_prefix: false,
        storing: false,
    };
    if reasons.is_empty() {
        let reason = if held.partitioned {
            format!(
                "sent: partitioned under {}, the page's site",
                names.page_site()
            )
        } else {
            "sent".to_owned()
        };
        return verdict(
            held.name.clone(),
            CookieAction::Send,
            CookieOutcome::Sent,
            &[],
            reason,
            None,
        );
    }
    let mut reason = format!("not sent: {}", sentence(&reasons, &names));
    if let Some(rest) = if_allowed {
        reason.push_str(&if rest.is_empty() {
            "; with third-party cookies allowed (Chrome's default outside Incognito) it would be sent".to_owned()
        } else {
            format!(
                "; with third-party cookies allowed (Chrome's default outside Incognito) it would \
                 still not be sent: {}",
                sentence_without_sites(&rest, &names)
            )
        });
    }
    let fix = fixes(&reasons, &names);
    verdict(
        held.name.clone(),
        CookieAction::Send,
        CookieOutcome::NotSent,
        &reasons,
        reason,
        fix,
    )
}

fn store_verdict(c: &SetCookie, ctx: &Context, url_site: &Site) -> CookieVerdict {
    let (result, if_allowed) = rules::store(c, ctx);
    let path = c
        .path
        .clone()
        .unwrap_or_else(|| default_path(ctx.path).to_owned());
    let names = Names {
        cookie: &c.name,
        ctx,
        url_site: &url_site.0,
        domain: c.domain.as_deref(),
        path: Some(&path),
        partition_site: None,
        host_prefix: c.prefix() == Some(set_cookie::Prefix::Host),
        storing: true,
    };
    let where_ = match &c.domain {
        Some(d) if d != ctx.host => format!("for `.{d}`"),
        _ => format!("for `{}` only", ctx.host),
    };
    match result {
        Store::Stored { partitioned: false } => verdict(
            c.name.clone(),
            CookieAction::Store,
            CookieOutcome::Stored,
            &[],
            format!("stored {where_}, path `{path}`"),
            None,
        ),
        Store::Stored { partitioned: true } => verdict(
            c.name.clone(),
            CookieAction::Store,
            CookieOutcome::StoredPartitioned,
            &[],
            format!(
                "stored {where_}, path `{path}`, partitioned under {}: sent back only while the \
                 top-level page is on that site",
                names.page_site()
            ),
            None,
        ),
        Store::Deleted => verdict(
            c.name.clone(),
            CookieAction::Store,
            CookieOutcome::Deleted,
            &[],
            format!(
                "the line has expired: it deletes any `{}` cookie {where_} on path `{path}` and \
                 stores nothing",
                c.name
            ),
            None,
        ),
        Store::Rejected(reasons) => {
            let mut reason = format!("not stored: {}", sentence(&reasons, &names));
            match if_allowed {
                Some(Store::Rejected(rest)) => reason.push_str(&format!(
                    "; with third-party cookies allowed (Chrome's default outside Incognito) it \
                     would still be refused: {}",
                    sentence_without_sites(&rest, &names)
                )),
                Some(_) => reason.push_str(
                    "; with third-party cookies allowed (Chrome's default outside Incognito) it \
                     would be stored",
                ),
                None => {}
            }
            let fix = fixes(&reasons, &names);
            verdict(
                c.name.clone(),
                CookieAction::Store,
                CookieOutcome::Rejected,
                &reasons,
                reason,
                fix,
            )
        }
    }
}

fn sentence(reasons: &[Blocked], names: &Names) -> String {
    let parts = sentence_without_sites(reasons, names);
    if reasons.iter().any(|r| words::is_cross_site(*r)) {
        format!("{}: {parts}", words::cross_site_clause(names))
    } else {
        parts
    }
}

/// The rest of a sentence after a third-party block: what else stands in the way.
fn sentence_without_sites(reasons: &[Blocked], names: &Names) -> String {
    reasons
        .iter()
        .map(|r| words::why(*r, names))
        .collect::<Vec<_>>()
        .join("; and ")
}

fn fixes(reasons: &[Blocked], names: &Names) -> Option<String> {
    let mut out: Vec<String> = Vec::new();
    // One site fixes every cross-site reason at once, so the SameSite fixes would only
    // distract from it.
    let one_site = reasons.contains(&Blocked::UserPreferences);
    for r in reasons {
        if one_site && *r != Blocked::UserPreferences && words::is_cross_site(*r) {
            continue;
        }
        if let Some(f) = words::fix(*r, names) {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    (!out.is_empty()).then(|| out.join("; and "))
}

fn verdict(
    name: String,
    action: CookieAction,
    outcome: CookieOutcome,
    reasons: &[Blocked],
    reason: String,
    fix: Option<String>,
) -> CookieVerdict {
    CookieVerdict {
        name,
        action,
        outcome,
        blocked_reasons: reasons
            .iter()
            .filter_map(|r| r.devtools_name())
            .map(str::to_owned)
            .collect(),
        reason,
        fix,
    }
}
