//! The API origin's CORS policy file: its model, validation and compiled form.
//!
//! Owns what a policy *means*. In `mode = "actix-cors"` (the default) the fields mirror the
//! actix-cors builder; anything actix-cors would refuse, or that could never match what a
//! browser sends, is rejected here with its line and column, because actix-cors itself only
//! fails later with an empty `()` error. Pure: takes a [`Source`], returns a [`Policy`] or a
//! located error plus lint warnings. Turning a policy into an `actix_cors::Cors` is
//! `serve::cors_layer`'s job.
//!
//! `allowed_origins` may hold the placeholder [`STATIC_ORIGINS`] (`"sandbox:static"`): every
//! static origin of this sandbox, as served. Where those are is not this module's to know, so
//! it keeps the placeholder as written and [`Policy::with_static_origins`] replaces it with the
//! list the caller (`state::load`) passes in, at startup and on every reload.

mod actix_mode;
mod exact_mode;
mod express_mode;
mod list;

use serde::Deserialize;
use toml::Spanned;

use crate::source_file::{LoadError, Source};

pub use actix_mode::ActixCorsPolicy;
pub use exact_mode::{ExactPolicy, ExactRule, PathMatch, RequestKind, NGINX_ADD_HEADER_STATUSES};
pub use express_mode::{
    ExpressAnswer, ExpressOrigin, ExpressPolicy, JsRegex, OriginMatch, DEFAULT_METHODS,
};
pub use list::AnyOr;

/// In `allowed_origins`: every static origin of this sandbox, as served. It is not an origin
/// (no `://`), so no browser's `Origin` can ever equal it; the state replaces it with each
/// static origin's URLs (host name and loopback address, actual port) when it loads the
/// policy ([`Policy::with_static_origins`]), so a project keeps working under `--port` and
/// when its page is opened as `http://127.0.0.1:PORT`.
pub const STATIC_ORIGINS: &str = "sandbox:static";

/// A validated policy, ready to be served.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// File name shown to the user (`cors.toml`), used in fixes and logs.
    pub file_name: String,
    pub rules: PolicyRules,
    /// Things that are legal but probably not what the user wants.
    pub warnings: Vec<String>,
    /// The embedded default is in force: the user has no policy file yet.
    pub embedded: bool,
}

impl PolicyRules {
    /// The mode as the file spells it.
    pub fn mode_name(&self) -> &'static str {
        match self {
            PolicyRules::ActixCors(_) => "actix-cors",
            PolicyRules::Exact(_) => "exact",
            PolicyRules::Express(_) => "express",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PolicyRules {
    ActixCors(ActixCorsPolicy),
    /// `mode = "exact"`: literal status and header lines (see `exact_mode`).
    Exact(ExactPolicy),
    /// `mode = "express"`: the npm `cors` middleware's options (see `express_mode`).
    Express(ExpressPolicy),
}

impl Policy {
    /// Whether fixes name header lines rather than actix-cors fields: in exact mode the file
    /// lists the lines, and in express mode the stack fix (`cors()` options) says the rest.
    pub fn is_exact(&self) -> bool {
        matches!(self.rules, PolicyRules::Exact(_) | PolicyRules::Express(_))
    }

    /// The policy with [`STATIC_ORIGINS`] in `allowed_origins` replaced by `served`, the static
    /// origins as this sandbox serves them (in that place, without repeating an origin the
    /// list already names). Exact mode has no origin list (a rule's `origin` is refused as
    /// the placeholder when it loads), so it is returned as it is.
    pub fn with_static_origins(mut self, served: &[String]) -> Policy {
        if let PolicyRules::ActixCors(p) = &mut self.rules {
            if let AnyOr::List(list) = &mut p.allowed_origins {
                if list.iter().any(|o| o == STATIC_ORIGINS) {
                    let mut out: Vec<String> = Vec::with_capacity(list.len() + served.len());
                    for o in list.drain(..) {
                        let items = if o == STATIC_ORIGINS {
                            served.to_vec()
                        } else {
                            vec![o]
                        };
                        for item in items {
                            if !out.contains(&item) {
                                out.push(item);
                            }
                        }
                    }
                    *list = out;
                }
            }
        }
        self
    }

    /// A warning when this (expanded) policy lets none of `served`, the sandbox's own static
    /// origins, through: every page the sandbox serves would be blocked, which after a
    /// `--port` change or a page opened by another name is rarely what the user meant.
    /// `None` for `"*"`, for exact mode (whose rules are written to reproduce a broken server)
    /// and when there is no static origin.
    pub fn own_origins_warning(&self, served: &[String]) -> Option<String> {
        let PolicyRules::ActixCors(p) = &self.rules else {
            return None;
        };
        let AnyOr::List(allowed) = &p.allowed_origins else {
            return None;
        };
        if served.is_empty() || served.iter().any(|s| allowed.contains(s)) {
            return None;
        }
        let allows = if allowed.is_empty() {
            "no origin at all".to_string()
        } else {
            allowed.join(", ")
        };
        Some(format!(
            "{} allows none of this sandbox's static origins, so their pages' requests will be blocked: it allows {allows}; the sandbox serves {}. Add them to allowed_origins, or write \"{STATIC_ORIGINS}\" there to allow each static origin wherever it listens",
            self.file_name,
            served.join(", ")
        ))
    }

    /// The mode as the file spells it, for the banner and the inspector.
    pub fn mode_name(&self) -> &'static str {
        self.rules.mode_name()
    }

    /// Whether any answer of this policy can let a credentialed request through
    /// (`Access-Control-Allow-Credentials: true`): then cookies are meant to flow.
    pub fn allows_credentials(&self) -> bool {
        match &self.rules {
            PolicyRules::ActixCors(p) => p.supports_credentials,
            PolicyRules::Express(p) => p.credentials,
            PolicyRules::Exact(p) => p.rules.iter().any(|r| {
                r.headers.iter().any(|(n, v)| {
                    n.eq_ignore_ascii_case("access-control-allow-credentials") && v.trim() == "true"
                })
            }),
        }
    }
}

/// What changed between two policies, for the reload line (`None`: nothing that matters).
/// The lint on a preflight max-age longer than the shortest engine cap (WebKit's ten
/// minutes): each engine then keeps a cached preflight for a different time, so after a
/// change one browser sees it and another does not. `what` names the setting as written
/// (`max_age = 3600`).
pub(crate) fn max_age_warning(what: &str, seconds: i64) -> Option<String> {
    use crate::browser::Browser;
    let kept = |b: Browser| b.quirks().cache_lifetime(seconds);
    if Browser::ALL.iter().all(|b| kept(*b) == seconds) {
        return None;
    }
    let each: Vec<String> = Browser::ALL
        .iter()
        .map(|b| format!("{} s in {}", kept(*b), b.display_name()))
        .collect();
    Some(format!(
        "{what}: a cached preflight can hide later policy changes, for up to {} (each engine's own cap), so after a change one browser shows it and another does not; keep it short while the policy changes",
        each.join(", ")
    ))
}

pub fn describe_change(old: &Policy, new: &Policy) -> Option<String> {
    if old.rules == new.rules {
        return None;
    }
    match (&old.rules, &new.rules) {
        (PolicyRules::ActixCors(a), PolicyRules::ActixCors(b)) => {
            let fields = a.changed_fields(b);
            Some(if fields.is_empty() {
                "changed".into()
            } else {
                fields.join(", ")
            })
        }
        (PolicyRules::Exact(a), PolicyRules::Exact(b)) => Some(a.describe_change(b)),
        (PolicyRules::Express(a), PolicyRules::Express(b)) => Some(a.changed_options(b).join(", ")),
        (_, b) => Some(format!("mode → {}", b.mode_name())),
    }
}

#[derive(Deserialize)]
struct ModeOnly {
    mode: Option<Spanned<String>>,
}

const MODES: &[&str] = &["actix-cors", "exact", "express"];

/// Parses and validates a policy file.
pub fn load(src: &Source, file_name: &str) -> Result<Policy, LoadError> {
    let head: ModeOnly = src.parse()?;
    let mode = head
        .mode
        .as_ref()
        .map(|m| m.get_ref().as_str())
        .unwrap_or("actix-cors");
    match mode {
        "actix-cors" => {
            let (rules, warnings) = actix_mode::load(src)?;
            Ok(Policy {
                file_name: file_name.to_string(),
                rules: PolicyRules::ActixCors(rules),
                warnings,
                embedded: false,
            })
        }
        "exact" => {
            let (rules, warnings) = exact_mode::load(src)?;
            Ok(Policy {
                file_name: file_name.to_string(),
                rules: PolicyRules::Exact(rules),
                warnings,
                embedded: false,
            })
        }
        "express" => {
            let (rules, warnings) = express_mode::load(src)?;
            Ok(Policy {
                file_name: file_name.to_string(),
                rules: PolicyRules::Express(rules),
                warnings,
                embedded: false,
            })
        }
        other => {
            let span = head.mode.as_ref().map(|m| m.span());
            let help = match crate::source_file::did_you_mean(other, MODES) {
                Some(b) => format!("did you mean `{b}`?"),
                None => format!("known modes: {}", MODES.join(", ")),
            };
            Err(src.error_at(
                span,
                &format!("unknown policy mode `{other}`"),
                "here",
                Some(help),
            ))
        }
    }
}

/// The text of the zero-config API's policy: the frontend's origins, the usual methods and
/// headers, credentials on. No max-age, so a browser re-asks within 5 s of a change.
pub fn default_text(frontend_origins: &[String]) -> String {
    let origins: Vec<String> = frontend_origins
        .iter()
        .map(|o| format!("\"{o}\""))
        .collect();
    format!(
        "# embedded default policy (write a cors.toml and point sandbox.toml at it to edit)\n\
         mode = \"actix-cors\"\n\
         allowed_origins = [{}]\n\
         allowed_methods = [\"GET\", \"POST\", \"PUT\", \"PATCH\", \"DELETE\"]\n\
         allowed_headers = [\"Content-Type\", \"Authorization\", \"X-PKR-Auth\"]\n\
         expose_headers = [\"X-Total-Count\"]\n\
         supports_credentials = true\n",
        origins.join(", ")
    )
}

/// The name the embedded default policy goes by (inspector, status, errors).
pub const EMBEDDED_NAME: &str = "embedded default policy";

/// The default policy itself, parsed from [`default_text`] so the two never disagree.
pub fn default_for(frontend_origins: &[String]) -> Result<Policy, LoadError> {
    let src = Source::embedded(EMBEDDED_NAME, &default_text(frontend_origins));
    let mut policy = load(&src, EMBEDDED_NAME)?;
    policy.embedded = true;
    Ok(policy)
}

impl Policy {
    /// A better fix than the response alone gives, for an exchange the browser blocked with a
    /// CORS error: the actix-cors policy's own reason for refusing it (an actix-cors 400
    /// looks like a missing origin to the browser, whatever the cause). `preflight` is the
    /// method and header names the preflight asked for, spelled as the page wrote them when
    /// that is known. `None` in exact mode, where the response is the whole story.
    pub fn refusal_fix(
        &self,
        blocked_by_cors: bool,
        origin: &str,
        preflight: Option<(&str, &[String])>,
    ) -> Option<String> {
        match &self.rules {
            PolicyRules::ActixCors(p) if blocked_by_cors => {
                p.refusal(&self.fix_target(), origin, preflight)
            }
            _ => None,
        }
    }

    /// Where a fix is to be made, for fix texts ("add … to allowed_origins in {this}"): the
    /// policy file, or, while the embedded default is in force, the file to create first.
    pub fn fix_target(&self) -> String {
        if self.embedded {
            "a cors.toml of your own (the embedded default is in force: copy it from the inspector, then set policy = \"cors.toml\" on the api origin in sandbox.toml)".to_string()
        } else {
            self.file_name.clone()
        }
    }
}

#[cfg(test)]
mod tests;
