//! Command-line definitions (clap derive). Only types and value parsers: no I/O. `main.rs`
//! turns these into calls.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::journal::LogFormat;

/// A real cross-origin setup on your machine: a static frontend origin and a mock API origin
/// whose CORS policy hot-reloads from a file.
#[derive(Debug, Parser)]
#[command(name = "sandbox", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the origins of a sandbox.toml (or the built-in lab and mock API) with hot reload.
    Up(UpArgs),
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// The sandbox.toml to serve. Without it: ./static (or the embedded lab) on 8080 and the
    /// default mock API on 3000.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address every origin binds. Anything but loopback is reachable from other machines.
    #[arg(long, value_name = "IP")]
    pub host: Option<std::net::IpAddr>,
    /// Override an origin's port, e.g. `--port api=3001`; 0 picks a free port. Repeatable.
    #[arg(short, long = "port", value_name = "NAME=PORT", value_parser = crate::config::parse_port_override)]
    pub ports: Vec<(String, u16)>,
    /// Poll files instead of using OS notifications (Docker, WSL /mnt, network mounts).
    #[arg(long)]
    pub poll: bool,
    /// Log format: `text` for people, `json` for one JSON object per line (see README).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}
