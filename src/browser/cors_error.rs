//! The names of the CORS errors the model can report, as a bare enum. The verdict
//! (`model`) carries one and the catalogue describes each, so the enum lives in a file of
//! its own that imports nothing from the browser model: both depend on it, neither on the
//! other through it. The catalogue adds the text-facing methods (`entry`, `name`,
//! `is_preflight_error`, `Display`); this file keeps only what follows from the variants.

use serde::{Deserialize, Serialize};

/// `network::mojom::CorsError` values this model can produce, spelled as DevTools does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CorsError {
    /// The request's mode is `same-origin` but its URL (first or after a redirect) is
    /// cross-origin.
    DisallowedByMode,
    /// Chromium had no usable HTTP response to check (for instance the connection closed
    /// before a status line).
    InvalidResponse,
    /// The response allows any origin with `*` but the request was sent with credentials.
    WildcardOriginNotAllowed,
    /// The response to a cross-origin request has no `Access-Control-Allow-Origin`.
    MissingAllowOriginHeader,
    /// `Access-Control-Allow-Origin` holds a list (a comma or space, or several lines).
    MultipleAllowOriginValues,
    /// `Access-Control-Allow-Origin` is neither `*`, `null` nor a parseable URL.
    InvalidAllowOriginValue,
    /// `Access-Control-Allow-Origin` names an origin other than the request's.
    AllowOriginMismatch,
    /// A credentialed request's response lacks `Access-Control-Allow-Credentials: true`.
    InvalidAllowCredentials,
    /// A cross-origin request to a URL whose scheme CORS does not serve (not http/https).
    CorsDisabledScheme,
    /// The preflight's response status is outside 200–299.
    PreflightInvalidStatus,
    /// The preflight was answered with a redirect, which Chromium never follows.
    PreflightDisallowedRedirect,
    /// [`CorsError::WildcardOriginNotAllowed`], found on the preflight response.
    PreflightWildcardOriginNotAllowed,
    /// [`CorsError::MissingAllowOriginHeader`], found on the preflight response.
    PreflightMissingAllowOriginHeader,
    /// [`CorsError::MultipleAllowOriginValues`], found on the preflight response.
    PreflightMultipleAllowOriginValues,
    /// [`CorsError::InvalidAllowOriginValue`], found on the preflight response.
    PreflightInvalidAllowOriginValue,
    /// [`CorsError::AllowOriginMismatch`], found on the preflight response.
    PreflightAllowOriginMismatch,
    /// [`CorsError::InvalidAllowCredentials`], found on the preflight response.
    PreflightInvalidAllowCredentials,
    /// The preflight's `Access-Control-Allow-Methods` is not a comma-separated token list.
    InvalidAllowMethodsPreflightResponse,
    /// The preflight's `Access-Control-Allow-Headers` is not a comma-separated token list.
    InvalidAllowHeadersPreflightResponse,
    /// The request's method is not safelisted and the preflight did not allow it.
    MethodDisallowedByPreflightResponse,
    /// A request header that needs permission was not allowed by the preflight.
    HeaderDisallowedByPreflightResponse,
    /// A redirect's `Location` carries a user name or password where CORS forbids it.
    RedirectContainsCredentials,
}

impl CorsError {
    /// The preflight flavour of an access-check error (Chromium's CheckPreflightAccess).
    pub fn to_preflight(self) -> CorsError {
        match self {
            CorsError::WildcardOriginNotAllowed => CorsError::PreflightWildcardOriginNotAllowed,
            CorsError::MissingAllowOriginHeader => CorsError::PreflightMissingAllowOriginHeader,
            CorsError::MultipleAllowOriginValues => CorsError::PreflightMultipleAllowOriginValues,
            CorsError::InvalidAllowOriginValue => CorsError::PreflightInvalidAllowOriginValue,
            CorsError::AllowOriginMismatch => CorsError::PreflightAllowOriginMismatch,
            CorsError::InvalidAllowCredentials => CorsError::PreflightInvalidAllowCredentials,
            other => other,
        }
    }
}
