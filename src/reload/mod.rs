//! Hot reload: the pure [`classify`] step that maps file events to what must be reloaded,
//! and the [`watch`] thread that reads, validates and swaps into the state's stores.
//!
//! The contract (DESIGN.md §4): all or nothing; the last good version survives any failure;
//! one report per attempt; no socket is ever rebound.

pub mod classify;
pub mod storm;
pub mod watch;
