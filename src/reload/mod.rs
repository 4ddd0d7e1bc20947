//! Hot reload: the pure [`classify`] step that maps file events to what must be reloaded,
//! [`fingerprint`]s that tell a real change from a touch, [`config`] (a `sandbox.toml` save:
//! what can change live and what needs a restart), and the [`watch`] thread that reads,
//! validates and swaps into the state's stores: at once for a write an event says is complete,
//! after [`settle`] for the rest, with [`storm`] making sure a save storm cannot hold a
//! reload back with `--poll`.
//!
//! The contract: all or nothing; the last good version survives any failure; one report per
//! attempt; no socket is ever rebound.

pub mod classify;
pub mod config;
pub mod fingerprint;
pub mod settle;
pub mod storm;
pub mod watch;
