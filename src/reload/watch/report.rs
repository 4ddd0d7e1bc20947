//! How the worker reports each reload attempt: the status board first, then the log line,
//! then the event to open pages, so whoever reacts to the line or the event and then asks
//! `/__sandbox/status` finds this outcome. Messages for pages never carry an absolute path.

use std::path::Path;

use super::{Applied, Target, Worker};
use crate::reload::config::ConfigApplied;
use crate::source_file::LoadError;
use crate::state::{absolute, status_time, Event, FileStatus};

impl Worker {
    pub(super) fn report_success(
        &self,
        t: Target,
        (origin, file): (String, String),
        applied: Applied,
    ) {
        let state = &self.state;
        let Applied {
            generation,
            changed,
            config,
        } = applied;
        // The status board first: whoever sees the log line or the event and then
        // asks /__sandbox/status must find this outcome, not the one before it.
        state.record_status(ok_status(&origin, &file, generation));
        if let Some(c) = &config {
            for f in &c.files {
                state.forget_status(&f.origin, &f.old_file);
                state.record_status(ok_status(&f.origin, &f.file, f.generation));
            }
        }
        state.log.reloaded(&origin, &file, generation, &changed);
        if let Target::Policy(a) = t {
            self.warn_cached_preflight(a);
            self.warn_policy(a);
        }
        if let Some(c) = &config {
            let apis = &state.apis;
            for f in c.files.iter().filter(|f| f.is_policy) {
                if let Some(a) = apis.iter().position(|api| api.name == f.origin) {
                    self.warn_policy(a);
                }
            }
            for what in &c.restart {
                state.log.warning(&format!(
                    "restart required: {what} (set up at startup: stop and run `sandbox up` again to apply it; the rest of {file} is in force)"
                ));
            }
        }
        state.publish(Event::Reloaded {
            origin,
            file,
            generation,
        });
        if let Some(c) = config {
            self.publish_config_applied(c);
        }
    }

    fn warn_cached_preflight(&self, a: usize) {
        let api = &self.state.apis[a];
        if let Some(secs) = api.preflight_cache_remaining() {
            self.state.log.warning(&format!(
                "{}: a browser may answer preflights from its cache for up to {secs} s more (max-age of the last preflight); reload the page with the cache disabled, or lower max_age, to see this change at once",
                api.name
            ));
        }
    }

    /// The policy's lints, and whether it lets none of the sandbox's own static origins
    /// through, after each reload as at start: a save is where a typo or a moved port comes
    /// in, and the terminal is where the user looks.
    fn warn_policy(&self, a: usize) {
        for w in self.state.policy_warnings(a) {
            self.state.log.warning(&w);
        }
    }

    /// Open pages hear of each file a config reload swapped in, and static pages whose root
    /// moved reload.
    fn publish_config_applied(&self, c: ConfigApplied) {
        for f in c.files {
            self.state.publish(Event::Reloaded {
                origin: f.origin,
                file: f.file,
                generation: f.generation,
            });
        }
        for origin in c.roots {
            self.state.publish(Event::StaticChanged {
                origin: self.state.statics[origin].name.clone(),
                files: Vec::new(),
                css_only: false,
            });
        }
    }

    pub(super) fn report_failure(
        &self,
        t: Target,
        (origin, file): (String, String),
        e: &LoadError,
    ) {
        let state = &self.state;
        let generation = match t {
            Target::Policy(a) => state.apis[a].policy.load().generation,
            Target::Routes(a) => state.apis[a].routes.load().generation,
            Target::Config => self.config_generation,
        };
        let (line, column) = e.line_col().unzip();
        let (at, at_ms) = status_time();
        state.record_status(FileStatus {
            origin: origin.clone(),
            file: file.clone(),
            generation,
            ok: false,
            error: Some(event_message(e)),
            line,
            column,
            at,
            at_ms,
        });
        state
            .log
            .reload_failed(&origin, &file, &e.one_line(), &e.render());
        state.publish(Event::ReloadFailed {
            origin,
            file,
            line,
            column,
            message: event_message(e),
        });
    }
}

fn ok_status(origin: &str, file: &str, generation: u64) -> FileStatus {
    let (at, at_ms) = status_time();
    FileStatus {
        origin: origin.to_string(),
        file: file.to_string(),
        generation,
        ok: true,
        error: None,
        line: None,
        column: None,
        at,
        at_ms,
    }
}

/// The error without the absolute path: events go to pages, which must not learn the
/// layout of the disk.
fn event_message(e: &LoadError) -> String {
    let message = match e {
        LoadError::Unreadable { reason, .. } => reason.clone(),
        LoadError::Invalid(s) => match &s.help {
            Some(h) => format!("{} (hint: {h})", s.message),
            None => s.message.clone(),
        },
    };
    without_folder(&message, e.path())
}

/// `message` with the folder of `file` left out, so names read relative to it: loaders
/// sometimes name a resolved path (`data.json` is outside /home/…), which a page must not see.
fn without_folder(message: &str, file: &Path) -> String {
    let mut out = message.to_string();
    let given = std::env::current_dir().unwrap_or_default().join(file);
    let folders = [absolute(file), given]
        .into_iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf));
    for dir in folders {
        let dir = dir.display().to_string();
        if dir.len() > 1 {
            out = out.replace(&format!("{dir}/"), "").replace(&dir, ".");
        }
    }
    out
}
