//! `upstream = "http://127.0.0.1:5000"` and `cors = "sandbox" | "upstream"`: where unmatched
//! and `proxy = true` requests are forwarded, and whose CORS answers reach the browser.
//!
//! Owns the rule that an upstream is a plain-HTTP loopback origin (nothing else can be
//! reached through the sandbox), never one of the sandbox's own listeners, and that `cors`
//! needs an upstream. It must not forward anything: `serve::api` does that.

use std::net::{IpAddr, SocketAddr};

use toml::Spanned;

use crate::routes::Upstream;
use crate::source_file::{LoadError, Source};

/// The file's `upstream`, if any, with how its CORS answers are treated.
pub(super) fn from_file(
    src: &Source,
    upstream: &Option<Spanned<String>>,
    cors: &Option<Spanned<String>>,
    listeners: &[SocketAddr],
) -> Result<Option<Upstream>, LoadError> {
    let Some(u) = upstream else {
        if let Some(c) = cors {
            return Err(src.error_at(
                Some(c.span()),
                "`cors` only applies to an `upstream`",
                "here",
                Some("add `upstream = \"http://127.0.0.1:5000\"`".into()),
            ));
        }
        return Ok(None);
    };
    let pass_cors = match cors.as_ref().map(|c| (c.get_ref().as_str(), c.span())) {
        None | Some(("sandbox", _)) => false,
        Some(("upstream", _)) => true,
        Some((other, span)) => {
            return Err(src.error_at(
                Some(span),
                &format!("`cors = \"{other}\"`: use \"sandbox\" or \"upstream\""),
                "here",
                None,
            ))
        }
    };
    let up = origin(src, u, pass_cors)?;
    if let Some(l) = listeners.iter().find(|l| accepts(l, &up)) {
        return Err(src.error_at(
            Some(u.span()),
            &format!(
                "this upstream is this sandbox's own listener {l}: every request forwarded to it would come back and be forwarded again"
            ),
            "this upstream",
            Some("point `upstream` at your real API's port".into()),
        ));
    }
    Ok(Some(up))
}

/// Whether a socket listening on `l` is where connections to the upstream would land.
fn accepts(l: &SocketAddr, up: &Upstream) -> bool {
    let ip = up.host.trim_matches(['[', ']']).parse::<IpAddr>().ok();
    l.port() == up.port && (l.ip().is_unspecified() || ip == Some(l.ip()))
}

fn origin(src: &Source, u: &Spanned<String>, pass_cors: bool) -> Result<Upstream, LoadError> {
    let err = |msg: &str| {
        src.error_at(
            Some(u.span()),
            msg,
            "this upstream",
            Some("e.g. upstream = \"http://127.0.0.1:5000\"".into()),
        )
    };
    let url = url::Url::parse(u.get_ref()).map_err(|e| err(&format!("not a URL: {e}")))?;
    if url.scheme() != "http" {
        return Err(err(
            "the upstream is plain http:// (it is your API on this machine)",
        ));
    }
    let host = match url.host() {
        Some(url::Host::Ipv4(ip)) if ip.is_loopback() => ip.to_string(),
        Some(url::Host::Ipv6(ip)) if ip.is_loopback() => format!("[{ip}]"),
        Some(url::Host::Domain(d)) if d == "localhost" || d.ends_with(".localhost") => {
            "127.0.0.1".to_string()
        }
        _ => return Err(err("the upstream must be on this machine (loopback)")),
    };
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        return Err(err(
            "the upstream is an origin only: no path, query or user",
        ));
    }
    Ok(Upstream {
        url: url.as_str().trim_end_matches('/').to_string(),
        host,
        port: url.port_or_known_default().unwrap_or(80),
        pass_cors,
    })
}
