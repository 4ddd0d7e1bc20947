//! What the journal keeps of a browser verdict: the outcome, Chromium's error name, message
//! and fix, and the two log texts written from them once.

use serde::Serialize;

use crate::browser::{CorsError, Outcome, Verdict};

/// What the log keeps of a verdict.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VerdictSummary {
    pub outcome: Outcome,
    pub cors_error: Option<CorsError>,
    pub failed_parameter: Option<String>,
    pub message: Option<String>,
    pub fix: Option<String>,
    /// Chromium's reason without the URLs, for the text log.
    #[serde(skip)]
    reason: Option<String>,
    /// [`VerdictSummary::short`] and [`VerdictSummary::brief`], written once: the memo hands
    /// the same summary to every request that repeats an exchange, and each of them logs it.
    #[serde(skip)]
    short: String,
    #[serde(skip)]
    brief: String,
}

impl VerdictSummary {
    /// What the journal keeps of `v`; [`VerdictSummary::finish`] writes its log texts.
    pub fn from_verdict(v: &Verdict) -> Self {
        VerdictSummary {
            outcome: v.outcome,
            cors_error: v.cors_error,
            failed_parameter: v.failed_parameter.clone(),
            message: v.message.clone(),
            fix: v.fix.clone(),
            reason: v.reason.clone(),
            short: String::new(),
            brief: String::new(),
        }
    }

    /// `✓ allowed` or `✗ blocked: <Chromium's reason> → <fix>` for the text log.
    pub fn short(&self) -> &str {
        &self.short
    }

    /// `✓ allowed` or `✗ <Chromium's error name> → <fix>`: for the verdict a request would
    /// get with credentials, beside its own verdict on the same line. Chromium's full sentence
    /// is in the JSON log and the inspector; repeated on every line it tripled the line.
    pub fn brief(&self) -> &str {
        &self.brief
    }

    /// Writes the log texts once, so every request repeating the exchange shares them.
    pub fn finish(mut self) -> Self {
        self.short = self.render_short();
        self.brief = match (self.outcome, &self.cors_error, &self.fix) {
            (Outcome::Allowed, ..) => "✓ allowed".into(),
            (Outcome::Blocked, e, fix) => {
                let name = e.map_or("blocked", CorsError::name);
                match fix {
                    Some(f) => format!("✗ {name} → {f}"),
                    None => format!("✗ {name}"),
                }
            }
        };
        self
    }

    fn render_short(&self) -> String {
        match self.outcome {
            Outcome::Allowed => "✓ allowed".into(),
            Outcome::Blocked => {
                let reason = self
                    .reason
                    .as_deref()
                    .or(self.message.as_deref())
                    .unwrap_or("blocked");
                match &self.fix {
                    Some(f) => format!("✗ blocked: {reason} → {f}"),
                    None => format!("✗ blocked: {reason}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::browser::CATALOGUE;

    /// The JSON log and `/__sandbox/requests` carry the error as its DevTools name.
    #[test]
    fn every_cors_error_serialises_as_its_devtools_name() {
        for e in CATALOGUE {
            let json = serde_json::to_value(e.error).unwrap();
            assert_eq!(json, serde_json::json!(e.error.name()));
        }
    }
}
