//! One integration-test binary (one link instead of many; actix-web links slowly).
//! Each module covers one feature against the real `sandbox` binary on loopback.
// Benchmarks and tests stop at the first surprise, with its location; that is what
// unwrap is for here (the lint guards the shipped code).
#![allow(clippy::unwrap_used)]

mod util;

mod answer;
mod anywhere;
mod bad_input;
mod browser_differential;
mod check_browser;
mod config_reload;
mod cookie_differential;
mod cookies_up;
mod element_loads;
mod engine_cache_caps;
mod engine_cookies;
mod engine_marks;
mod engine_mixed;
mod engine_observe;
mod express_differential;
mod fixtures_browser;
mod fixtures_engines;
mod fixtures_verify;
mod from_probe;
mod har;
mod hot_reload;
mod https_origins;
mod lab_browser;
mod lab_everywhere;
mod load;
mod mock_api;
mod openapi_http;
mod ports;
mod probe_real;
mod reload_faults;
mod security;
mod stack_cli;
mod stack_real;
mod up_serve;
