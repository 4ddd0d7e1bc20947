//! `--stack`, `--stack-config` and `--read-header`: the fix in the user's own stack, added
//! to each verdict (`stack_fix` in JSON, the snippet under the verdict in text).

use std::path::PathBuf;
use std::sync::Arc;

use super::AnswerError;
use crate::browser::{Scenario, Verdict};
use crate::stack::{self, Stack, StackFix, StackRequest};

/// The flags as given.
#[derive(Debug, Clone, Default)]
pub struct StackOpts {
    pub stack: Option<Stack>,
    pub config: Option<PathBuf>,
    pub read_headers: Vec<String>,
}

/// The flags with `--stack-config` read. Without `--stack`, a plan exists only where the
/// answers may name the stack (probe, which talks to the real server).
#[derive(Debug, Clone)]
pub struct StackPlan {
    request: Arc<StackRequest>,
}

/// Parses `--stack NAME`.
pub fn parse_stack(s: &str) -> Result<Stack, String> {
    Stack::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Stack::ALL.iter().map(|k| k.as_str()).collect();
        format!("`{s}`: expected one of {}", names.join(", "))
    })
}

impl StackOpts {
    /// Reads `--stack-config`; `None` when no stack fix is asked for and none may be
    /// detected.
    pub fn plan(&self, detect: bool) -> Result<Option<StackPlan>, AnswerError> {
        if self.config.is_some() && self.stack.is_none() {
            return Err(AnswerError::Usage(
                "--stack-config needs --stack to say whose options the file holds".into(),
            ));
        }
        if self.stack.is_none() && !detect {
            return Ok(None);
        }
        let current = match (&self.config, self.stack) {
            (Some(path), Some(stack)) => {
                let shown = path.display().to_string();
                let text = std::fs::read_to_string(path).map_err(|e| AnswerError::Read {
                    path: shown.clone(),
                    reason: e.to_string(),
                })?;
                Some(
                    stack::read_config(stack, &shown, &text)
                        .map_err(|e| AnswerError::Usage(format!("--stack-config {e}")))?,
                )
            }
            _ => None,
        };
        Ok(Some(StackPlan {
            request: Arc::new(StackRequest {
                stack: self.stack,
                current,
                read_headers: self.read_headers.clone(),
            }),
        }))
    }
}

impl StackPlan {
    pub fn fix(&self, s: &Scenario, v: &Verdict) -> Option<StackFix> {
        stack::fix(&self.request, s, v)
    }
}

/// The text under a verdict: where the stack came from, the snippet, the cautions.
pub fn render_text(f: &StackFix) -> String {
    let mut out = String::new();
    if let Some(line) = &f.detected_from {
        out.push_str(&format!(
            "stack: {} (detected from {line}; say --stack to choose)\n",
            f.stack.as_str()
        ));
    }
    out.push_str(&f.text);
    if f.from != "--stack-config" {
        out.push_str(
            "(read from the server's answers; give --stack-config FILE with your own options \
             for a change to exactly them)\n",
        );
    }
    for w in &f.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}
