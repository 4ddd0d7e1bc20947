//! The JSON the `/__sandbox/*` endpoints answer, as types: the one definition of the contract
//! between the sandbox and its pages (the lab, the inspector, scaffolded pages, fixture pages).
//! Built from one snapshot of each store, so a text and its generation always agree.

use serde::Serialize;

use crate::state::{FileStatus, State};

/// `/__sandbox/config.json`: where this sandbox's origins listen.
#[derive(Debug, Serialize)]
pub struct ConfigJson {
    /// The static origin that answered (its name).
    #[serde(rename = "self")]
    pub this: String,
    pub apis: Vec<ApiConfig>,
    pub statics: Vec<OriginUrl>,
}

#[derive(Debug, Serialize)]
pub struct ApiConfig {
    pub name: String,
    pub url: String,
    pub policy_file: String,
    pub policy_mode: &'static str,
}

#[derive(Debug, Serialize)]
pub struct OriginUrl {
    pub name: String,
    pub url: String,
}

/// `/__sandbox/status`: each API's generations and the last reload attempt of every file.
#[derive(Debug, Serialize)]
pub struct StatusJson {
    pub apis: Vec<ApiGenerations>,
    pub reloads: Vec<FileStatus>,
}

#[derive(Debug, Serialize)]
pub struct ApiGenerations {
    pub name: String,
    pub policy_generation: u64,
    pub routes_generation: u64,
}

/// `/__sandbox/in-force`: the policy and routes each API serves now, with their text, and
/// the recent reload attempts.
#[derive(Debug, Serialize)]
pub struct InForceJson {
    pub apis: Vec<ApiInForce>,
    pub reloads: Vec<FileStatus>,
}

#[derive(Debug, Serialize)]
pub struct ApiInForce {
    pub name: String,
    pub url: String,
    pub policy: PolicyInForce,
    pub routes: RoutesInForce,
}

#[derive(Debug, Serialize)]
pub struct PolicyInForce {
    pub file: String,
    pub mode: &'static str,
    pub generation: u64,
    pub text: String,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct RoutesInForce {
    pub file: String,
    pub generation: u64,
    pub text: String,
    pub count: usize,
}

/// What `config.json` answers on static origin `index`.
pub fn config_json(s: &State, index: usize) -> ConfigJson {
    ConfigJson {
        this: s.statics[index].name.clone(),
        apis: s
            .apis
            .iter()
            .map(|a| {
                let p = a.policy.load();
                ApiConfig {
                    name: a.name.clone(),
                    url: a.url.clone(),
                    policy_file: p.value.file_name.clone(),
                    policy_mode: p.value.mode_name(),
                }
            })
            .collect(),
        statics: s
            .statics
            .iter()
            .map(|o| OriginUrl {
                name: o.name.clone(),
                url: o.url.clone(),
            })
            .collect(),
    }
}

pub fn status_json(s: &State) -> StatusJson {
    StatusJson {
        apis: s
            .apis
            .iter()
            .map(|a| ApiGenerations {
                name: a.name.clone(),
                policy_generation: a.policy.load().generation,
                routes_generation: a.routes.load().generation,
            })
            .collect(),
        reloads: s.status.lock().map(|b| b.clone()).unwrap_or_default(),
    }
}

pub fn in_force_json(s: &State) -> InForceJson {
    InForceJson {
        apis: s
            .apis
            .iter()
            .map(|a| {
                let p = a.policy.load();
                let r = a.routes.load();
                ApiInForce {
                    name: a.name.clone(),
                    url: a.url.clone(),
                    policy: PolicyInForce {
                        file: p.value.file_name.clone(),
                        mode: p.value.mode_name(),
                        generation: p.generation,
                        text: p.source.clone(),
                        warnings: p.value.warnings.clone(),
                    },
                    routes: RoutesInForce {
                        file: r.value.file_name.clone(),
                        generation: r.generation,
                        text: r.source.clone(),
                        count: r.value.routes.len(),
                    },
                }
            })
            .collect(),
        reloads: s
            .history
            .lock()
            .map(|h| h.iter().cloned().collect())
            .unwrap_or_default(),
    }
}
