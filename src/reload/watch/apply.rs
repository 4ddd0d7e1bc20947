//! Loading what a reload read and swapping it in: a policy or routes file when its meaning
//! changed, a `sandbox.toml` all or nothing; the worker (`super`) decides when.

use std::path::Path;

use super::{Target, Worker};
use crate::reload::config::{self as config_reload, ConfigApplied};
use crate::reload::fingerprint::fingerprint;
use crate::source_file::LoadError;
use crate::state::load::{load_policy, load_routes, Bytes};

impl Worker {
    /// Records what a config reload read of the files it swapped in, so the watcher does not
    /// report those versions again when it hears of them.
    pub(super) fn remember_loaded(&mut self, c: &ConfigApplied) {
        for f in &c.files {
            let Some(api) = self.state.apis.iter().position(|a| a.name == f.origin) else {
                continue;
            };
            let t = if f.is_policy {
                Target::Policy(api)
            } else {
                Target::Routes(api)
            };
            let planned = self.targets.iter().position(|p| *p == t);
            if let (Some(j), Some(digest)) = (planned, f.digest) {
                let fp = fingerprint(digest, &self.watched.files[j][1..]);
                self.last_seen.insert(t, fp);
            }
        }
    }

    /// Loads target `t` from the bytes its fingerprint saw and swaps it in when its meaning
    /// changed (an edit that changes no meaning only updates the source text in force).
    pub(super) fn apply(
        &mut self,
        t: Target,
        main: Result<Vec<u8>, LoadError>,
    ) -> Result<Applied, LoadError> {
        let unchanged = |generation| Applied {
            generation,
            changed: "no change in meaning".to_string(),
            config: None,
        };
        let file = self.file_ref(t);
        match t {
            Target::Policy(a) => {
                let api = &self.state.apis[a];
                let (p, text) = load_policy(&file, &api.default_allowed, Bytes::Read(main))?;
                let old = api.policy.load();
                Ok(match crate::policy::describe_change(&old.value, &p) {
                    None => unchanged(api.policy.retext(text)),
                    Some(changed) => Applied {
                        generation: api.policy.swap(p, text),
                        changed,
                        config: None,
                    },
                })
            }
            Target::Routes(a) => {
                let api = &self.state.apis[a];
                let (r, text) = load_routes(
                    &file,
                    Bytes::Read(main),
                    &self.state.listeners,
                    &self.state.origin_urls(),
                )?;
                let old = api.routes.load();
                if old.value == r {
                    return Ok(unchanged(api.routes.retext(text)));
                }
                let changed = format!("{} → {} routes", old.value.routes.len(), r.routes.len());
                Ok(Applied {
                    generation: api.routes.swap(r, text),
                    changed,
                    config: None,
                })
            }
            Target::Config => self.apply_config(main),
        }
    }

    /// Validates a new `sandbox.toml` and applies what can be applied live (all or nothing).
    fn apply_config(&mut self, main: Result<Vec<u8>, LoadError>) -> Result<Applied, LoadError> {
        let Some(reload) = &self.config else {
            return Err(LoadError::unreadable(
                Path::new("sandbox.toml"),
                "not watched",
            ));
        };
        // An invalid file names nothing to wait for; a valid one whose files fail to load
        // waits for them.
        let new = reload
            .validate(main)
            .inspect_err(|_| self.config_pending.clear())?;
        let applied = config_reload::apply(&self.state, &new).inspect_err(|_| {
            self.config_pending = config_reload::pending_files(&self.state, &new);
        })?;
        self.config_pending.clear();
        let changed = if applied.changed.is_empty() {
            "no live change".to_string()
        } else {
            self.config_generation += 1;
            applied.changed.join("; ")
        };
        Ok(Applied {
            generation: self.config_generation,
            changed,
            config: Some(applied),
        })
    }
}

/// What a successful reload installed: its generation, a sentence on what changed, and for
/// `sandbox.toml` what else it swapped in and what needs a restart.
pub(super) struct Applied {
    pub(super) generation: u64,
    pub(super) changed: String,
    pub(super) config: Option<ConfigApplied>,
}
