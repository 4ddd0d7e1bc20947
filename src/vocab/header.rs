//! What a header line written in a user's file (a route's headers, an exact-mode policy's
//! lines) may hold before the sandbox sends it.

/// Header names the server itself owns; a route setting them would corrupt framing.
pub const FRAMING_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
];

/// Why a header line from a routes or policy file cannot be sent as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderProblem {
    /// The name is not an HTTP token.
    BadName,
    /// The server owns this header (body framing, connection management).
    Framing,
    /// CR, LF or NUL in the value: response splitting.
    LineBreak,
}

/// The one check both the routes file and exact-mode policies apply to headers they send;
/// each reports it in its own words.
pub fn header_problem(name: &str, value: &str) -> Option<HeaderProblem> {
    if !crate::browser::is_token(name) {
        Some(HeaderProblem::BadName)
    } else if FRAMING_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        Some(HeaderProblem::Framing)
    } else if value.contains(['\r', '\n', '\0']) {
        Some(HeaderProblem::LineBreak)
    } else {
        None
    }
}
