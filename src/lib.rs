//! `sandbox`: a real cross-origin setup on your own machine in one command.
//!
//! # Layout
//! Data flows one way: config → state → servers → journal.
//! - [`answer`]: `explain`, `check` and `probe`: flags in, verdicts out, exit codes.
//! - [`browser`]: a pure model of Chromium's CORS algorithm; verdicts with Chromium's error names,
//!   console messages and a fix. The heart: `up`, `explain`, `check` and `probe` all use it.
//! - [`cli`]: clap definitions; no I/O.
//! - [`config`]: `sandbox.toml` (origins, ports, files), validation with file/line/column.
//! - [`source_file`]: reading a user's file under shared rules and locating its errors.
//! - [`policy`]: the CORS policy file: model, validation, lints. Pure.
//! - [`routes`]: the mock API's routes file: model, validation, matching. Pure.
//! - [`reload`]: the swappable [`reload::Store`], event classification and the file watcher.
//! - [`state`]: the one shared state of a running sandbox.
//! - [`serve`]: the actix-web servers (static + live reload, API + hot actix-cors).
//! - [`simulate`]: the API app called in-process with the requests a browser would send.
//! - [`scaffold`]: `sandbox init [DIR]`, a starting project in the documented shapes.
//! - [`fixtures`]: the fixture library (one CORS bug per folder): list, show, verify, new.
//! - [`journal`]: log lines, text or JSON.
//! - [`up`]: `sandbox up`, tying the above together.

pub mod answer;
pub mod browser;
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
pub mod state;
pub mod up;
pub mod vocab;
