//! Unit tests for the browser model, grouped by rule family. Most are tables: one row per
//! case, so a disagreement reported by the Chromium harness becomes one new row.

mod chromium_differences;
mod har;
mod messages;
mod observed;
mod request_rules;
mod response_rules;
mod scenarios;

use super::{evaluate, FixContext, Scenario, Verdict};

pub(super) const PAGE: &str = "http://frontend.test:8080";
pub(super) const API: &str = "http://api.test:3000/api/x";

pub(super) fn scenario(json: &str) -> Scenario {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("bad scenario JSON: {e}\n{json}"))
}

pub(super) fn eval(json: &str) -> Verdict {
    evaluate(&scenario(json), &FixContext::Generic)
}

pub(super) fn sandbox() -> FixContext {
    FixContext::Sandbox {
        policy_file: "cors.toml".to_owned(),
        exact_mode: false,
    }
}

pub(super) fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}
