//! The `sandbox` binary: parse, dispatch, report. Exit codes: 0 ok, 1 a question answered
//! "blocked" under `--fail-on-blocked`, 2 bad input or a failure to start.

use std::process::ExitCode;

use clap::Parser;
use sandbox::cli::{Cli, Command};
use sandbox::config::Overrides;
use sandbox::up::{self, UpOptions};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Up(a) => {
            let opts = UpOptions {
                config: a.config,
                overrides: Overrides {
                    bind: a.host,
                    ports: a.ports,
                },
                poll: a.poll,
                log_format: a.log_format,
            };
            match up::run(opts) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("{}", e.render());
                    ExitCode::from(2)
                }
            }
        }
    }
}
