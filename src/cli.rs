//! Command-line definitions (clap derive). Only types and value parsers: no I/O. `main.rs`
//! turns these into calls.
//!
//! The doc comments below are clap's help text, read in a terminal where a bare URL is what
//! a user wants to copy; rustdoc's link lint does not apply to them.
#![allow(rustdoc::bare_urls)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::journal::LogFormat;

/// `sandbox --version`: the crate's version and the commit it was built from (build.rs asks
/// git; "unknown commit" when built without one, e.g. from a crate tarball).
pub use crate::VERSION;

/// A real cross-origin setup on your machine: a static frontend origin and a mock API origin
/// whose CORS policy hot-reloads from a file.
#[derive(Debug, Parser)]
#[command(name = "sandbox", version = VERSION, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the origins of a sandbox.toml (or the built-in lab and mock API) with hot reload.
    Up(UpArgs),
    /// The fixture library, built in plus your own: one CORS bug per folder (list, show,
    /// verify, new).
    Fixtures(FixturesArgs),
    /// Explain recorded exchanges: a scenario JSON file, an array of them, or a DevTools HAR.
    Explain(ExplainArgs),
    /// Ask the sandbox's own API (its policy and routes; no server started) what it would
    /// answer a browser request, and whether the browser would allow it.
    Check(CheckArgs),
    /// Send the browser's preflight (if any) and the request to a live server and judge the
    /// real answers.
    Probe(ProbeArgs),
    /// Scaffold a project (sandbox.toml, static/index.html, api.toml, cors.toml) in DIR, or,
    /// with --from-openapi and no DIR, write just a routes file from an OpenAPI 3 document.
    Init(InitArgs),
    /// Make the local CA for HTTPS origins (once per user) and install it where this
    /// machine's browsers look (Chromium's and Firefox's NSS databases, via certutil); prints
    /// what to do for the rest.
    Trust,
    /// Print a shell completion script (README, "Install", says where each shell wants it).
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `sandbox man | man -l -` to read it.
    Man,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder for a new project (created if missing). Without it and with --from-openapi,
    /// only the routes file is written.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// An OpenAPI 3 document (JSON or YAML) whose examples become the `[[route]]`s.
    #[arg(long, value_name = "FILE")]
    pub from_openapi: Option<PathBuf>,
    /// Where to write the routes file (with --from-openapi and no DIR).
    #[arg(
        short,
        long,
        value_name = "FILE",
        default_value = "api.toml",
        conflicts_with = "dir"
    )]
    pub output: PathBuf,
    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,
    /// The prefix of every generated route instead of the document's `servers` path ("/" for
    /// none).
    #[arg(long, value_name = "PATH", requires = "from_openapi")]
    pub base_path: Option<String>,
    /// Leave optional properties out of bodies built from schemas.
    #[arg(long, requires = "from_openapi")]
    pub required_only: bool,
}

impl InitArgs {
    /// How the OpenAPI conversion runs.
    pub fn openapi_options(&self) -> crate::routes::openapi::Options {
        crate::routes::openapi::Options {
            gen: crate::routes::openapi::GenOptions {
                optional: !self.required_only,
                ..Default::default()
            },
            base_path: self.base_path.clone(),
            document: None,
        }
    }
}

/// How a verdict is printed and judged.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print verdicts as JSON (one object, or an array for several).
    #[arg(long)]
    pub json: bool,
    /// Exit with status 1 when any verdict is "blocked" (for CI).
    #[arg(long)]
    pub fail_on_blocked: bool,
    /// Which browser engine to speak for: chromium (Chrome, Edge), firefox, webkit (Safari),
    /// or all (one verdict per engine, side by side).
    #[arg(long, value_name = "ENGINE", default_value = "chromium", value_parser = crate::answer::parse_engines)]
    pub browser: crate::answer::Engines,
    #[command(flatten)]
    pub stack: StackArgs,
}

/// The fix in the server's own stack.
#[derive(Debug, Args)]
pub struct StackArgs {
    /// Also give the fix as this stack's CORS configuration: express, fastapi, flask, django,
    /// nginx, spring, aspnet, actix or go (`probe` detects it from the answers when absent).
    #[arg(long, value_name = "STACK", value_parser = crate::answer::parse_stack)]
    pub stack: Option<crate::stack::Stack>,
    /// Your current CORS options in that stack, so the fix changes exactly them: JSON (the
    /// cors() options, CORSMiddleware's or CORS()'s keyword arguments, Django's CORS_*
    /// settings); for nginx, the add_header lines.
    #[arg(long, value_name = "FILE")]
    pub stack_config: Option<PathBuf>,
    /// A response header the page reads (`response.headers.get(NAME)`); the fix exposes it
    /// when the browser would hide it. Repeatable.
    #[arg(long = "read-header", value_name = "NAME")]
    pub read_headers: Vec<String>,
}

impl StackArgs {
    pub fn opts(&self) -> crate::answer::StackOpts {
        crate::answer::StackOpts {
            stack: self.stack,
            config: self.stack_config.clone(),
            read_headers: self.read_headers.clone(),
        }
    }
}

/// The browser request, as a page would pass it to `fetch()`.
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// The page's origin, e.g. http://karachi-dev.localhost:8080 (or `null`).
    #[arg(long, value_name = "ORIGIN")]
    pub origin: String,
    /// The fetch() method; only DELETE, GET, HEAD, OPTIONS, POST and PUT are upper-cased.
    #[arg(short = 'X', long, default_value = "GET")]
    pub method: String,
    /// A request header, `Name: value`. Repeatable.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = crate::answer::parse_header)]
    pub headers: Vec<(String, String)>,
    /// fetch()'s credentials mode: omit, same-origin or include.
    #[arg(long, default_value = "same-origin", value_parser = crate::answer::parse_credentials)]
    pub credentials: crate::browser::Credentials,
    /// fetch()'s mode: cors, no-cors or same-origin.
    #[arg(long, default_value = "cors", value_parser = crate::answer::parse_mode)]
    pub mode: crate::browser::Mode,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The file to explain, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    pub file: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The sandbox.toml whose API is asked (default: the built-in one).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Which api origin to ask, by name (default: the first).
    #[arg(long, value_name = "NAME")]
    pub api: Option<String>,
    /// The path on the API, e.g. /api/student.
    pub path: String,
    #[command(flatten)]
    pub request: RequestArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The URL to probe, e.g. http://localhost:5000/api/users or https://api.example.com/v1.
    pub url: String,
    #[command(flatten)]
    pub request: RequestArgs,
    /// Seconds (fractions allowed) each whole answer may take, from connecting to its last
    /// byte.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Also trust the CA certificates in this PEM file (mkcert's rootCA.pem, a company CA).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Do not verify certificates (said in the output; a browser would verify them).
    #[arg(long)]
    pub insecure: bool,
    /// Send this request body (set its type with -H 'Content-Type: …').
    #[arg(long, value_name = "STRING", conflicts_with = "data_file")]
    pub data: Option<String>,
    /// Send this file's bytes as the request body.
    #[arg(long, value_name = "FILE")]
    pub data_file: Option<PathBuf>,
    /// A cookie the browser holds for the server, `name=value`; sent when the browser would
    /// send cookies (--credentials include, or a same-origin request). Repeatable.
    #[arg(long = "cookie", value_name = "NAME=VALUE")]
    pub cookies: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl RequestArgs {
    pub fn spec(&self) -> crate::answer::RequestSpec {
        crate::answer::RequestSpec {
            origin: self.origin.clone(),
            method: self.method.clone(),
            headers: self.headers.clone(),
            credentials: self.credentials,
            mode: self.mode,
        }
    }
}

impl OutputArgs {
    pub fn output(&self) -> crate::answer::Output {
        crate::answer::Output {
            json: self.json,
            fail_on_blocked: self.fail_on_blocked,
            engines: self.browser,
            stack: self.stack.opts(),
            stack_plan: None,
        }
    }
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
    #[arg(long, value_enum, default_value_t = LogFormatArg::Text)]
    pub log_format: LogFormatArg,
    /// Serve a fixture: a name (./fixtures first, then the built-in library) or a path to a
    /// fixture folder.
    #[arg(long, value_name = "NAME|DIR", conflicts_with = "config")]
    pub fixture: Option<String>,
    /// With --fixture: serve the fixture's cors.fixed.toml instead of its buggy cors.toml.
    #[arg(long, requires = "fixture")]
    pub fixed: bool,
    /// Save `[[resource]]` state next to each seed (`<seed>.state.json`) after every change,
    /// and start from it next time.
    #[arg(long)]
    pub persist: bool,
    /// Record the upstream: each proxied exchange not seen before (method, path, status)
    /// becomes a route in `<routes>.recorded.toml` beside the routes file, its body a file in
    /// `recorded/`, secrets redacted; merged after the routes file, so replay needs no upstream.
    #[arg(long)]
    pub record: bool,
}

#[derive(Debug, Args)]
pub struct FixturesArgs {
    /// Your own fixtures, laid over the built-in library (default: ./fixtures when it
    /// exists; `new` creates it).
    #[arg(long, value_name = "DIR", global = true)]
    pub dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: FixturesCommand,
}

#[derive(Debug, Subcommand)]
// Parsed once per run: boxing the big variant would save nothing that matters.
#[allow(clippy::large_enum_variant)]
pub enum FixturesCommand {
    /// List the fixtures (the built-in ones and yours) with the errors they reproduce and
    /// where each one comes from.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The story, the requests, what Chromium prints, and the fix as a diff.
    Show {
        /// The fixture's name (or a path to its folder).
        name: String,
        /// Also show the bug's fix in this stack's CORS configuration: express, fastapi,
        /// flask, django, nginx, spring, aspnet, actix or go.
        #[arg(long, value_name = "STACK", value_parser = crate::answer::parse_stack)]
        stack: Option<crate::stack::Stack>,
    },
    /// Check, without a browser, that each buggy policy reproduces its errors and each fixed
    /// policy lets every request through. Exit status 1 on any mismatch.
    Verify {
        /// Fixtures to verify (default: all, the built-in ones and yours).
        names: Vec<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Scaffold a new fixture in ./fixtures (or --dir, created if missing) that verifies as
    /// it is.
    #[command(group(clap::ArgGroup::new("recording").args(["from_har", "from_probe"])))]
    New {
        /// Lower-case letters, digits and `-`.
        name: String,
        /// Only regenerate static/index.html from the fixture's fixture.toml.
        #[arg(long)]
        page: bool,
        /// Make the fixture's request from a CORS lab URL ("Make a fixture" in the lab).
        #[arg(long, value_name = "URL", conflicts_with = "page")]
        from_lab: Option<String>,
        /// Make the fixture from a HAR file's cross-origin request (its CORS lines replayed,
        /// secrets redacted, origins mapped onto the fixture's).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["page", "from_lab"])]
        from_har: Option<PathBuf>,
        /// With --from-har: the request's index in log.entries (it or its preflight).
        #[arg(long, value_name = "N", requires = "from_har", conflicts_with = "url")]
        entry: Option<usize>,
        /// With --from-har: the first cross-origin request whose URL contains this.
        #[arg(long, value_name = "SUBSTRING", requires = "from_har")]
        url: Option<String>,
        /// With --from-har: the page's credentials mode, when the HAR cannot tell it; with
        /// --from-probe: the credentials mode the probe sends (default same-origin).
        #[arg(long, value_name = "MODE", requires = "recording", value_parser = crate::answer::parse_credentials)]
        credentials: Option<crate::browser::Credentials>,
        /// Make the fixture from a live server: probe this URL as `sandbox probe` does and
        /// replay its answers (secrets redacted, origins mapped onto the fixture's).
        #[arg(long, value_name = "URL", conflicts_with_all = ["page", "from_lab", "from_har"], requires = "origin")]
        from_probe: Option<String>,
        #[command(flatten)]
        probe: FromProbeArgs,
    },
}

/// `fixtures new --from-probe`'s request: the probe's own flags, each needing --from-probe.
#[derive(Debug, Args)]
pub struct FromProbeArgs {
    /// With --from-probe: the page's origin, e.g. http://localhost:5173.
    #[arg(long, value_name = "ORIGIN", requires = "from_probe")]
    pub origin: Option<String>,
    /// With --from-probe: the fetch() method.
    #[arg(short = 'X', long, requires = "from_probe")]
    pub method: Option<String>,
    /// With --from-probe: a request header, `Name: value`. Repeatable.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", requires = "from_probe", value_parser = crate::answer::parse_header)]
    pub headers: Vec<(String, String)>,
    /// With --from-probe: the request body.
    #[arg(long, value_name = "STRING", requires = "from_probe")]
    pub data: Option<String>,
    /// With --from-probe: trust the CA certificates in this PEM file too.
    #[arg(long, value_name = "FILE", requires = "from_probe")]
    pub cacert: Option<PathBuf>,
    /// With --from-probe: do not verify certificates.
    #[arg(long, requires = "from_probe")]
    pub insecure: bool,
    /// With --from-probe: seconds each whole answer may take.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub timeout: f64,
}

impl UpArgs {
    /// `up`'s options, serving `config` (the file given, or the one a fixture resolved to;
    /// `generated` when the sandbox wrote it, so it is not watched).
    pub fn options(&self, config: Option<PathBuf>, generated: bool) -> crate::up::UpOptions {
        crate::up::UpOptions {
            config,
            overrides: crate::config::Overrides {
                bind: self.host,
                ports: self.ports.clone(),
            },
            poll: self.poll,
            log_format: self.log_format.into(),
            persist: self.persist,
            record: self.record,
            generated_config: generated,
            notes: Vec::new(),
        }
    }
}

impl CheckArgs {
    pub fn options(&self) -> crate::answer::CheckOptions {
        crate::answer::CheckOptions {
            config: self.config.clone(),
            api: self.api.clone(),
            path: self.path.clone(),
            request: self.request.spec(),
        }
    }
}

impl ProbeArgs {
    pub fn options(&self) -> crate::answer::ProbeOptions {
        crate::answer::ProbeOptions {
            url: self.url.clone(),
            request: self.request.spec(),
            timeout_secs: self.timeout,
            cacert: self.cacert.clone(),
            insecure: self.insecure,
            data: self.data.clone(),
            data_file: self.data_file.clone(),
            cookies: self.cookies.clone(),
        }
    }
}

impl FixturesArgs {
    /// The fixtures command to run.
    pub fn command(self) -> crate::fixtures::Cmd {
        let dir = self.dir;
        match self.command {
            FixturesCommand::List { json } => crate::fixtures::Cmd::List { dir, json },
            FixturesCommand::Show { name, stack } => {
                crate::fixtures::Cmd::Show { dir, name, stack }
            }
            FixturesCommand::Verify { names, json } => {
                crate::fixtures::Cmd::Verify { dir, names, json }
            }
            FixturesCommand::New {
                name,
                page,
                from_lab,
                from_har,
                entry,
                url,
                credentials,
                from_probe,
                probe,
            } => crate::fixtures::Cmd::New {
                dir,
                name,
                page_only: page,
                from_lab,
                from_har: from_har.map(|file| crate::fixtures::HarPick {
                    file,
                    entry,
                    url,
                    credentials,
                }),
                from_probe: from_probe.map(|url| crate::answer::ProbeOptions {
                    url,
                    request: crate::answer::RequestSpec {
                        origin: probe.origin.unwrap_or_default(),
                        method: probe.method.unwrap_or_else(|| "GET".to_owned()),
                        headers: probe.headers,
                        credentials: credentials.unwrap_or_default(),
                        mode: crate::browser::Mode::Cors,
                    },
                    timeout_secs: probe.timeout,
                    cacert: probe.cacert,
                    insecure: probe.insecure,
                    data: probe.data,
                    data_file: None,
                    cookies: Vec::new(),
                }),
            },
        }
    }
}

/// `--log-format`, as clap parses it; the journal's [`LogFormat`] stays free of clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(a: LogFormatArg) -> Self {
        match a {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
}

/// `sandbox completions SHELL`: the script for `shell`, generated from these definitions into
/// a buffer (the caller writes it).
pub fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(
        shell,
        &mut <Cli as clap::CommandFactory>::command(),
        "sandbox",
        &mut script,
    );
    script
}

/// `sandbox man`: the roff man page, generated from these definitions into a buffer.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page)?;
    Ok(page)
}
