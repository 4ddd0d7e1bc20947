//! `sandbox check PATH`: what the sandbox's own API (its current policy and routes, from
//! the config) would answer the browser, and the verdict — no server is started.

use std::path::PathBuf;

use super::{AnswerError, Output, Report, RequestSpec};
use crate::browser::FixContext;
use crate::config::{self, Overrides};
use crate::journal::{Log, LogFormat};
use crate::simulate;
use crate::state::build_state;

#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub config: Option<PathBuf>,
    /// Which API origin; the first one when absent.
    pub api: Option<String>,
    pub path: String,
    pub request: RequestSpec,
}

pub fn check(opts: &CheckOptions, out: Output) -> Result<Report, AnswerError> {
    let out = out.with_stack(false)?;
    if !opts.path.starts_with('/') {
        return Err(AnswerError::Usage(format!(
            "PATH must start with `/` (got `{}`)",
            opts.path
        )));
    }
    let config = config::resolve(opts.config.as_deref(), &Overrides::default())?;
    let ports: Vec<u16> = config.origins.iter().map(|o| o.port).collect();
    let silent = Log::new(LogFormat::Json, Box::new(std::io::sink()));
    let (state, _) = build_state(&config, &ports, silent)?;
    let index = match &opts.api {
        None if state.apis.is_empty() => return Err(AnswerError::NoApiOrigin),
        None => 0,
        Some(name) => state
            .apis
            .iter()
            .position(|a| &a.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = state.apis.iter().map(|a| a.name.as_str()).collect();
                AnswerError::Usage(format!(
                    "no api origin named `{name}` (api origins: {})",
                    names.join(", ")
                ))
            })?,
    };
    let policy = state.apis[index].policy.load();
    // A path answered by the upstream or a route's own CORS headers gets its fix from
    // `simulate::play`, which knows which it is for each request.
    let ctx = FixContext::Sandbox {
        policy_file: policy.value.fix_target(),
        exact_mode: policy.value.is_exact(),
    };
    let url = format!("{}{}", state.apis[index].url, opts.path);
    let request = opts.request.to_request(&url);
    let hosts = config.host_allowlist();
    let state = std::sync::Arc::new(state);
    // Each engine plays its own exchange: what it sends (a preflight or not, its Origin)
    // decides what the API answers.
    let items: Vec<_> = out
        .engines
        .list()
        .into_iter()
        .flat_map(|b| {
            let steps = [simulate::Step::from(request.clone())];
            simulate::play(state.clone(), index, hosts.clone(), &steps, &ctx, b)
        })
        .map(|p| (p.scenario, p.verdict))
        .collect();
    Ok(out.finish(&items, true))
}
