//! `sandbox`: a real cross-origin setup on your own machine in one command.
//!
//! # Layout
//! Data flows one way: config → state → servers → journal. A `sandbox.toml` is validated into
//! a [`config::Config`]; [`state::build_state`] loads every origin's files into one shared
//! [`state::State`]; the servers answer from snapshots of its stores and write what happened
//! to the journal; the watcher swaps new versions into the same stores. `docs/ARCHITECTURE.md`
//! walks a preflight and a policy save through these parts.
//!
//! Layers, leaves first. A module uses only modules of earlier layers, never one of its own
//! layer or a later one (`.ci/layers` checks this on every CI run):
//!
//! 1. `browser`, `source_file`, `certs`
//! 2. `vocab`
//! 3. `config`, `policy`, `routes`, `stack`
//! 4. `journal`
//! 5. `state`
//! 6. `reload`, `serve`
//! 7. `simulate`, `up`
//! 8. `answer`, `scaffold`
//! 9. `fixtures`
//! 10. `cli`
//!
//! The modules:
//! - [`browser`]: a pure model of the browsers' CORS algorithm (Chromium's, with Firefox's
//!   and WebKit's differences); verdicts in each engine's words (error name, console lines,
//!   the script's error) and a fix. The heart: `up`, `explain`, `check`, `probe` and the
//!   fixtures all use it. Written as if it were a crate of its own.
//! - [`source_file`]: reading a user's file under shared rules and locating its errors.
//! - [`certs`]: HTTPS origins' certificates: the per-user local CA, leaves it signs, a user's
//!   own files, and `sandbox trust`.
//! - [`vocab`]: what a header line may hold, route path patterns, HTML escaping: the rules
//!   several loaders and servers share.
//! - [`config`]: `sandbox.toml` (origins, ports, files, the Host allowlist), validation with
//!   file/line/column.
//! - [`policy`]: the CORS policy file: model, validation, lints. Pure.
//! - [`routes`]: the mock API's routes file: model, validation, matching. Pure.
//! - [`stack`]: a verdict's fix in the user's own stack (Express, FastAPI, Flask-CORS,
//!   Django, nginx, Spring, ASP.NET Core, actix-cors, Go): their options after the change,
//!   as code and as data. Pure.
//! - [`journal`]: log lines (text or JSON) and the ring of recent requests with their verdicts.
//! - [`state`]: the one shared state of a running sandbox (the config in force among it), its
//!   hot-swappable stores, and the one loader of policy and routes files (startup and reload
//!   alike).
//! - [`reload`]: event classification, the file watcher that swaps new versions in, and
//!   applying an edited `sandbox.toml` (what it can live, "restart required" for the rest).
//! - [`serve`]: the actix-web servers (static + live reload, API + hot actix-cors).
//! - [`simulate`]: the API app called in-process with the requests a browser would send.
//! - [`up`]: `sandbox up`: bind, build the state, watch, serve.
//! - [`answer`]: `explain`, `check` and `probe`: flags in, verdicts out, exit codes.
//! - [`scaffold`]: `sandbox init [DIR]`, a starting project in the documented shapes.
//! - [`fixtures`]: the fixture library (one CORS bug per folder), compiled in with the user's
//!   own laid over it: list, show, verify, new.
//! - [`cli`]: clap definitions and their conversion into each command's options; no I/O.

pub mod answer;
pub mod browser;
pub mod certs;
pub mod cli;
pub mod config;
pub mod fixtures;
pub mod journal;
pub mod policy;
pub mod reload;
pub mod routes;
pub mod scaffold;
pub mod serve;
pub mod simulate;
pub mod source_file;
pub mod stack;
pub mod state;
pub mod up;
pub mod vocab;

/// `0.1.0 (3e5cd4f 2026-12-02)`: the crate's version and the commit it was built from
/// (`build.rs`; "unknown commit" outside a git checkout). `--version` and the banner say it.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("SANDBOX_COMMIT"), ")");
