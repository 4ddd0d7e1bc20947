//! A mock API behaves like a real one, against the real binary over HTTP: templates and
//! response rules, latency and faults (over a raw socket where HTTP clients would hide them),
//! REST resources with state across reloads and `--persist` across a `kill -9`, and an
//! upstream seen through a restrictive, a permissive and its own CORS policy.
//!
//! This module holds what its topics share: the page origin the policy allows and a project
//! started from a routes file.

mod faults;
mod resources;
mod routes;
mod upstream;

use serde_json::Value;

use crate::util::sandbox::*;

const PAGE: &str = "http://karachi-dev.localhost:8080";

fn policy_allowing(origin: &str) -> String {
    format!(
        "allowed_origins = [\"{origin}\"]\nallowed_methods = [\"GET\", \"POST\", \"PUT\", \"PATCH\", \"DELETE\"]\nallowed_headers = [\"content-type\"]\nexpose_headers = [\"x-total-count\"]\n"
    )
}

/// A project whose routes file is `routes`, started.
fn start(routes: &str, extra: &[(&str, &str)], args: &[&str]) -> (tempfile::TempDir, TestSandbox) {
    let d = project(&policy_allowing(PAGE));
    write(d.path(), "api.toml", routes);
    for (rel, text) in extra {
        write(d.path(), rel, text);
    }
    let mut all = vec!["--config", "sandbox.toml"];
    all.extend_from_slice(args);
    let sb = TestSandbox::start(d.path(), &all);
    (d, sb)
}

fn get_json(url: &str) -> (u16, Value) {
    let res = client().get(url).send().unwrap();
    let status = res.status().as_u16();
    (status, res.json().unwrap_or(Value::Null))
}
