//! The `sandbox` binary: parse, dispatch, report. Exit codes: 0 ok, 1 a question answered
//! "blocked" under `--fail-on-blocked`, 2 bad input or a failure to start.

use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use sandbox::answer::{self, Answer, AnswerError, CheckOptions, ProbeOptions};
use sandbox::cli::{Cli, Command, FixturesCommand};
use sandbox::config::Overrides;
use sandbox::fixtures;
use sandbox::up::{self, UpOptions};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Up(a) => {
            // Held until `up` returns: removes the generated config of `--fixed`.
            let (config, generated) = match &a.fixture {
                None => (a.config, None),
                Some(f) => match fixtures::resolve_up(Path::new(fixtures::DEFAULT_DIR), f, a.fixed)
                {
                    Ok((path, guard)) => (Some(path), guard),
                    Err(e) => {
                        eprintln!("{}", e.render());
                        return ExitCode::from(2);
                    }
                },
            };
            let opts = UpOptions {
                config,
                overrides: Overrides {
                    bind: a.host,
                    ports: a.ports,
                },
                poll: a.poll,
                log_format: a.log_format.into(),
                persist: a.persist,
                generated_config: generated.is_some(),
            };
            match up::run(opts) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("{}", e.render());
                    ExitCode::from(2)
                }
            }
        }
        Command::Fixtures(a) => {
            let root = a.dir;
            let cmd = match a.command {
                FixturesCommand::List { json } => fixtures::Cmd::List { root, json },
                FixturesCommand::Show { name } => fixtures::Cmd::Show { root, name },
                FixturesCommand::Verify { names, json } => {
                    fixtures::Cmd::Verify { root, names, json }
                }
                FixturesCommand::New {
                    name,
                    page,
                    from_lab,
                } => fixtures::Cmd::New {
                    root,
                    name,
                    page_only: page,
                    from_lab,
                },
            };
            match fixtures::run(cmd) {
                Ok(out) => {
                    print!("{}", out.stdout);
                    ExitCode::from(out.exit_code)
                }
                Err(e) => {
                    eprintln!("{}", e.render());
                    ExitCode::from(2)
                }
            }
        }
        Command::Init(a) if a.dir.is_some() || a.from_openapi.is_none() => {
            let dir = a.dir.unwrap_or_else(|| std::path::PathBuf::from("."));
            match sandbox::scaffold::run(&dir, a.from_openapi.as_deref(), a.force) {
                Ok(w) => {
                    for n in &w.notes {
                        eprintln!("note: {n}");
                    }
                    for f in &w.files {
                        println!("wrote {}", w.dir.join(f).display());
                    }
                    let config = w.dir.join("sandbox.toml");
                    println!("next: sandbox up --config {}", config.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Init(a) => {
            let doc = a.from_openapi.unwrap_or_default();
            match sandbox::routes::openapi::run(&doc, &a.output, a.force) {
                Ok(notes) => {
                    for n in notes {
                        eprintln!("note: {n}");
                    }
                    println!("wrote {}", a.output.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Explain(a) => report(answer::explain(&a.file, a.output.output())),
        Command::Check(a) => report(answer::check(
            &CheckOptions {
                config: a.config,
                api: a.api,
                path: a.path,
                request: a.request.spec(),
            },
            a.output.output(),
        )),
        Command::Probe(a) => report(answer::probe(
            &ProbeOptions {
                url: a.url,
                request: a.request.spec(),
                timeout: std::time::Duration::from_secs(a.timeout),
            },
            a.output.output(),
        )),
    }
}

/// Prints an answer (exit 0, or 1 for a blocked verdict under --fail-on-blocked) or the
/// error (exit 2).
fn report(r: Result<Answer, AnswerError>) -> ExitCode {
    match r {
        Ok(a) => {
            print!("{}", a.text);
            ExitCode::from(a.exit_code)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
