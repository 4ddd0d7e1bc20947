//! What each stack's CORS library does when an option is left out, and what `*` means to
//! it: the data beside the one algorithm in `settings`. Read from each library's source and
//! docs and checked against the real servers in `tests/stack_real.rs`.

use super::Stack;

/// What a library allows by default for request headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultHeaders {
    /// It answers the preflight with the headers the browser asked for (npm cors).
    Reflect,
    /// A fixed list (django-cors-headers, rs/cors); empty when nothing is allowed.
    List(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy)]
pub struct Library {
    pub stack: Stack,
    /// The methods allowed when none are configured.
    pub default_methods: &'static [&'static str],
    pub default_headers: DefaultHeaders,
    /// Whether the library sends a configured `*` for headers or methods as it is, which a
    /// credentialed request reads as a name rather than a wildcard (npm cors, nginx). The
    /// others answer `*` with the requested names.
    pub star_is_literal: bool,
    /// Whether the library knows the CORS-safelisted headers are always allowed
    /// (Starlette adds them to its list).
    pub safelisted_implied: bool,
    /// Whether an error answer gets the CORS headers only when the middleware wraps the
    /// whole app (Starlette: ServerErrorMiddleware sits outside every added middleware).
    pub errors_need_outermost: bool,
}

const ALL_METHODS: &[&str] = &["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"];

pub fn of(stack: Stack) -> Library {
    let (default_methods, default_headers, star_is_literal, safelisted_implied) = match stack {
        // cors/lib/index.js: methods 'GET,HEAD,PUT,PATCH,POST,DELETE'; allowedHeaders unset
        // reflects Access-Control-Request-Headers.
        Stack::Express => (ALL_METHODS, DefaultHeaders::Reflect, true, false),
        // starlette/middleware/cors.py: allow_methods=("GET",), allow_headers=() plus the
        // safelisted ones.
        Stack::Fastapi => (&["GET"][..], DefaultHeaders::List(&[]), false, true),
        // flask_cors defaults: every method, allow_headers '*' (reflected).
        Stack::Flask => (
            &["GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"][..],
            DefaultHeaders::Reflect,
            false,
            false,
        ),
        // corsheaders/defaults.py.
        Stack::Django => (
            &["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"][..],
            DefaultHeaders::List(DJANGO_HEADERS),
            false,
            false,
        ),
        // add_header sends nothing unless told.
        Stack::Nginx => (&[][..], DefaultHeaders::List(&[]), true, false),
        // CorsConfiguration.applyPermitDefaultValues (what @CrossOrigin starts from).
        Stack::Spring => (
            &["GET", "HEAD", "POST"][..],
            DefaultHeaders::Reflect,
            false,
            false,
        ),
        // A policy allows nothing it is not told to.
        Stack::Aspnet => (&[][..], DefaultHeaders::List(&[]), false, false),
        // Cors::default(): no origins, methods or headers.
        Stack::Actix => (&[][..], DefaultHeaders::List(&[]), false, false),
        // rs/cors: AllowedMethods GET, POST, HEAD; AllowedHeaders Origin, Accept,
        // Content-Type, X-Requested-With.
        Stack::Go => (
            &["GET", "POST", "HEAD"][..],
            DefaultHeaders::List(&["origin", "accept", "content-type", "x-requested-with"]),
            false,
            false,
        ),
    };
    Library {
        stack,
        default_methods,
        default_headers,
        star_is_literal,
        safelisted_implied,
        errors_need_outermost: stack == Stack::Fastapi,
    }
}

/// django-cors-headers' `default_headers`.
pub const DJANGO_HEADERS: &[&str] = &[
    "accept",
    "authorization",
    "content-type",
    "user-agent",
    "x-csrftoken",
    "x-requested-with",
];

/// What to do when an error response lacks the CORS headers its success would carry:
/// (a change line, a warning) for the stack. nginx says it in configuration (`always`),
/// FastAPI in where the middleware goes ([`super::StackFix::outermost`]); the others in code.
pub fn error_advice(stack: Stack) -> (Option<&'static str>, Option<&'static str>) {
    match stack {
        Stack::Nginx => (
            Some("add `always` to each add_header: without it nginx skips them on 4xx and 5xx answers"),
            None,
        ),
        Stack::Fastapi => (
            Some(
                "wrap the whole app, app = CORSMiddleware(app, ...), instead of \
                 app.add_middleware: Starlette's ServerErrorMiddleware sits outside every added \
                 middleware, so an unhandled exception's 500 never gets the CORS headers",
            ),
            Some(
                "better still, catch the exception (an @app.exception_handler(Exception) \
                 returning a JSONResponse), so the page gets an answer it can read",
            ),
        ),
        Stack::Express => (
            None,
            Some(
                "the error answer has no CORS headers: app.use(cors(...)) must come before the \
                 routes and any middleware that can answer first (auth, body parsers, a proxy)",
            ),
        ),
        Stack::Spring => (
            None,
            Some(
                "the error answer has no CORS headers: a filter or Spring Security answered \
                 before the CORS configuration; register it with http.cors(...) so it runs \
                 first",
            ),
        ),
        Stack::Aspnet => (
            None,
            Some(
                "the error answer has no CORS headers: app.UseCors(...) must come before \
                 UseAuthentication/UseAuthorization and the endpoints; the developer \
                 exception page drops them",
            ),
        ),
        _ => (
            None,
            Some(
                "the error answer has no CORS headers: put the CORS middleware first, so it \
                 also wraps the answers other middleware and error handlers produce",
            ),
        ),
    }
}
