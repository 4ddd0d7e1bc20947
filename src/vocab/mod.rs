//! Vocabulary shared by the file loaders and the servers: what a header line may hold, how a
//! route path pattern is written, how text is escaped into HTML.
//!
//! A leaf: it imports nothing of this crate but the browser model's token rule, so the
//! routes file, exact-mode policies, fixtures and the servers can all use one copy of each
//! rule without importing one another.

pub mod header;
pub mod html;
pub mod path_pattern;

pub use header::{header_problem, HeaderProblem, FRAMING_HEADERS};
pub use html::html_escape;
pub use path_pattern::{PathPattern, Segment};
