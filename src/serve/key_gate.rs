//! The per-run key ([`crate::state::RunKey`]) at the door of a static origin.
//!
//! `up` prints URLs carrying `?sandbox-key=KEY`. A request for a page with the right key is
//! answered `303 See Other` to the same URL without it, with the key as an HttpOnly,
//! `SameSite=Strict` cookie for `/__sandbox`: the key leaves the address bar and history,
//! page scripts cannot read it, and the browser sends it only on this host's own requests.
//! The cookie is named after the port, because browsers share `localhost` cookies between
//! ports and two sandboxes must not overwrite each other's key.
//!
//! The machine endpoints ([`needs_key`]) then answer only requests that present the key, as
//! that cookie or as the `sandbox-key` query parameter (for scripts: `curl
//! '…/__sandbox/requests?sandbox-key=KEY'`); others get 403 saying where the key is. The
//! event stream answers without it too, but then carries reload news only, never requests
//! (live reload must work on any page, opened from any URL).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};

use super::OriginCtx;
use crate::state::RunKey;

/// The query parameter that carries the key.
pub const PARAM: &str = "sandbox-key";

/// The endpoints that answer only with the key: the journal and what is in force.
pub fn needs_key(path: &str) -> bool {
    matches!(
        path,
        "/__sandbox/requests" | "/__sandbox/in-force" | "/__sandbox/status"
    )
}

/// Whether the request presents `key`, in the query or in one of the sandbox's cookies.
pub fn has_key(headers: &HeaderMap, query: &str, key: &RunKey) -> bool {
    query_key(query).is_some_and(|k| key.matches(&k))
        || headers
            .get_all(header::COOKIE)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| name.starts_with(PARAM) && key.matches(value.trim()))
}

fn query_key(query: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == PARAM)
        .map(|(_, value)| value.into_owned())
}

/// The 403 of a machine endpoint asked without the key.
pub fn refused() -> HttpResponse {
    HttpResponse::Forbidden()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(
            "sandbox: this endpoint needs this run's key. Open the inspector from the URL \
             `sandbox up` printed (…/__sandbox/?sandbox-key=…), or add ?sandbox-key=KEY to the \
             request. Keys change on every start.\n",
        )
}

/// Trades a page URL's `sandbox-key` for the cookie; refuses a wrong (or stale) key, so a
/// mistyped URL says so instead of silently leaving the inspector empty.
pub async fn door(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let presented = query_key(req.query_string());
    let ctx = req.app_data::<web::Data<OriginCtx>>().cloned();
    let (Some(presented), Some(ctx)) = (presented, ctx) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    if needs_key(req.path()) || req.path() == "/__sandbox/events" {
        // Answered by the endpoint itself, for scripts that pass the key each time.
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let res = if ctx.state.key.matches(&presented) {
        let port = req
            .conn_data::<super::listen::Listening>()
            .map_or(0, |l| l.0.port());
        let cookie =
            format!("{PARAM}-{port}={presented}; Path=/__sandbox; HttpOnly; SameSite=Strict");
        HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                without_key(req.path(), req.query_string()),
            ))
            .insert_header((header::SET_COOKIE, cookie))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()
    } else {
        HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body(
                "sandbox: this is not this run's key (keys change on every start); open the \
                 URL `sandbox up` printed last\n",
            )
    };
    Ok(req.into_response(res).map_into_right_body())
}

/// The same local URL without the key. One leading slash only: `//host/…` would be a
/// protocol-relative Location, a redirect to another host.
fn without_key(path: &str, query: &str) -> String {
    let rest: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(url::form_urlencoded::parse(query.as_bytes()).filter(|(n, _)| n != PARAM))
        .finish();
    let path = format!("/{}", path.trim_start_matches('/'));
    if rest.is_empty() {
        path
    } else {
        format!("{path}?{rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn cookies(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                HeaderName::from_static("cookie"),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn the_key_is_taken_from_the_query_or_a_sandbox_cookie_only() {
        let key = RunKey::generate().unwrap();
        let k = key.as_str().unwrap().to_string();
        let none = HeaderMap::new();
        assert!(has_key(&none, &format!("a=1&sandbox-key={k}"), &key));
        assert!(has_key(
            &cookies(&["x=1", &format!("other=2; sandbox-key-8080={k}")]),
            "",
            &key
        ));
        assert!(!has_key(&none, "", &key));
        assert!(!has_key(&none, "sandbox-key=", &key));
        assert!(!has_key(&none, &format!("key={k}"), &key));
        assert!(!has_key(&cookies(&[&format!("session={k}")]), "", &key));
        assert!(!has_key(&cookies(&["sandbox-key-8080=00"]), "", &key));
    }

    #[test]
    fn the_redirect_stays_on_this_origin_and_drops_only_the_key() {
        assert_eq!(without_key("/", "sandbox-key=k"), "/");
        assert_eq!(without_key("/__sandbox/", "sandbox-key=k"), "/__sandbox/");
        assert_eq!(
            without_key("//evil.example/x", "sandbox-key=k"),
            "/evil.example/x"
        );
        assert_eq!(without_key("/a", "x=1&sandbox-key=k&y=2"), "/a?x=1&y=2");
        assert!(needs_key("/__sandbox/requests") && !needs_key("/__sandbox/events"));
    }
}
