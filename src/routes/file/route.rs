//! One `[[route]]`: its method and path, its answers (its `[[route.response]]`s, then its own
//! keys), how it picks among them, its faults over `[defaults]`, `proxy`, and `cors`.
//!
//! Owns what ties those together: path parameters are what templates and `when` may read, and
//! `proxy = true` needs an upstream. It must not check an answer's keys itself (`response`
//! does) nor match requests (`Routes::find` does).

use toml::Spanned;

use super::faults;
use super::model::Entry;
use super::response::BodyFields;
use super::when::when;
use super::Loader;
use crate::routes::{
    normalize_method, Counter, Faults, PathPattern, Pick, Route, RouteResponse, Segment,
};
use crate::source_file::{LoadError, Source};

impl Loader<'_> {
    pub(super) fn route(
        &mut self,
        entry: &Spanned<Entry>,
        defaults: &Faults,
        has_upstream: bool,
    ) -> Result<Route, LoadError> {
        let src = self.src;
        let e = entry.get_ref();
        let method = method(src, &e.method)?;
        let path = PathPattern::parse(e.path.get_ref())
            .map_err(|msg| src.error_at(Some(e.path.span()), &msg, "this path", None))?;
        let params = params(&path);
        let proxy = proxy(src, &e.proxy, has_upstream)?;
        let own_cors = own_cors(src, &e.cors)?;
        let responses = self.responses(entry, &params)?;
        let pick = pick(src, &e.pick)?;
        let faults = faults::merge(
            src,
            defaults,
            &e.delay_ms,
            &e.error_rate,
            &e.error_status,
            &e.fault,
            &e.slow_body_ms,
        )?;
        Ok(Route {
            method,
            path,
            responses,
            pick,
            faults,
            proxy,
            own_cors,
            counter: Counter::default(),
            validation: None,
        })
    }

    fn responses(
        &mut self,
        entry: &Spanned<Entry>,
        params: &[String],
    ) -> Result<Vec<RouteResponse>, LoadError> {
        let own = BodyFields::of_route(entry);
        let mut responses = Vec::new();
        for r in entry.get_ref().response.iter().flatten() {
            let mut resp = self.response(&BodyFields::of_response(r), params)?;
            if let Some(w) = &r.get_ref().when {
                resp.when = when(self.src, w, params)?;
            }
            responses.push(resp);
        }
        // The route's own answer is the fallback after its `[[route.response]]`s (or the only
        // answer when there are none).
        if own.any() || responses.is_empty() {
            responses.push(self.response(&own, params)?);
        }
        Ok(responses)
    }
}

/// `GET` when absent, `*` for any; otherwise normalised the way fetch does.
fn method(src: &Source, m: &Option<Spanned<String>>) -> Result<String, LoadError> {
    Ok(match m {
        None => "GET".to_string(),
        Some(m) if m.get_ref() == "*" => "*".to_string(),
        Some(m) => {
            let v = m.get_ref();
            if !crate::browser::is_token(v) {
                return Err(src.error_at(
                    Some(m.span()),
                    &format!("`{v}` is not a valid method"),
                    "here",
                    Some("use e.g. \"GET\", \"PUT\" or \"*\" for any".into()),
                ));
            }
            normalize_method(v)
        }
    })
}

/// The names of the path's `{name}` segments, in order.
fn params(path: &PathPattern) -> Vec<String> {
    path.segments
        .iter()
        .filter_map(|s| match s {
            Segment::Param(p) => Some(p.clone()),
            Segment::Literal(_) => None,
        })
        .collect()
}

fn proxy(src: &Source, p: &Option<Spanned<bool>>, has_upstream: bool) -> Result<bool, LoadError> {
    let proxy = p.as_ref().is_some_and(|p| *p.get_ref());
    if proxy && !has_upstream {
        let span = p.as_ref().map(|p| p.span());
        return Err(src.error_at(
            span,
            "`proxy = true` needs an `upstream` at the top of the file",
            "here",
            Some("add `upstream = \"http://127.0.0.1:5000\"`".into()),
        ));
    }
    Ok(proxy)
}

/// `cors = "route"`: the route answers CORS itself; `"sandbox"` (the default): the policy does.
fn own_cors(src: &Source, c: &Option<Spanned<String>>) -> Result<bool, LoadError> {
    match c.as_ref().map(|c| (c.get_ref().as_str(), c.span())) {
        None | Some(("sandbox", _)) => Ok(false),
        Some(("route", _)) => Ok(true),
        Some((other, span)) => Err(src.error_at(
            Some(span),
            &format!("`cors = \"{other}\"`: use \"sandbox\" or \"route\""),
            "here",
            Some("\"route\" sends only the CORS headers this route lists, past the policy".into()),
        )),
    }
}

fn pick(src: &Source, p: &Option<Spanned<String>>) -> Result<Pick, LoadError> {
    Ok(match p {
        None => Pick::First,
        Some(p) => match p.get_ref().as_str() {
            "first" => Pick::First,
            "sequence" => Pick::Sequence,
            "random" => Pick::Random,
            other => {
                return Err(src.error_at(
                    Some(p.span()),
                    &format!("`pick = \"{other}\"`: use \"first\", \"sequence\" or \"random\""),
                    "here",
                    None,
                ))
            }
        },
    })
}
