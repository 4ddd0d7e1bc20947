//! Fixes in the user's own stack: what to change in Express's `cors()`, Starlette's
//! `CORSMiddleware`, Flask-CORS, django-cors-headers, an nginx `location`, Spring, ASP.NET
//! Core, actix-cors or Go's `rs/cors` so that the browser allows a request it refused.
//!
//! One algorithm for every stack: the exchange says what the page needs ([`Needs`]); the
//! server's current settings come from the user's own configuration (`--stack-config`) or,
//! failing that, from what the server sent ([`Settings::observed`]); [`Settings::apply`]
//! makes the smallest change that covers the needs; each stack then writes the result in
//! its own terms. What differs between stacks (defaults, what `*` means, option names) is
//! data in `library.rs`, not a copy of the algorithm. Pure: no I/O.

mod library;
mod needs;
mod nginx;
mod read;
mod settings;
mod write;

#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_json::Value;

use crate::browser::{HeaderList, Scenario, Verdict};

pub use needs::Needs;
pub use read::StackConfigError;
pub use settings::Settings;

/// A server stack whose CORS configuration the sandbox can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stack {
    Express,
    Fastapi,
    Flask,
    Django,
    Nginx,
    Spring,
    Aspnet,
    Actix,
    Go,
}

impl Stack {
    pub const ALL: [Stack; 9] = [
        Stack::Express,
        Stack::Fastapi,
        Stack::Flask,
        Stack::Django,
        Stack::Nginx,
        Stack::Spring,
        Stack::Aspnet,
        Stack::Actix,
        Stack::Go,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stack::Express => "express",
            Stack::Fastapi => "fastapi",
            Stack::Flask => "flask",
            Stack::Django => "django",
            Stack::Nginx => "nginx",
            Stack::Spring => "spring",
            Stack::Aspnet => "aspnet",
            Stack::Actix => "actix",
            Stack::Go => "go",
        }
    }

    /// `--stack NAME`; a few everyday aliases (`starlette`, `node`, `dotnet`) are accepted.
    pub fn parse(s: &str) -> Option<Stack> {
        let s = s.to_ascii_lowercase();
        let alias = match s.as_str() {
            "starlette" | "uvicorn" => "fastapi",
            "flask-cors" => "flask",
            "node" | "cors" => "express",
            "dotnet" | "asp.net" => "aspnet",
            "actix-cors" | "actix-web" | "rust" => "actix",
            "rs/cors" | "golang" => "go",
            other => other,
        };
        Stack::ALL.into_iter().find(|k| k.as_str() == alias)
    }

    /// The human name used in sentences.
    pub fn title(self) -> &'static str {
        match self {
            Stack::Express => "Express (npm cors)",
            Stack::Fastapi => "FastAPI / Starlette CORSMiddleware",
            Stack::Flask => "Flask-CORS",
            Stack::Django => "django-cors-headers",
            Stack::Nginx => "nginx",
            Stack::Spring => "Spring",
            Stack::Aspnet => "ASP.NET Core",
            Stack::Actix => "actix-cors",
            Stack::Go => "Go rs/cors",
        }
    }
}

/// The stack a server says it is, from its response headers, with the line that said so:
/// `(Express, "X-Powered-By: Express")`. Proxies in front of an app hide it, so this is a
/// guess the output always attributes.
pub fn detect(headers: &HeaderList) -> Option<(Stack, String)> {
    let said = |name: &str, value: &str| format!("{name}: {value}");
    if let Some(v) = headers.first("x-powered-by") {
        let l = v.to_ascii_lowercase();
        if l.contains("express") {
            return Some((Stack::Express, said("X-Powered-By", v)));
        }
        if l.contains("asp.net") {
            return Some((Stack::Aspnet, said("X-Powered-By", v)));
        }
    }
    let server = headers.first("server")?;
    let l = server.to_ascii_lowercase();
    let stack = if l.starts_with("uvicorn") || l.starts_with("hypercorn") {
        Stack::Fastapi
    } else if l.starts_with("werkzeug") {
        Stack::Flask
    } else if l.starts_with("wsgiserver") || l.starts_with("gunicorn") {
        // runserver and gunicorn front Django and Flask alike; Django's SecurityMiddleware
        // sends X-Frame-Options: DENY by default, Flask sends nothing of the kind.
        if headers.first("x-frame-options").is_some() {
            Stack::Django
        } else {
            Stack::Flask
        }
    } else if l.starts_with("nginx") || l.starts_with("openresty") {
        Stack::Nginx
    } else if l.starts_with("kestrel") || l.starts_with("microsoft-iis") {
        Stack::Aspnet
    } else if l.starts_with("actix") {
        Stack::Actix
    } else {
        return None;
    };
    Some((stack, said("Server", server)))
}

/// The fix in one stack's terms: the JSON verdict's `stack_fix`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackFix {
    pub stack: Stack,
    /// What a person reads: the changes, then the configuration after them.
    pub text: String,
    /// The complete configuration after the fix, machine-readable: Express's options object,
    /// FastAPI's and Flask-CORS's keyword arguments, Django's settings, nginx's directives as
    /// text, the other stacks' settings as JSON.
    pub config: Value,
    /// One line per change, in words.
    pub changes: Vec<String>,
    /// Which response line named the stack, when it was detected rather than given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected_from: Option<String>,
    /// Whether `config` starts from the user's own configuration (`--stack-config`) or from
    /// what the server sent.
    pub from: &'static str,
    /// The middleware must wrap the whole app rather than be added to it (FastAPI, for an
    /// unhandled exception's 500): `app = CORSMiddleware(app, **config)`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub outermost: bool,
    /// Cautions that go with the fix (a `null` origin, advice no configuration can carry).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What the user said about their stack.
#[derive(Debug, Clone, Default)]
pub struct StackRequest {
    /// `--stack`; detected from the responses when absent.
    pub stack: Option<Stack>,
    /// `--stack-config FILE`, already read: the user's current configuration.
    pub current: Option<Settings>,
    /// `--read-header NAME`: response headers the page reads (to expose).
    pub read_headers: Vec<String>,
}

/// The fix for one judged exchange in the requested (or detected) stack; `None` when no
/// stack is known, or when the refusal is not one a CORS configuration can change (a
/// network error, mixed content).
pub fn fix(req: &StackRequest, s: &Scenario, v: &Verdict) -> Option<StackFix> {
    let (stack, detected_from) = match req.stack {
        Some(k) => (k, None),
        None => {
            let (k, line) = responses(s).find_map(detect)?;
            (k, Some(line))
        }
    };
    if v.net_error.is_some() || v.blocked_reason.is_some() {
        return None;
    }
    let lib = library::of(stack);
    let needs = Needs::of(s, v, &req.read_headers);
    let (mut settings, from) = match &req.current {
        Some(c) => (c.clone(), "--stack-config"),
        None => (Settings::observed(s, &lib), "the server's answers"),
    };
    let mut changes = settings.apply(&needs, &lib);
    let mut warnings = Vec::new();
    if needs.origin == "null" {
        warnings.push(
            "the page's origin is `null` (a sandboxed iframe, a file:// page, a redirect): \
             allowing `null` lets every such page in, from any site; serve the page from a \
             real origin instead if you can"
                .to_owned(),
        );
    }
    if needs.on_errors {
        let (change, warning) = library::error_advice(stack);
        changes.extend(change.map(str::to_owned));
        warnings.extend(warning.map(str::to_owned));
    }
    if !v.is_allowed() {
        warnings.extend(beyond_options(s, v, changes.is_empty()));
    }
    let outermost = lib.errors_need_outermost && needs.on_errors;
    let (text, config) = write::render(stack, &settings, &changes, &lib, outermost);
    Some(StackFix {
        stack,
        text,
        config,
        changes,
        detected_from,
        from,
        outermost,
        warnings,
    })
}

const REDIRECTED: &str = "the preflight was redirected, which browsers never follow: call the \
     final URL directly (the trailing slash, https://, the canonical host)";

/// Why a refused request needs more than CORS options, for the refusals no option causes:
/// something in front of the CORS layer answered, or two layers both answered.
fn beyond_options(s: &Scenario, v: &Verdict, unchanged: bool) -> Option<String> {
    use crate::browser::CorsError as E;
    // A CORS layer that refuses a preflight with its own status (Starlette's 400) still
    // sends its headers: then the options are the cause, and the fix covers it, unless
    // the fix changes nothing.
    let cors_answered = s
        .preflight_response
        .as_ref()
        .is_some_and(|p| p.headers.contains("access-control-allow-origin"));
    let status = s.preflight_response.as_ref().map(|p| p.status);
    let refused = status.is_some_and(|st| st >= 400);
    let redirected = status.is_some_and(|st| (300..400).contains(&st));
    let error = v.cors_error?;
    let text = match error {
        E::PreflightDisallowedRedirect => REDIRECTED,
        _ if redirected => REDIRECTED,
        _ if refused && (!cors_answered || unchanged) => {
            "the preflight (OPTIONS) got an error status: something before the CORS layer \
             answered it (authentication, a router without OPTIONS, a proxy). Browsers never \
             send credentials on a preflight, so let OPTIONS through before authentication \
             and register the CORS layer first"
        }
        E::PreflightInvalidStatus => return None,
        E::MultipleAllowOriginValues | E::PreflightMultipleAllowOriginValues => {
            "the answer carries Access-Control-Allow-Origin more than once: two layers add it \
             (a proxy and the app, or the middleware and a handler); keep only one of them"
        }
        E::InvalidAllowOriginValue | E::PreflightInvalidAllowOriginValue => {
            "Access-Control-Allow-Origin holds something that is not an origin: find the code \
             or proxy rule that writes it by hand and let the CORS layer send it"
        }
        E::RedirectContainsCredentials => {
            "the redirect's Location carries a user name or password: redirect without them"
        }
        _ => return None,
    };
    Some(text.to_owned())
}

/// The responses of an exchange, preflight first.
fn responses(s: &Scenario) -> impl Iterator<Item = &HeaderList> {
    s.preflight_response
        .iter()
        .chain(s.actual_response.iter())
        .chain(s.redirects.iter().map(|h| &h.response))
        .map(|r| &r.headers)
}

/// Reads `--stack-config` text for `stack` (JSON for every stack but nginx, whose
/// `add_header` lines are read as they are written).
pub fn read_config(stack: Stack, path: &str, text: &str) -> Result<Settings, StackConfigError> {
    read::read(stack, path, text)
}
