//! The `sandbox` binary: parse, dispatch, report. Exit codes: 0 ok, 1 a question answered
//! "blocked" under `--fail-on-blocked`, 2 bad input or a failure to start.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use sandbox::answer::{self, AnswerError, Report};
use sandbox::cli::{self, Cli, Command, InitArgs, UpArgs};
use sandbox::{fixtures, routes, scaffold, up};

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Up(a) => run_up(&a),
        Command::Fixtures(a) => match fixtures::run(a.command()) {
            Ok(out) => {
                out.notes.iter().for_each(|n| eprintln!("note: {n}"));
                print!("{}", out.stdout);
                ExitCode::from(out.exit_code)
            }
            Err(e) => failed(&e.render()),
        },
        Command::Init(a) => init(a),
        Command::Explain(a) => report(answer::explain(&a.file, a.output.output())),
        Command::Check(a) => report(answer::check(&a.options(), a.output.output())),
        Command::Probe(a) => report(answer::probe(&a.options(), a.output.output())),
        Command::Trust => trust(),
        Command::Completions { shell } => print_bytes(&cli::completion_script(shell)),
        Command::Man => match cli::man_page() {
            Ok(page) => print_bytes(&page),
            Err(e) => failed(&format!("error: cannot render the man page: {e}")),
        },
    }
}

/// `sandbox trust`: the CA into the NSS databases found under $HOME, then the manual steps.
fn trust() -> ExitCode {
    let ca = match sandbox::certs::LocalCa::open(&sandbox::certs::data_dir()) {
        Ok(ca) => ca,
        Err(e) => return failed(&format!("error: {e}")),
    };
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let report = sandbox::certs::trust(&ca.cert_path, &home);
    println!("local CA: {}", ca.cert_path.display());
    for db in &report.installed {
        println!(
            "trusted in {} (restart the browser to pick it up)",
            db.display()
        );
    }
    for (db, why) in &report.failed {
        eprintln!("could not add it to {}: {why}", db.display());
    }
    for step in &report.instructions {
        println!("- {step}");
    }
    ExitCode::from(u8::from(!report.failed.is_empty()) * 2)
}

/// Generated text goes through a buffer: clap_complete panics on a failed write, and a
/// closed pipe (`sandbox man | head`) is no error worth reporting.
fn print_bytes(bytes: &[u8]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            failed(&format!("error: cannot write to standard output: {e}"))
        }
        _ => ExitCode::SUCCESS,
    }
}

fn run_up(a: &UpArgs) -> ExitCode {
    // Held until `up` returns: it removes the generated config of `--fixed` and the unpacked
    // built-in fixture.
    let fixture = match a
        .fixture
        .as_deref()
        .map(|f| fixtures::prepare_up(f, a.fixed))
        .transpose()
    {
        Ok(f) => f,
        Err(e) => return failed(&e.render()),
    };
    let options = match &fixture {
        None => a.options(a.config.clone(), false),
        Some(f) => up::UpOptions {
            notes: f.notes.clone(),
            ..a.options(Some(f.config.clone()), f.generated)
        },
    };
    match up::run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failed(&e.render()),
    }
}

/// `init [DIR]` scaffolds a project; `init --from-openapi DOC` alone writes only routes.
fn init(a: InitArgs) -> ExitCode {
    let options = a.openapi_options();
    if a.dir.is_none() && a.from_openapi.is_some() {
        let doc = a.from_openapi.unwrap_or_default();
        return match routes::openapi::run(&doc, &a.output, a.force, &options) {
            Ok(notes) => {
                notes.iter().for_each(|n| eprintln!("note: {n}"));
                println!("wrote {}", a.output.display());
                ExitCode::SUCCESS
            }
            Err(e) => failed(&format!("error: {e}")),
        };
    }
    let dir = a.dir.unwrap_or_else(|| PathBuf::from("."));
    match scaffold::run(&dir, a.from_openapi.as_deref(), a.force, &options) {
        Ok(w) => {
            w.notes.iter().for_each(|n| eprintln!("note: {n}"));
            for f in &w.files {
                println!("wrote {}", w.dir.join(f).display());
            }
            let config = w.dir.join("sandbox.toml");
            println!("next: sandbox up --config {}", config.display());
            ExitCode::SUCCESS
        }
        Err(e) => failed(&format!("error: {e}")),
    }
}

/// Prints an answer (exit 0, or 1 for a blocked verdict under --fail-on-blocked) or the
/// error (exit 2).
fn report(r: Result<Report, AnswerError>) -> ExitCode {
    match r {
        Ok(a) => {
            a.notes.iter().for_each(|n| eprintln!("note: {n}"));
            print!("{}", a.text);
            ExitCode::from(a.exit_code)
        }
        Err(e) => failed(&format!("error: {e}")),
    }
}

fn failed(report: &str) -> ExitCode {
    eprintln!("{report}");
    ExitCode::from(2)
}
